"""An outbox row made into an email: subject, plain-text and HTML parts from the kind's Jinja2 templates.

Each kind has `{kind}.txt` (whose `subject` block is the subject line) and
`{kind}.html`; both extend a layout that adds the unsubscribe link to every
email that is not a receipt. The Message-ID comes from the row's key, so an
email sent again after a crash between sending and recording is recognisably
the same one.
"""

import hashlib
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import jinja2

from server.models import MailMessage
from settlement.money import Money, format_amount

_templates = jinja2.Environment(loader=jinja2.PackageLoader("server.mail", "templates"),
                                autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_templates.filters["money"] = lambda found: f"{format_amount(Money(int(found['minor']), found['currency']))} " \
                                            f"{found['currency']}"


@dataclass(frozen=True)
class Site:
    """What every email says of the instance that sends it."""

    name: str
    base_url: str
    domain: str
    from_address: str


def render(row: MailMessage, site: Site) -> EmailMessage:
    context: dict[str, Any] = {**json.loads(row.context), "site": site, "language": row.language}
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
    message["Content-Language"] = row.language
    return message
