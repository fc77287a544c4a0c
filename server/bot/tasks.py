"""Flattrs the bot was asked for, done after the inbox transaction that recorded them.

Why a table and not the processor's prefetch hook: a flattr fetches the post
and its author and writes its own transaction (`server.flattring.flattr_url`,
exactly what `POST /api/v1/flattrs` does), and SQLite holds its write lock for
the whole inbox transaction, so none of that may run inside it. The inbox
handler only records a `bot_tasks` row; this worker does the flattr, then
marks the task done and queues the answer in one transaction. A crash between
the two re-runs the task: the flattr is unique per donor, thing and period,
so the second run finds it and the answer says it was already flattred. The
conditional `pending → done` update lets several processes share the table.
"""

import logging

from sqlalchemy import select, update

from common.sql import rowcount
from common.supervision import supervise
from federation.wakeup import sleep_until_woken
from server.bot import replies
from server.donations import donor_view
from server.flattring import flattr_url
from server.i18n import current
from server.i18n.formatting import amount_text
from server.i18n.locales import ENGLISH
from server.instance import Instance
from server.models import BOT_TASK_ATTEMPTS, BOT_TASK_STATES, BotTask, User
from server.refusal import Refusal, said

log = logging.getLogger(__name__)

DONE = BOT_TASK_STATES.move("pending", "done")
GIVE_UP = BOT_TASK_STATES.move("pending", "failed")


class BotTaskWorker:
    def __init__(self, instance: Instance) -> None:
        self._instance = instance

    async def run(self, poll_seconds: float) -> None:
        async def round_() -> None:
            if not await self.run_once():
                await sleep_until_woken(self._instance.bot_wakeup, poll_seconds)

        await supervise("bot tasks", round_)

    async def run_once(self, limit: int = 50) -> int:
        async with self._instance.sessions() as session:
            tasks = list(await session.scalars(
                select(BotTask).where(BotTask.state == DONE.source).order_by(BotTask.id).limit(limit)))
        for task in tasks:
            try:
                await self._perform(task)
            except Exception as exc:  # one bad task must not stop the others; it keeps its error
                log.exception("bot task %s failed", task.id)
                await self._record_failure(task.id, exc)
        return len(tasks)

    async def _perform(self, task: BotTask) -> None:
        instance = self._instance
        async with instance.sessions() as session:
            user = (await session.scalars(select(User).where(User.username == task.username))).one()
        with current.speaking(task.language or ENGLISH):
            try:
                record, created = await flattr_url(instance, user, task.url)
                async with instance.sessions() as session:
                    view = await donor_view(session, instance, user, instance.current_period())
                text = replies.flattred(record.thing_uri, created, len(view.flattrs),
                                        amount_text(view.value_of(record)))
            except Refusal as exc:
                text = said(exc)
            await self._finish(task, text)

    async def _finish(self, task: BotTask, text: str) -> None:
        instance, now = self._instance, self._instance.clock()
        async with instance.sessions() as session, session.begin():
            claimed = await session.execute(update(BotTask).where(BotTask.id == task.id, BotTask.state == DONE.source)
                                            .values(state=DONE.target, done_at=now))
            recipient = await replies.recipient(session, task.actor_uri)
            if rowcount(claimed) and task.answer and recipient is not None:
                await replies.send(session, instance.urls, instance.settings.instance.bot_username, recipient, text,
                                   in_reply_to=task.note_id, now=now)
        instance.delivery.wakeup.set()

    async def _record_failure(self, task_id: int, exc: Exception) -> None:
        async with self._instance.sessions() as session, session.begin():
            task = await session.get_one(BotTask, task_id)
            task.attempts += 1
            task.error = f"{type(exc).__name__}: {exc}"
            if task.attempts >= BOT_TASK_ATTEMPTS:
                task.state = GIVE_UP.target
