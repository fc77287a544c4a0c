"""Where federation meets settlement: money moved by activities, and activities sent for money.

- `closing`: which authors are ours, which hosts take Payouts, closing periods, escrow's release;
- `sending`: our Payouts, of periods and of claims, signed and queued for their instances;
- `flattr_inbox`, `payout_inbox`: the inbox handlers for `Flattr` and for `Payout` and its answers;
- `link_claims`, `alias_claims`: escrow claimed by a linked account, or by a two-way alias;
- `tick`: the scheduler that runs all of it.

May import `federation`, `settlement` and the server's shared services; the
API, web, bot and CLI use it, never the other way round.
"""
