"""`mecene demo`: its run (`run`), its instances (`sites`), its report (`report`) and a plain fediverse server.

`plain_peer` stands in for a server that has never heard of Mecene (the tests
use it too); `ports` finds free loopback ports for instances side by side.
Only the CLI imports this package; nothing here is imported by a running
instance.
"""
