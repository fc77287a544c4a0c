"""`mecene inbox`: the activities received and not processed, the failed ones, and trying one again."""

from config.settings import Settings
from federation import inbox_queue
from server.cli.errors import CommandError
from server.cli.shared import opened


async def inbox_items(settings: Settings, failed_only: bool, retry_id: int | None) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        if retry_id is not None:
            if not await inbox_queue.retry_failed(session, retry_id, instance.clock()):
                raise CommandError(f"no failed inbox item with id {retry_id} (see `mecene inbox --failed`)")
            print(f"Inbox item {retry_id} will be tried again.")
            return 0
        rows = await inbox_queue.waiting(session, failed_only=failed_only)
    print("id\tstate\tattempts\tnext try\tactivity\tlast error")
    for row in rows:
        next_try = f"{row.next_attempt_at:%Y-%m-%d %H:%M:%S}" if row.next_attempt_at else "now"
        print(f"{row.id}\t{row.state}\t{row.attempts}\t{next_try}\t{row.activity_id}\t{row.error or ''}")
    return 0
