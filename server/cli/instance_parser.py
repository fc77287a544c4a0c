"""The arguments of the instance's own commands: init, serve, accounts, configuration, the delivery queue, follows.

Like every `*_parser` module it imports no more than argparse needs: each
command's implementation, and with it the server, is imported by the function
that runs it, so `mecene --help` and a mistyped argument answer at once.
"""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import data_dir, settings_of


def add_instance_commands(sub: Any) -> None:
    init = sub.add_parser("init", help="create a new instance in the data folder")
    init.add_argument("--domain", help="public host[:port] of the instance (default: localhost and server.port)")
    init.set_defaults(run=_init)

    serve = sub.add_parser("serve", help="serve the instance over HTTP")
    serve.add_argument("--host", help="address to listen on (default from configuration)")
    serve.add_argument("--port", type=int, help="port to listen on (default from configuration)")
    serve.set_defaults(run=_serve, sync=True)

    _add_user_commands(sub)

    config = sub.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    config.add_parser("show", help="print the effective configuration").set_defaults(run=_config_show, sync=True)

    deliveries = sub.add_parser("deliveries", help="the outgoing delivery queue and dead letters")
    deliveries.add_argument("--dead", action="store_true", help="list dead letters only")
    deliveries.add_argument("--retry", type=int, metavar="ID", help="queue a dead letter again")
    deliveries.set_defaults(run=_deliveries)

    follow = sub.add_parser("follow", help="make a local account follow a remote one")
    follow.add_argument("name")
    follow.add_argument("account", help="name@host of the account to follow")
    follow.set_defaults(run=_follow)


def _add_user_commands(sub: Any) -> None:
    user = sub.add_parser("user", help="local accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--display-name", default="")
    add.add_argument("--admin", action="store_true", help="may open the operator pages and credit wallets")
    add.set_defaults(run=_user_add)
    user.add_parser("list", help="list accounts").set_defaults(run=_user_list)
    password = user.add_parser("password", help="set an account's password for the web (asked twice)")
    password.add_argument("name")
    password.add_argument("--stdin", action="store_true", help="read the password from one line of standard input")
    password.set_defaults(run=_user_password)


def _init(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.instance_commands import init
    return init(data_dir(), args.domain)


def _serve(args: Namespace) -> int:
    from server.cli.serve_command import serve
    return serve(settings_of(args), args.host, args.port)


def _user_add(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.instance_commands import user_add
    return user_add(settings_of(args), args.name, args.display_name, args.admin)


def _user_list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.instance_commands import user_list
    return user_list(settings_of(args))


def _user_password(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.operator_commands import user_password
    return user_password(settings_of(args), args.name, args.stdin)


def _config_show(args: Namespace) -> int:
    from server.cli.config_commands import config_show
    return config_show(settings_of(args))


def _deliveries(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.instance_commands import deliveries
    return deliveries(settings_of(args), args.dead, args.retry)


def _follow(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.instance_commands import follow
    return follow(settings_of(args), args.name, args.account)
