"""The arguments of `mecene clearing list|paid|confirm|dispute`; `clearing_commands` runs them, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of
from server.cli.peer_parser import host_arguments


def add_clearing_commands(sub: Any) -> None:
    clearing = sub.add_parser("clearing", help="settle what this instance and its peers owe each other, by bank "
                                               "transfer").add_subparsers(dest="action", required=True)
    clearing.add_parser("list", help="per peer: what each side owes, what to pay, where, with which reference, "
                                     "and what its last statement showed").set_defaults(run=_list)
    paid = clearing.add_parser("paid", help="record a bank transfer you made to a peer; the peer is told")
    host_arguments(paid)
    paid.add_argument("amount", help='what you transferred, e.g. "120.00"')
    paid.add_argument("--reference", required=True, help="the reference the transfer carried (see `mecene clearing "
                                                          "list`)")
    paid.set_defaults(run=_paid)
    confirm = clearing.add_parser("confirm", help="confirm that a peer's transfer reached your bank account")
    host_arguments(confirm)
    confirm.set_defaults(run=_confirm)
    dispute = clearing.add_parser("dispute", help="say that a peer's transfer did not arrive as its notice says")
    host_arguments(dispute)
    dispute.set_defaults(run=_dispute)


def _list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.clearing_commands import list_clearings
    return list_clearings(settings_of(args))


def _paid(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.clearing_commands import record_paid
    return record_paid(settings_of(args), args.host, args.amount, args.currency, args.reference)


def _confirm(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.clearing_commands import confirm
    return confirm(settings_of(args), args.host, args.currency)


def _dispute(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.clearing_commands import dispute
    return dispute(settings_of(args), args.host, args.currency)
