"""What every package of Mecene may build on, and which imports nothing of Mecene itself.

Today: `states`, the declared state graphs of stateful tables. `federation`,
`settlement`, `server` and `config` may import it; it imports none of them
(`tests/test_layers.py`).
"""
