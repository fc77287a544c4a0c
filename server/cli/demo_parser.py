"""The arguments of `mecene demo`; `server.demo.run` runs it, imported only then."""

from argparse import Namespace
from pathlib import Path
from typing import Any

from server.cli.errors import CommandError


def add_demo_command(sub: Any) -> None:
    run = sub.add_parser("demo", help="three local instances and a plain fediverse server, flattring and settling")
    run.add_argument("--data", type=Path, help="an empty folder for the instances (default: a temporary one, "
                                               "removed at exit)")
    run.add_argument("--no-wait", action="store_true", help="exit after the report instead of serving until Ctrl-C")
    run.set_defaults(run=_demo)


async def _demo(args: Namespace) -> int:
    """A failed demo ends as a failed command does (`mecene: …`, exit status 1): `main` knows no `DemoFailed`."""
    from server.demo.run import DemoFailed, run
    try:
        return await run(args.data, wait=not args.no_wait)
    except DemoFailed as exc:
        raise CommandError(str(exc)) from exc
