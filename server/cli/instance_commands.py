"""The instance's own commands: init, accounts, the delivery queue, follows."""

import sys
from pathlib import Path

from config.settings import Settings, load
from federation import delivery_queue
from federation.errors import FederationError
from server.accounts import AccountError, create_user, list_users
from server.cli.errors import CommandError
from server.cli.shared import opened
from server.social import follow_account
from server.storable import is_row_id


async def init(data_dir: Path, domain: str | None) -> int:
    """Write `mecene.toml` and create the database, keys and service actors.

    Without `--domain`, the instance is a local one on the port it will serve on
    (`MECENE_SERVER_PORT=9300 make run` makes `localhost:9300`).
    """
    domain = domain or f"localhost:{load(None).server.port}"
    config_file = data_dir / "mecene.toml"
    if config_file.exists():
        raise CommandError(f"an instance already lives in {data_dir}/ (remove it to start afresh)")
    local = domain.split(":")[0] in ("localhost", "127.0.0.1")
    text = (
        f'[instance]\ndomain = "{domain}"\n\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{(data_dir / "mecene.db").resolve()}"\n\n'
        "[dev]\n# Plain http and loopback peers: only for an instance on this machine.\n"
        f"insecure = {str(local).lower()}\n"
    )
    load(None, {"MECENE_INSTANCE_DOMAIN": domain})
    data_dir.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text)
    settings = load(config_file)
    async with opened(settings):
        pass
    print(f"Initialised {settings.base_url} in {data_dir}/ (configuration: {config_file}).")
    print("Next: make yourself its operator with `mecene user add NAME --admin` and `mecene user password NAME`, "
          f"then log in at {settings.base_url}/login; donors sign up at {settings.base_url}/signup "
          "(docs/getting-started.md).")
    return 0


async def user_add(settings: Settings, name: str, display_name: str, admin: bool = False) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        try:
            user = await create_user(session, name, bot_username=settings.instance.bot_username, now=instance.clock(),
                                     display_name=display_name)
            user.is_admin = admin
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
    print(f"Created {name}: {instance.urls.actor(name)}")
    return 0


async def user_list(settings: Settings) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        users = await list_users(session)
    for user in users:
        print(f"{user.username}\t{instance.urls.actor(user.username)}\t{user.created_at:%Y-%m-%d}")
    if not users:
        print("No accounts yet: create one with `mecene user add NAME`.", file=sys.stderr)
    return 0


async def deliveries(settings: Settings, dead_only: bool, retry_id: int | None) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        if retry_id is not None:
            if not is_row_id(retry_id) or not await delivery_queue.retry_dead(session, retry_id, instance.clock()):
                raise CommandError(f"no dead letter with id {retry_id}")
            print(f"Delivery {retry_id} queued again.")
            return 0
        rows = await delivery_queue.undelivered(session, state=delivery_queue.DEAD if dead_only else None)
    print("id\tstate\tattempts\tnext attempt\tinbox\tlast error")
    for row in rows:
        print(f"{row.id}\t{row.state}\t{row.attempts}\t{row.next_attempt_at:%Y-%m-%d %H:%M:%S}\t"
              f"{row.inbox_url}\t{row.last_error or ''}")
    return 0


async def follow(settings: Settings, name: str, account: str) -> int:
    async with opened(settings) as instance:
        try:
            follow_id = await follow_account(instance, name, account)
        except (FederationError, LookupError) as exc:
            raise CommandError(f"cannot follow {account}: {exc}") from exc
    print(f"Follow queued: {follow_id}")
    return 0
