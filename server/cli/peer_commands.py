"""`mecene peers propose|accept|decline|end|list`: agreements with other Mecene instances, from the command line.

Each command calls `server.peering`, as the /admin/peers page does: a refusal
(bad input, a host that runs no Mecene, nothing to answer) is printed as
`mecene: …` with exit status 1, and nothing changed. What a command sends is
queued in the database, where the running server's delivery worker finds it.
"""

from typing import Any

from config.settings import Settings
from server import peering
from server.cli.shared import opened
from server.peering import Listed, Typed, limit_text
from settlement import agreements

COLUMNS = ("host", "currency", "state", "proposed by", "our limit", "their limit", "we are paid at",
           "they are paid at", "since")


def _typed(settings: Settings, args: Any) -> Typed:
    return Typed(args.currency or settings.instance.currency, args.credit_limit, iban=args.iban,
                 account_holder=args.holder, instructions=args.instructions)


async def propose_agreement(settings: Settings, args: Any) -> int:
    async with opened(settings) as instance:
        agreement = await peering.propose(instance, args.host, _typed(settings, args))
    print(f"Proposed to {agreement.peer_host} in {agreement.currency}: they may owe you at most "
          f"{limit_text(agreement.credit_limit, agreement.currency)}. Waiting for their answer "
          "(`mecene peers list`); the running server sends the offer.")
    return 0


async def accept_agreement(settings: Settings, args: Any) -> int:
    async with opened(settings) as instance:
        agreement = await peering.accept(instance, args.host, _typed(settings, args))
    print(f"Agreement with {agreement.peer_host} in {agreement.currency} in force: they may owe you at most "
          f"{limit_text(agreement.credit_limit, agreement.currency)}, you them at most "
          f"{limit_text(agreement.peer_credit_limit, agreement.currency)}.")
    return 0


async def decline_agreement(settings: Settings, host: str, currency: str | None) -> int:
    async with opened(settings) as instance:
        agreement = await peering.decline(instance, host, currency or settings.instance.currency)
    print(f"Declined the offer of {agreement.peer_host} in {agreement.currency}; they are told.")
    return 0


async def end_agreement(settings: Settings, host: str, currency: str | None) -> int:
    async with opened(settings) as instance:
        agreement = await peering.end(instance, host, currency or settings.instance.currency)
    done = "Ended the agreement with" if agreement.state == agreements.ENDED else "Withdrew the proposal to"
    print(f"{done} {agreement.peer_host} in {agreement.currency}; they are told. No new payouts go under it; "
          "what is owed stays owed until cleared.")
    return 0


async def list_agreements(settings: Settings) -> int:
    async with opened(settings) as instance:
        found = await peering.listed(instance)
    if not found:
        print("No agreement yet: `mecene peers propose HOST …` offers one.")
        return 0
    print("\t".join(COLUMNS))
    for listed in found:
        print("\t".join(_row(listed)))
    return 0


def _row(listed: Listed) -> list[str]:
    agreement = listed.agreement
    return [agreement.peer_host, agreement.currency, agreement.state, "us" if agreement.proposed_by_us else "them",
            listed.our_limit, listed.their_limit, listed.our_payment, listed.their_payment,
            f"{agreement.created_at:%Y-%m-%d}"]
