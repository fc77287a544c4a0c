"""`mecene`: the command line of an instance.

Every command loads the configuration first, so a bad value stops it with
the key's name and exit status 2 before anything is touched.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.settings import ConfigError, Settings, load
from server import commands

DEFAULT_DATA_DIR = Path("data")
CONFIG_NAME = "mecene.toml"


def config_path(args: argparse.Namespace) -> Path | None:
    """--config, then $MECENE_CONFIG, then <data dir>/mecene.toml when it exists."""
    if args.config:
        return Path(args.config)
    if os.environ.get("MECENE_CONFIG"):
        return Path(os.environ["MECENE_CONFIG"])
    candidate = data_dir() / CONFIG_NAME
    return candidate if candidate.exists() else None


def data_dir() -> Path:
    return Path(os.environ.get("MECENE_DATA_DIR", DEFAULT_DATA_DIR))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mecene", description="Federated micro-donations for the fediverse.")
    parser.add_argument("--config", help="instance configuration file (default: data/mecene.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create a new instance in the data folder")
    init.add_argument("--domain", default="localhost:8080", help="public host[:port] of the instance")
    init.set_defaults(run=lambda a: commands.init(data_dir(), a.domain))

    serve = sub.add_parser("serve", help="serve the instance over HTTP")
    serve.add_argument("--host", help="address to listen on (default from configuration)")
    serve.add_argument("--port", type=int, help="port to listen on (default from configuration)")
    serve.set_defaults(run=lambda a: commands.serve(_settings(a), a.host, a.port), sync=True)

    user = sub.add_parser("user", help="local accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--display-name", default="")
    add.set_defaults(run=lambda a: commands.user_add(_settings(a), a.name, a.display_name))
    user.add_parser("list", help="list accounts").set_defaults(run=lambda a: commands.user_list(_settings(a)))

    config = sub.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    config.add_parser("show", help="print the effective configuration").set_defaults(
        run=lambda a: commands.config_show(_settings(a)), sync=True)

    deliveries = sub.add_parser("deliveries", help="the outgoing delivery queue and dead letters")
    deliveries.add_argument("--dead", action="store_true", help="list dead letters only")
    deliveries.add_argument("--retry", type=int, metavar="ID", help="queue a dead letter again")
    deliveries.set_defaults(run=lambda a: commands.deliveries(_settings(a), a.dead, a.retry))

    follow = sub.add_parser("follow", help="make a local account follow a remote one")
    follow.add_argument("name")
    follow.add_argument("account", help="name@host of the account to follow")
    follow.set_defaults(run=lambda a: commands.follow(_settings(a), a.name, a.account))
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load(config_path(args))


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
    except commands.CommandError as exc:
        print(f"mecene: {exc}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
