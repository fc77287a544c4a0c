"""The arguments of `mecene topups list|receive|import|refund|retry-refunds|decline`: money in, by the operator;
`payin_commands` runs them, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of

#: The states of a top-up (`settlement.models.TOPUP_STATES`), written out: the parser imports nothing of settlement.
STATES = ("awaiting", "failed", "confirmed")


def add_payin_commands(sub: Any) -> None:
    topups = sub.add_parser("topups", help="donors' top-ups: transfers received, refunds, refund "
                                           "requests").add_subparsers(dest="action", required=True)
    listed = topups.add_parser("list", help="every top-up, newest first, then refund requests, open disputes and "
                                            "refunds left unsent")
    listed.add_argument("--state", choices=STATES, help="only the top-ups in this state")
    listed.set_defaults(run=_list)
    receive = topups.add_parser("receive", help="record a bank transfer that reached your account")
    receive.add_argument("text", help="its remittance text, holding the donor's MCN-XXXX-XXXX reference")
    receive.add_argument("amount", help='what arrived, e.g. "25.00"')
    receive.set_defaults(run=_receive)
    imported = topups.add_parser("import", help="record the credits of a bank's CSV export (header: reference or "
                                                "description, amount, optional currency)")
    imported.add_argument("file", help="the CSV file, or - for standard input")
    imported.set_defaults(run=_import)
    _add_refund_commands(topups)


def _add_refund_commands(topups: Any) -> None:
    refund = topups.add_parser("refund", help="pay a top-up back to its donor, whole or in part")
    refund.add_argument("public_id", help="the top-up's public id (T…, see `mecene topups list`)")
    refund.add_argument("--amount", help="what to pay back (default: all that may still go back)")
    refund.add_argument("--reference", default="", help="for a bank or hand top-up: the reference of the transfer "
                                                        "back you made first")
    refund.set_defaults(run=_refund)
    topups.add_parser("retry-refunds", help="send again the refunds a stopped process never sent").set_defaults(
        run=_retry_refunds)
    decline = topups.add_parser("decline", help="decline a donor's refund request, saying why")
    decline.add_argument("username")
    decline.add_argument("reason", help="what the donor reads")
    decline.set_defaults(run=_decline)


def _list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.payin_commands import list_topups
    return list_topups(settings_of(args), args.state)


def _receive(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.payin_commands import receive
    return receive(settings_of(args), args.text, args.amount)


def _import(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.payin_commands import import_statement
    return import_statement(settings_of(args), args.file)


def _refund(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.payin_commands import refund
    return refund(settings_of(args), args.public_id, args.amount, args.reference)


def _retry_refunds(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.payin_commands import retry_refunds
    return retry_refunds(settings_of(args))


def _decline(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.payin_commands import decline
    return decline(settings_of(args), args.username, args.reason)
