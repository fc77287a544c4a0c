"""The arguments of the donors', creators' and cash desk's commands: tokens, wallets, budgets, things, link codes,
flattrs; `money_commands` runs them, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of


def add_money_commands(sub: Any) -> None:
    token = sub.add_parser("token", help="personal access tokens for the API").add_subparsers(
        dest="action", required=True)
    create = token.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument("--label", default="", help="what the token is for")
    create.set_defaults(run=_token_create)
    _add_wallet_and_budget_commands(sub)
    _add_thing_and_link_commands(sub)
    flattr = sub.add_parser("flattr", help="flattr a URL as a local account")
    flattr.add_argument("name")
    flattr.add_argument("url")
    flattr.set_defaults(run=_flattr)


def _add_wallet_and_budget_commands(sub: Any) -> None:
    wallet = sub.add_parser("wallet", help="wallets").add_subparsers(dest="action", required=True)
    topup = wallet.add_parser("topup", help="credit a wallet by hand (manual payment provider)")
    topup.add_argument("name")
    topup.add_argument("amount", help='decimal amount with a dot, e.g. "10.00"')
    topup.add_argument("--reference", help="idempotency key: the same reference credits once")
    topup.set_defaults(run=_wallet_topup)

    show = wallet.add_parser("show", help="wallet, budget and this period's flattrs with their value now")
    show.add_argument("name")
    show.set_defaults(run=_wallet_show)

    budget = sub.add_parser("budget", help="monthly budgets").add_subparsers(dest="action", required=True)
    budget_set = budget.add_parser("set", help="set an account's monthly budget (0 pauses spending)")
    budget_set.add_argument("name")
    budget_set.add_argument("amount")
    budget_set.set_defaults(run=_budget_set)


def _add_thing_and_link_commands(sub: Any) -> None:
    thing = sub.add_parser("thing", help="things offered for flattring").add_subparsers(dest="action", required=True)
    thing_add = thing.add_parser("add", help="offer a URL (with --title) or a note (with --text)")
    thing_add.add_argument("name")
    thing_add.add_argument("--url")
    thing_add.add_argument("--title", default="")
    thing_add.add_argument("--text", default="")
    thing_add.set_defaults(run=_thing_add)

    link = sub.add_parser("link", help="linking Mastodon accounts").add_subparsers(dest="action", required=True)
    code = link.add_parser("code", help="print a one-time code to send the bot from a Mastodon account")
    code.add_argument("name")
    code.set_defaults(run=_link_code)


def _token_create(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import token_create
    return token_create(settings_of(args), args.name, args.label)


def _wallet_topup(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import wallet_topup
    return wallet_topup(settings_of(args), args.name, args.amount, args.reference)


def _wallet_show(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import wallet_show
    return wallet_show(settings_of(args), args.name)


def _budget_set(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import budget_set
    return budget_set(settings_of(args), args.name, args.amount)


def _thing_add(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import thing_add
    return thing_add(settings_of(args), args.name, args.url, args.title, args.text)


def _link_code(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import link_code
    return link_code(settings_of(args), args.name)


def _flattr(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.money_commands import flattr
    return flattr(settings_of(args), args.name, args.url)
