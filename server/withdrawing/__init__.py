"""Money out: creators' payout details and withdrawals, and the operator's batches and their bank files.

`service` is what the pages, the API and the CLI call (every refusal a
`Refusal`, raised before anything is written); `bank_files` writes a batch as
the ISO 20022 pain.001 credit transfer file a bank runs (with `sepaxml`,
checked against the schema) and the list of the lines paid by hand. The books
are `settlement.withdrawals` and `settlement.payout_details`.
"""
