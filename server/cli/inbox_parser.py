"""The arguments of `mecene inbox`; `inbox_commands` runs it, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of


def add_inbox_commands(sub: Any) -> None:
    inbox = sub.add_parser("inbox", help="received activities waiting to be processed, and the failed ones")
    inbox.add_argument("--failed", action="store_true", help="list failed items only")
    inbox.add_argument("--retry", type=int, metavar="ID", help="try a failed item again")
    inbox.set_defaults(run=_inbox)


def _inbox(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.inbox_commands import inbox_items
    return inbox_items(settings_of(args), args.failed, args.retry)
