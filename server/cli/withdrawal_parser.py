"""The arguments of `mecene withdrawals list|batch|file|others|executed|return`: money out, by the operator;
`withdrawal_commands` runs them, imported only then."""

import re
from argparse import ArgumentTypeError, Namespace
from collections.abc import Coroutine
from contextlib import suppress
from datetime import date
from typing import Any

from server.cli.paths import settings_of

#: The states of a withdrawal (`settlement.models.WITHDRAWAL_STATES`), written out: the parser imports nothing of
#: settlement.
STATES = ("requested", "batched", "paid", "returned", "canceled")


def add_withdrawal_commands(sub: Any) -> None:
    withdrawals = sub.add_parser("withdrawals", help="creators' withdrawals: batches, their bank files, lines that "
                                                     "came back").add_subparsers(dest="action", required=True)
    listed = withdrawals.add_parser("list", help="every withdrawal, newest first, then what waits per currency and "
                                                 "the batches")
    listed.add_argument("--state", choices=STATES, help="only the withdrawals in this state")
    listed.set_defaults(run=_list)
    batch = withdrawals.add_parser("batch", help="approve the waiting withdrawals of a currency into a new batch")
    batch.add_argument("currency", help="e.g. EUR")
    batch.add_argument("public_ids", nargs="*", metavar="PUBLIC_ID", help="only these withdrawals (W…, see `mecene "
                                                                          "withdrawals list`); default: all waiting")
    batch.set_defaults(run=_batch)
    _add_file_commands(withdrawals)
    executed = withdrawals.add_parser("executed", help="the bank ran the batch: its lines are paid")
    executed.add_argument("batch", help="the batch's public id (B…)")
    executed.set_defaults(run=_executed)
    returned = withdrawals.add_parser("return", help="a line the bank refused or sent back: its money available to "
                                                     "the creator again")
    returned.add_argument("public_id", help="the withdrawal's public id (W…)")
    returned.add_argument("reason", help="why it came back, which the creator reads")
    returned.set_defaults(run=_return)


def _add_file_commands(withdrawals: Any) -> None:
    sepa = withdrawals.add_parser("file", help="the batch's SEPA credit transfer file (pain.001.001.03) for your "
                                               "bank: its euro lines to an IBAN")
    sepa.add_argument("batch", help="the batch's public id (B…)")
    sepa.add_argument("--out", help="the file to write (default: standard output)")
    sepa.add_argument("--date", type=_day, help="the execution date asked of the bank, YYYY-MM-DD (default: today)")
    sepa.set_defaults(run=_file)
    others = withdrawals.add_parser("others", help="the batch's other lines, to pay by hand, as CSV")
    others.add_argument("batch", help="the batch's public id (B…)")
    others.set_defaults(run=_others)


def _day(text: str) -> date:
    """Only YYYY-MM-DD: Python would also read 20270115 or 2027-W03, which an operator more likely mistyped."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        with suppress(ValueError):
            return date.fromisoformat(text)
    raise ArgumentTypeError(f"{text!r} is not a date: write it YYYY-MM-DD")


def _list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.withdrawal_commands import list_withdrawals
    return list_withdrawals(settings_of(args), args.state)


def _batch(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.withdrawal_commands import batch
    return batch(settings_of(args), args.currency, args.public_ids)


def _file(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.withdrawal_commands import sepa_file
    return sepa_file(settings_of(args), args.batch, args.out, args.date)


def _others(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.withdrawal_commands import other_lines
    return other_lines(settings_of(args), args.batch)


def _executed(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.withdrawal_commands import executed
    return executed(settings_of(args), args.batch)


def _return(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.withdrawal_commands import return_line
    return return_line(settings_of(args), args.public_id, args.reason)
