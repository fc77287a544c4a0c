"""The operator's account and blocking commands: `mecene user password`, `mecene block add|remove|list`.

A password is never an argument, where `ps` and the shell's history would
keep it: it is typed twice at a terminal, or read as one line from standard
input with `--stdin` for scripts.
"""

import getpass
import sys

from sqlalchemy import delete, update

from common.sql import rowcount
from config.settings import Settings
from federation import domain_blocks
from federation.domain_blocks import InvalidBlock
from server.cli.errors import CommandError
from server.cli.shared import opened
from server.models import User, WebSession
from server.web.passwords import PasswordError, check_strength, hash_password


def read_password(from_stdin: bool) -> str:
    """One line of standard input with --stdin; otherwise typed twice at the terminal, never echoed."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("standard input is not a terminal: pass --stdin to read the password from it")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Password again: ") != first:
        raise CommandError("the two passwords differ; nothing changed")
    return first


async def user_password(settings: Settings, name: str, from_stdin: bool) -> int:
    """Set the password the web login asks for; the account's open browser sessions end with the old one."""
    password = read_password(from_stdin)
    try:
        check_strength(password)
    except PasswordError as exc:
        raise CommandError(str(exc)) from exc
    password_hash = await hash_password(password)
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        changed = await session.execute(update(User).where(User.username == name).values(password_hash=password_hash))
        if not rowcount(changed):
            raise CommandError(f"no account {name!r} (see `mecene user list`)")
        await session.execute(delete(WebSession).where(WebSession.username == name))
    print(f"Password set for {name}; they can log in at {instance.settings.base_url}/login.")
    return 0


async def block_add(settings: Settings, domain: str, reason: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        try:
            created = await domain_blocks.block(session, domain, reason, instance.clock())
        except InvalidBlock as exc:
            raise CommandError(str(exc)) from exc
    name = domain_blocks.normalize_domain(domain)
    print(f"Blocked {name}; running servers apply it within {domain_blocks.REFRESH_SECONDS:g} seconds." if created
          else f"{name} was already blocked; nothing changed.")
    return 0


async def block_remove(settings: Settings, domain: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        try:
            removed = await domain_blocks.unblock(session, domain)
        except InvalidBlock as exc:
            raise CommandError(str(exc)) from exc
    if not removed:
        raise CommandError(f"{domain} is not blocked (see `mecene block list`)")
    print(f"Unblocked {domain_blocks.normalize_domain(domain)}.")
    return 0


async def block_list(settings: Settings) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        blocks = await domain_blocks.listed(session)
    for block in blocks:
        print(f"{block.domain}\t{block.created_at:%Y-%m-%d}\t{block.reason}")
    if not blocks:
        print("No domain is blocked.", file=sys.stderr)
    return 0
