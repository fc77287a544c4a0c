"""Direct messages from the bot, in the shape Mastodon shows as a private mention.

Mastodon treats a Note as direct when it is addressed to mentioned accounts
only: `to` the recipient, nothing in `cc`, no Public or followers collection,
and a `Mention` tag naming them. The content starts with the mention link as
Mastodon writes it. It is queued from the bot to the recipient's own inbox in
the caller's transaction and kept out of the public outbox.

The words are the current language's (`server.i18n.current`): the handler
answers in the language of the message it answers, when it is one we speak,
and says which (`contentMap`, as Mastodon does).
"""

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.models import RemoteActor
from federation.outbox import new_activity_id, publish
from federation.urls import InstanceUrls
from federation.vocab import AS_CONTEXT
from server.i18n import current
from server.i18n.current import gettext as _


@dataclass(frozen=True)
class Recipient:
    actor: str
    inbox: str
    handle: str  # @name@host
    profile: str


async def recipient(session: AsyncSession, actor_uri: str) -> Recipient | None:
    """From the actor stored when their signature was checked; None if we never met them."""
    row = await session.scalar(select(RemoteActor).where(RemoteActor.uri == actor_uri))
    if row is None:
        return None
    name = str(row.document.get("preferredUsername") or actor_uri.rstrip("/").rsplit("/", 1)[-1])
    profile = row.document.get("url")
    return Recipient(actor_uri, row.inbox, f"@{name}@{urlsplit(actor_uri).netloc}",
                     profile if isinstance(profile, str) else actor_uri)


def direct_note(*, activity_id: str, note_id: str, sender: str, to: Recipient, text: str, in_reply_to: str | None,
                now: datetime) -> dict[str, Any]:
    published = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    name = to.handle.split("@")[1]
    mention = (f'<span class="h-card"><a href="{html.escape(to.profile)}" class="u-url mention">'
               f"@<span>{html.escape(name)}</span></a></span>")
    content = f"<p>{mention} {html.escape(text)}</p>"
    note = {
        "id": note_id, "type": "Note", "attributedTo": sender, "inReplyTo": in_reply_to, "published": published,
        "to": [to.actor], "cc": [], "content": content, "contentMap": {current.locale(): content},
        "tag": [{"type": "Mention", "href": to.actor, "name": to.handle}],
    }
    return {"@context": AS_CONTEXT, "id": activity_id, "type": "Create", "actor": sender, "published": published,
            "to": [to.actor], "cc": [], "object": note}


async def send(session: AsyncSession, urls: InstanceUrls, bot_username: str, to: Recipient, text: str, *,
               in_reply_to: str | None, now: datetime) -> None:
    activity_id = new_activity_id(urls)
    document = direct_note(activity_id=activity_id, note_id=f"{activity_id}/note", sender=urls.actor(bot_username),
                           to=to, text=text, in_reply_to=in_reply_to, now=now)
    await publish(session, sender=bot_username, activity=document, inboxes=[to.inbox], now=now)


def linked(account: str) -> str:
    return _("Linked: this account now flattrs for %(account)s. Reply to any post with a mention of me to flattr it, "
             "or send me its link here. Send \"unlink\" to undo this.") % {"account": account}


def claimed(amount: str) -> str:
    return _("%(amount)s held for your posts is now credited there; flattrs of your posts that reach escrow later "
             "follow at each settlement.") % {"amount": amount}


def escrow_waiting(base_url: str, period: str, amount: str, until: str) -> str:
    return _("People on %(site)s flattred your posts in %(period)s: %(amount)s waits for you there until %(until)s, "
             "then goes back to them. How to collect it: %(site)s/claim (open an account there, ask it for a link "
             "code and send me the code in a direct message). Reply \"stop\" and I will not write to you about this "
             "again.") % {"site": base_url, "period": period, "amount": amount, "until": until}


def stopped() -> str:
    return _("Understood: no more messages about money waiting for you. It still waits; linking still collects it.")


def already_linked(account: str) -> str:
    return _("This account is already linked to %(account)s. Send \"unlink\" first if you want to link it "
             "elsewhere.") % {"account": account}


def already_linked_here() -> str:
    return _("This account is already linked to another account here. Send \"unlink\" first if you want to link "
             "it elsewhere.")


def one_code() -> str:
    return _("I found more than one code in your message, so I tried none. Send me your code alone, "
             "as your Mecene instance shows it (XXXX-XXXX).")


def too_many_tries(hours: int) -> str:
    return _("Too many codes from your account did not work, so I will not try more for %(hours)s hours. "
             "Ask your Mecene instance for a new code and send it to me then.") % {"hours": hours}


def bad_code() -> str:
    return _("Sorry, that code did not work: it may be mistyped, expired or already used. Nothing was linked. "
             "Ask your Mecene instance for a new code and send it to me in a direct message.")


def unlinked(account: str) -> str:
    return _("Unlinked: this account no longer flattrs for %(account)s.") % {"account": account}


def not_linked() -> str:
    return _("This account is not linked, so there was nothing to unlink.")


def how_to_link(base_url: str) -> str:
    return _("Hello! I flattr posts for people with an account on %(site)s. To use me, ask your account there for "
             "a link code, then send me the code in a direct message. I will not repeat this today.") % {
        "site": base_url}


def usage() -> str:
    return _("To flattr a post, reply to it with a mention of me, or send me its link in a direct message. "
             "Send \"unlink\" to unlink this account.")


def flattred(url: str, created: bool, count: int, value: str) -> str:
    done = (_("Flattred %(url)s.") if created else _("You had already flattred %(url)s this month.")) % {"url": url}
    return _("%(done)s Flattrs this month: %(count)s; one is worth %(value)s now.") % {
        "done": done, "count": count, "value": value}


def how_to_send(bot_handle: str) -> str:
    return _("Send this code in a direct message to %(bot)s from your Mastodon account.") % {"bot": bot_handle}


def unlinked_here(account: str) -> str:
    return _("%(account)s unlinked this account on its instance; it no longer flattrs for them.") % {
        "account": account}
