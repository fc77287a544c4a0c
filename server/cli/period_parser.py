"""The arguments of `mecene period close`; `period_commands` runs it, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of


def add_period_commands(sub: Any) -> None:
    period = sub.add_parser("period", help="settlement periods").add_subparsers(dest="action", required=True)
    close = period.add_parser("close", help="close an ended period (default: the previous one)")
    close.add_argument("--period", help="YYYY-MM (YYYY-MM-DD for daily periods)")
    close.add_argument("--dry-run", action="store_true", help="show what would move, write nothing")
    close.set_defaults(run=_period_close)


def _period_close(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.period_commands import period_close
    return period_close(settings_of(args), args.period, args.dry_run)
