"""The arguments of `mecene block add|remove|list`; `operator_commands` runs them, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of


def add_block_commands(sub: Any) -> None:
    blocks = sub.add_parser("block", help="domains this instance refuses to federate with").add_subparsers(
        dest="action", required=True)
    add = blocks.add_parser("add", help="refuse a domain's activities and stop delivering to it")
    add.add_argument("domain", help="example.com (with its subdomains) or example.com:8443 (that port only)")
    add.add_argument("--reason", default="", help="why, for the other operators")
    add.set_defaults(run=_block_add)
    remove = blocks.add_parser("remove", help="federate with a blocked domain again")
    remove.add_argument("domain")
    remove.set_defaults(run=_block_remove)
    blocks.add_parser("list", help="the blocked domains").set_defaults(run=_block_list)


def _block_add(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.operator_commands import block_add
    return block_add(settings_of(args), args.domain, args.reason)


def _block_remove(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.operator_commands import block_remove
    return block_remove(settings_of(args), args.domain)


def _block_list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.operator_commands import block_list
    return block_list(settings_of(args))
