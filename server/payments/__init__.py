"""Money in: the adapters to payment providers and the top-up, refund and receipt services they share.

`stripe_gateway` talks to Stripe's API (the official SDK), `stripe_events`
applies its signed webhooks to the books, `bank_transfers` gives donors a
reference and matches what the operator's bank received; `providers` holds
the ones the operator enabled, `wallet_service` is what the pages, the API
and the CLI call, and `receipts` what a donor's history and receipts show.
The books themselves are `settlement.topups`, `refunds` and `disputes`; this
package is where their providers' outside world is, and only `server` uses it.
"""
