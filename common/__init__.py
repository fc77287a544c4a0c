"""What every package of Mecene may build on, and which imports nothing of Mecene itself.

`states`: the declared state graphs of stateful tables; `sql`: the UTC column
type and the conflict-aware inserts that every package's tables use;
`supervision`: the loop every background worker runs in.
`federation`, `settlement`, `server` and `config` may import it; it imports
none of them (`tests/test_layers.py`).
"""
