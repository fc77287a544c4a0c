"""An outbox row made into an email: subject, plain-text and HTML parts from the kind's Jinja2 templates.

Each kind has `{kind}.txt` (whose `subject` block is the subject line) and
`{kind}.html`; both extend a layout that adds the unsubscribe link to every
email that is not a receipt. Each email is written in its recipient's
language, the one the row was queued with (the account's), and says so in
`Content-Language`. The Message-ID comes from the row's key, so an email
sent again after a crash between sending and recording is recognisably the
same one.
"""

import hashlib
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import jinja2

from server.i18n.current import speaking
from server.i18n.jinja import speak
from server.i18n.locales import ENGLISH, supported
from server.models import MailMessage
from settlement.money import Money

_templates = jinja2.Environment(loader=jinja2.PackageLoader("server.mail", "templates"),
                                autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                extensions=["jinja2.ext.i18n"])
speak(_templates)


@dataclass(frozen=True)
class Site:
    """What every email says of the instance that sends it."""

    name: str
    base_url: str
    domain: str
    from_address: str


def render(row: MailMessage, site: Site) -> EmailMessage:
    """The row's email, in the language it was queued with (English for one we do not speak)."""
    language = supported(row.language) or ENGLISH
    with speaking(language):
        return _written(row, site, language)


def _written(row: MailMessage, site: Site, language: str) -> EmailMessage:
    context: dict[str, Any] = {**_with_money(json.loads(row.context)), "site": site, "language": language}
    unsubscribe = context.get("unsubscribe")
    context["unsubscribe_url"] = f"{site.base_url}/mail/unsubscribe/{unsubscribe}" if unsubscribe else None
    text = _templates.get_template(f"{row.kind}.txt")
    subject = "".join(text.blocks["subject"](text.new_context(context))).strip()
    context["subject"] = subject
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((site.name, site.from_address))
    message["To"] = row.to_address
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = f"<{hashlib.sha256(row.key.encode()).hexdigest()[:32]}@{site.domain.split(':')[0]}>"
    message["Auto-Submitted"] = "auto-generated"
    if context["unsubscribe_url"]:
        message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message.set_content(text.render(context))
    message.add_alternative(_templates.get_template(f"{row.kind}.html").render(context), subtype="html")
    message["Content-Language"] = language
    return message


def _with_money(value: Any) -> Any:
    """The stored context with each amount (`outbox.amount`: minor units and currency) as a `Money` again.

    The templates then write it with `|amount`, the way the reader's
    language does ("6.00 EUR", "6,00 €").
    """
    if isinstance(value, dict):
        if value.keys() == {"minor", "currency"}:
            return Money(int(value["minor"]), str(value["currency"]))
        return {key: _with_money(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_money(item) for item in value]
    return value
