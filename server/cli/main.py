"""`mecene`: the command line of an instance.

Every command loads the configuration first, so a bad value stops it with
the key's name and exit status 2 before anything is touched.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.settings import ConfigError
from server.cli import (
    inbox_commands,
    instance_commands,
    money_commands,
    operator_commands,
    peer_commands,
    period_commands,
    report_commands,
)
from server.cli.paths import data_dir, settings_of
from server.cli.shared import CommandError
from server.demo import run as demo
from server.demo.run import DemoFailed
from server.refusal import Refusal
from settlement.periods import PeriodError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mecene", description="Federated micro-donations for the fediverse.")
    parser.add_argument("--config", help="instance configuration file (default: data/mecene.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create a new instance in the data folder")
    init.add_argument("--domain", default="localhost:8080", help="public host[:port] of the instance")
    init.set_defaults(run=lambda a: instance_commands.init(data_dir(), a.domain))

    serve = sub.add_parser("serve", help="serve the instance over HTTP")
    serve.add_argument("--host", help="address to listen on (default from configuration)")
    serve.add_argument("--port", type=int, help="port to listen on (default from configuration)")
    serve.set_defaults(run=lambda a: instance_commands.serve(settings_of(a), a.host, a.port), sync=True)

    user = sub.add_parser("user", help="local accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--display-name", default="")
    add.add_argument("--admin", action="store_true", help="may open the operator pages and credit wallets")
    add.set_defaults(run=lambda a: instance_commands.user_add(settings_of(a), a.name, a.display_name, a.admin))
    user.add_parser("list", help="list accounts").set_defaults(
        run=lambda a: instance_commands.user_list(settings_of(a)))
    password = user.add_parser("password", help="set an account's password for the web (asked twice)")
    password.add_argument("name")
    password.add_argument("--stdin", action="store_true", help="read the password from one line of standard input")
    password.set_defaults(run=lambda a: operator_commands.user_password(settings_of(a), a.name, a.stdin))

    config = sub.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    config.add_parser("show", help="print the effective configuration").set_defaults(
        run=lambda a: instance_commands.config_show(settings_of(a)), sync=True)

    deliveries = sub.add_parser("deliveries", help="the outgoing delivery queue and dead letters")
    deliveries.add_argument("--dead", action="store_true", help="list dead letters only")
    deliveries.add_argument("--retry", type=int, metavar="ID", help="queue a dead letter again")
    deliveries.set_defaults(run=lambda a: instance_commands.deliveries(settings_of(a), a.dead, a.retry))

    follow = sub.add_parser("follow", help="make a local account follow a remote one")
    follow.add_argument("name")
    follow.add_argument("account", help="name@host of the account to follow")
    follow.set_defaults(run=lambda a: instance_commands.follow(settings_of(a), a.name, a.account))
    _add_money_commands(sub)
    report_commands.add_report_commands(sub)
    operator_commands.add_block_commands(sub)
    peer_commands.add_peer_commands(sub)
    inbox_commands.add_inbox_commands(sub)
    _add_settlement_commands(sub)
    _add_demo_command(sub)
    return parser


def _add_demo_command(sub: Any) -> None:
    run = sub.add_parser("demo", help="three local instances and a plain fediverse server, flattring and settling")
    run.add_argument("--data", type=Path, help="an empty folder for the instances (default: a temporary one, "
                                               "removed at exit)")
    run.add_argument("--no-wait", action="store_true", help="exit after the report instead of serving until Ctrl-C")
    run.set_defaults(run=lambda a: demo.run(a.data, wait=not a.no_wait))


def _add_settlement_commands(sub: Any) -> None:
    period = sub.add_parser("period", help="settlement periods").add_subparsers(dest="action", required=True)
    close = period.add_parser("close", help="close an ended period (default: the previous one)")
    close.add_argument("--period", help="YYYY-MM (YYYY-MM-DD for daily periods)")
    close.add_argument("--dry-run", action="store_true", help="show what would move, write nothing")
    close.set_defaults(run=lambda a: period_commands.period_close(settings_of(a), a.period, a.dry_run))


def _add_money_commands(sub: Any) -> None:
    token = sub.add_parser("token", help="personal access tokens for the API").add_subparsers(
        dest="action", required=True)
    create = token.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument("--label", default="", help="what the token is for")
    create.set_defaults(run=lambda a: money_commands.token_create(settings_of(a), a.name, a.label))

    wallet = sub.add_parser("wallet", help="wallets").add_subparsers(dest="action", required=True)
    topup = wallet.add_parser("topup", help="credit a wallet by hand (manual payment provider)")
    topup.add_argument("name")
    topup.add_argument("amount", help='decimal amount with a dot, e.g. "10.00"')
    topup.add_argument("--reference", help="idempotency key: the same reference credits once")
    topup.set_defaults(run=lambda a: money_commands.wallet_topup(settings_of(a), a.name, a.amount, a.reference))

    show = wallet.add_parser("show", help="wallet, budget and this period's flattrs with their value now")
    show.add_argument("name")
    show.set_defaults(run=lambda a: money_commands.wallet_show(settings_of(a), a.name))

    budget = sub.add_parser("budget", help="monthly budgets").add_subparsers(dest="action", required=True)
    budget_set = budget.add_parser("set", help="set an account's monthly budget (0 pauses spending)")
    budget_set.add_argument("name")
    budget_set.add_argument("amount")
    budget_set.set_defaults(run=lambda a: money_commands.budget_set(settings_of(a), a.name, a.amount))

    thing = sub.add_parser("thing", help="things offered for flattring").add_subparsers(dest="action", required=True)
    thing_add = thing.add_parser("add", help="offer a URL (with --title) or a note (with --text)")
    thing_add.add_argument("name")
    thing_add.add_argument("--url")
    thing_add.add_argument("--title", default="")
    thing_add.add_argument("--text", default="")
    thing_add.set_defaults(run=lambda a: money_commands.thing_add(settings_of(a), a.name, a.url, a.title, a.text))

    link = sub.add_parser("link", help="linking Mastodon accounts").add_subparsers(dest="action", required=True)
    code = link.add_parser("code", help="print a one-time code to send the bot from a Mastodon account")
    code.add_argument("name")
    code.set_defaults(run=lambda a: money_commands.link_code(settings_of(a), a.name))

    flattr = sub.add_parser("flattr", help="flattr a URL as a local account")
    flattr.add_argument("name")
    flattr.add_argument("url")
    flattr.set_defaults(run=lambda a: money_commands.flattr(settings_of(a), a.name, a.url))



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
    except (CommandError, DemoFailed, PeriodError, Refusal) as exc:
        print(f"mecene: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mecene: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)

