"""The mail worker: claims due rows of `mail_outbox` under a lease and sends them through SMTP with aiosmtplib.

A claim is an UPDATE of rows still free, so of two processes on one
database only one gets each row, and the rows of a process that died are
taken over when their lease ends; each outcome is written as soon as the SMTP
server has answered, so a crash can only send again the one email whose
answer was not yet written (with the same Message-ID). An SMTP server that
is away leaves the rows queued, tried again after a growing wait; only a
permanent refusal of the message or its recipient, or the last try, gives
one up.
"""

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.supervision import supervise
from config.settings import MailSettings
from federation.wakeup import sleep_until_woken
from server.instance import Instance
from server.mail import kinds
from server.mail.messages import Site, render
from server.models import MAIL_STATES, MailMessage

log = logging.getLogger(__name__)

SENT = MAIL_STATES.move("queued", "sent")
RETRIED = MAIL_STATES.move("queued", "queued")
GIVEN_UP = MAIL_STATES.move("queued", "dead")
#: The longest wait between two tries of one email.
MAX_RETRY_DELAY = timedelta(hours=6)
BATCH = 50


@dataclass(frozen=True)
class _Outcome:
    sent: bool
    permanent: bool
    error: str | None


class MailWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: MailSettings, site: Site,
                 clock: Callable[[], datetime], worker: str) -> None:
        self._sessions = sessions
        self._settings = settings
        self._site = site
        self._clock = clock
        self._worker = worker
        self._lease = timedelta(seconds=settings.lease_seconds)
        self.wakeup = asyncio.Event()

    async def run(self) -> None:
        """Send what is due, then sleep until woken or until the next poll; a failed round is waited out."""

        async def round_() -> None:
            if await self.run_once() < BATCH:
                await sleep_until_woken(self.wakeup, self._settings.poll_seconds)

        await supervise("mail", round_)

    async def run_once(self) -> int:
        """Send every email due now over one SMTP connection; how many were tried."""
        claimed = await self._claim()
        if not claimed:
            return 0
        unsent = list(claimed)
        try:
            async with self._connection() as smtp:
                while unsent:
                    outcome = await self._send(smtp, unsent[0])
                    await self._record(unsent.pop(0), outcome)
        except (aiosmtplib.SMTPException, OSError) as error:
            log.warning("the SMTP server %s:%d failed: %s; %d email(s) wait for the next try",
                        self._settings.smtp_host, self._settings.smtp_port, error, len(unsent))
            for row in unsent:
                await self._record(row, _Outcome(False, False, f"SMTP server: {error}"))
        return len(claimed)

    def _connection(self) -> aiosmtplib.SMTP:
        settings = self._settings
        return aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port,
                               username=settings.smtp_username or None, password=settings.smtp_password or None,
                               use_tls=settings.smtp_security == "tls", start_tls=settings.smtp_security == "starttls",
                               timeout=settings.timeout_seconds)

    async def _send(self, smtp: aiosmtplib.SMTP, row: MailMessage) -> _Outcome:
        try:
            await smtp.send_message(render(row, self._site))
        except aiosmtplib.SMTPRecipientsRefused as refused:
            permanent = all(error.code >= 500 for error in refused.recipients)
            return _Outcome(False, permanent, f"recipient refused: {refused}")
        except (aiosmtplib.SMTPDataError, aiosmtplib.SMTPRecipientRefused) as refused:
            return _Outcome(False, refused.code >= 500, f"refused: {refused.code} {refused.message}")
        return _Outcome(True, False, None)

    async def _claim(self) -> list[MailMessage]:
        now = self._clock()
        free = or_(MailMessage.locked_until.is_(None), MailMessage.locked_until < now)
        async with self._sessions() as session, session.begin():
            due = (select(MailMessage.id).where(MailMessage.state == SENT.source, MailMessage.next_attempt_at <= now,
                                                free).order_by(MailMessage.next_attempt_at).limit(BATCH))
            ids = list(await session.scalars(due))
            if not ids:
                return []
            claimed = await session.scalars(
                update(MailMessage).where(MailMessage.id.in_(ids), MailMessage.state == SENT.source, free)
                .values(locked_until=now + self._lease, locked_by=self._worker).returning(MailMessage))
            return list(claimed)

    async def _record(self, row: MailMessage, outcome: _Outcome) -> None:
        now = self._clock()
        attempts = row.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "locked_until": None, "locked_by": None,
                                     "last_error": outcome.error}
        if outcome.sent:
            values |= {"state": SENT.target, "finished_at": now, **_forgotten_link(row)}
        elif outcome.permanent or attempts >= self._settings.max_attempts:
            values |= {"state": GIVEN_UP.target, "finished_at": now, **_forgotten_link(row)}
        else:
            values |= {"state": RETRIED.target, "next_attempt_at": now + self._delay(attempts)}
        async with self._sessions() as session, session.begin():
            await session.execute(update(MailMessage).where(
                MailMessage.id == row.id, MailMessage.locked_by == self._worker).values(**values))

    def _delay(self, attempts: int) -> timedelta:
        seconds = self._settings.retry_base_seconds * 2 ** (attempts - 1)
        return min(MAX_RETRY_DELAY, timedelta(seconds=seconds))



def _forgotten_link(row: MailMessage) -> dict[str, str]:
    """A finished email's link token has no more use in the outbox, where it would only wait to be read."""
    return {"context": "{}"} if row.kind in kinds.LINKS else {}


def for_instance(instance: Instance) -> MailWorker:
    """The worker `mecene serve` runs when mail is on; its claims carry this process's host and id."""
    settings = instance.settings
    site = Site(settings.instance.name, settings.base_url, settings.instance.domain, settings.mail.from_address)
    return MailWorker(instance.sessions, settings.mail, site, instance.clock, f"{socket.gethostname()}:{os.getpid()}")
