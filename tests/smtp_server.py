"""A real SMTP server for tests: aiosmtpd on a loopback port of this worker's band, keeping what it receives.

It runs in a thread of its own (aiosmtpd's Controller), so an instance under
test talks to it over real TCP; `settings()` are the overrides that point a
`federation_harness` node at it. Created on a port without being started,
it is an SMTP server that is down: nothing listens there until `start()`.
The `mailbox` fixture (offered to every test by `conftest.py`) is one such,
stopped after the test.
"""

import email
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from federation_harness import eventually, free_port


class Mailbox:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def settings(self, **more: str) -> dict[str, str]:
        """Overrides for a node: mail on, sent here, looked at and retried often."""
        return {"MECENE_MAIL_ENABLED": "true", "MECENE_MAIL_SMTP_HOST": "127.0.0.1",
                "MECENE_MAIL_SMTP_PORT": str(self.port), "MECENE_MAIL_POLL_SECONDS": "0.1",
                "MECENE_MAIL_RETRY_BASE_SECONDS": "0.2", "MECENE_MAIL_TIMEOUT_SECONDS": "5",
                "MECENE_MAIL_FROM_ADDRESS": "mecene@example.org", **more}

    def to(self, address: str, *, subject: str = "") -> list[EmailMessage]:
        return [message for message in self.messages
                if message["To"] == address and subject in str(message["Subject"])]

    async def wait_for(self, address: str, *, subject: str = "", count: int = 1) -> list[EmailMessage]:
        """The emails to `address` (with `subject` in theirs), once at least `count` arrived."""
        await eventually(_at_least(lambda: self.to(address, subject=subject), count),
                         what=f"{count} email(s) to {address} about {subject!r}")
        return self.to(address, subject=subject)


def _at_least(found: Callable[[], list[Any]], count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(found()) >= count
    return check


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None and isinstance(part, EmailMessage)
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None and isinstance(part, EmailMessage)
    return part.get_content()


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    yield box
    box.stop()
