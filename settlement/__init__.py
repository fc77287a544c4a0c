"""Settlement: exact money, budgets, shares, the ledger, closes and payouts; nothing about HTTP or ActivityPub.

Imports only `common`; only `server` imports it.
"""
