"""`mecene`: the command line of an instance.

Every command loads the configuration first, so a bad value stops it with
the key's name and exit status 2 before anything is touched.

Only the `*_parser` modules are imported here: a command's implementation,
and with it the server, is imported when that command runs, so `--help` and
argument errors answer without loading the instance.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from config.settings import ConfigError
from server.cli.clearing_parser import add_clearing_commands
from server.cli.demo_parser import add_demo_command
from server.cli.errors import CommandError
from server.cli.inbox_parser import add_inbox_commands
from server.cli.instance_parser import add_instance_commands
from server.cli.money_parser import add_money_commands
from server.cli.operator_parser import add_block_commands
from server.cli.payin_parser import add_payin_commands
from server.cli.peer_parser import add_peer_commands
from server.cli.period_parser import add_period_commands
from server.cli.report_parser import add_report_commands
from server.cli.withdrawal_parser import add_withdrawal_commands
from server.refusal import Refusal
from settlement.periods import PeriodError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mecene", description="Federated micro-donations for the fediverse.")
    parser.add_argument("--config", help="instance configuration file (default: data/mecene.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    add_instance_commands(sub)
    add_money_commands(sub)
    add_payin_commands(sub)
    add_withdrawal_commands(sub)
    add_report_commands(sub)
    add_block_commands(sub)
    add_peer_commands(sub)
    add_clearing_commands(sub)
    add_inbox_commands(sub)
    add_period_commands(sub)
    add_demo_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], Any] = args.run
    try:
        result = run(args)
        if not getattr(args, "sync", False):
            result = asyncio.run(result)
    except ConfigError as exc:
        print(f"mecene: configuration error: {exc}", file=sys.stderr)
        return 2
    except (CommandError, PeriodError, Refusal) as exc:
        print(f"mecene: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mecene: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
