"""Settlement: exact money, budgets, shares and the ledger; nothing about HTTP."""
