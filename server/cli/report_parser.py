"""The arguments of the operator's money reports: `mecene ledger check`, `mecene statements`, `mecene escrow`;
`report_commands` runs them, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of


def add_report_commands(sub: Any) -> None:
    ledger_parser = sub.add_parser("ledger", help="the double-entry ledger").add_subparsers(
        dest="action", required=True)
    ledger_parser.add_parser("check", help="prove that every transaction balances per currency").set_defaults(
        run=_ledger_check)

    report = sub.add_parser("statements", help="what this instance owes each other instance and is owed, per period")
    report.set_defaults(run=_statements)

    escrow_parser = sub.add_parser("escrow", help="money held for creators whose server has no Mecene").add_subparsers(
        dest="action", required=True)
    escrow_parser.add_parser("list", help="what escrow holds, per author, and when it returns").set_defaults(
        run=_escrow_list)
    escrow_parser.add_parser("release", help="return to the donors what has passed its claim window").set_defaults(
        run=_escrow_release)


def _ledger_check(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.report_commands import ledger_check
    return ledger_check(settings_of(args))


def _statements(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.report_commands import statements_report
    return statements_report(settings_of(args))


def _escrow_list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.report_commands import escrow_list
    return escrow_list(settings_of(args))


def _escrow_release(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.report_commands import escrow_release
    return escrow_release(settings_of(args))
