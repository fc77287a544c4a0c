"""`mecene peers propose|accept|decline|end|list`: agreements with other Mecene instances, from the command line.

Each command calls `server.peering`, as the /admin/peers page does: a refusal
(bad input, a host that runs no Mecene, nothing to answer) is printed as
`mecene: …` with exit status 1, and nothing changed. What a command sends is
queued in the database, where the running server's delivery worker finds it.
"""

from typing import Any

from config.settings import Settings
from server import peering
from server.cli.paths import settings_of
from server.cli.shared import opened
from server.peering import Listed, Typed, limit_text
from settlement import agreements

COLUMNS = ("host", "currency", "state", "proposed by", "our limit", "their limit", "we are paid at",
           "they are paid at", "since")


def add_peer_commands(sub: Any) -> None:
    peers = sub.add_parser("peers", help="agreements with other Mecene instances").add_subparsers(
        dest="action", required=True)
    propose = peers.add_parser("propose", help="offer another Mecene instance an agreement on your terms")
    _terms_arguments(propose)
    propose.set_defaults(run=lambda a: propose_agreement(settings_of(a), a))
    accept = peers.add_parser("accept", help="accept the agreement another instance offered, on your terms")
    _terms_arguments(accept)
    accept.set_defaults(run=lambda a: accept_agreement(settings_of(a), a))
    decline = peers.add_parser("decline", help="decline the agreement another instance offered")
    _host_arguments(decline)
    decline.set_defaults(run=lambda a: decline_agreement(settings_of(a), a.host, a.currency))
    end = peers.add_parser("end", help="end an agreement (no new payouts; what is owed stays owed), or withdraw "
                                       "your proposal")
    _host_arguments(end)
    end.set_defaults(run=lambda a: end_agreement(settings_of(a), a.host, a.currency))
    peers.add_parser("list", help="every agreement, its state and both sides' terms").set_defaults(
        run=lambda a: list_agreements(settings_of(a)))


def _host_arguments(parser: Any) -> None:
    parser.add_argument("host", help="the other instance: example.org, or example.org:8443")
    parser.add_argument("--currency", help="ISO 4217 code (default: this instance's currency)")


def _terms_arguments(parser: Any) -> None:
    _host_arguments(parser)
    parser.add_argument("--credit-limit", required=True, metavar="AMOUNT",
                        help='the most the other instance may owe you, e.g. "500.00" (0: nothing)')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--iban", help="the IBAN the other instance pays you at (with --holder)")
    where.add_argument("--instructions", help="how the other instance pays you, when not to an IBAN")
    parser.add_argument("--holder", help="the name of the IBAN's account holder")


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
