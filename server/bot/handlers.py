"""The bot's inbox: a `Create{Note}` that mentions it is a request from the account that signed it.

The processor has already proven that the activity's actor signed it, and the
inbox kept the Note only if it lives on that actor's host; the Note must also
be attributed to that actor. What needs no network happens here, in the inbox
item's transaction (linking, claiming the escrow held for the account,
unlinking, the answers, which only need the sender's inbox, stored when their
key was fetched); a flattr needs to fetch the post and its author, so it is
recorded as a `bot_tasks` row and done by `server.bot.tasks` after this
transaction commits.

In a direct message: "stop" (alone) ends escrow notices; "unlink" unlinks; a
reply or a post URL is flattred; a code-shaped word is tried as a link code.
Outside one: a reply mentioning the bot is flattred. An unlinked account
asking for anything else learns how to link, at most once a day. An
`Announce` (a boost) by a linked account that opted in is flattred quietly.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, rowcount
from federation.processing import Handler
from federation.urls import InstanceUrls
from federation.vocab import PUBLIC, object_id
from server.bot import boosts, code_tries, codes, links, opt_outs, replies
from server.bot.messages import Message, audience, read
from server.bot.replies import Recipient
from server.i18n import current
from server.i18n.formatting import amount_text
from server.i18n.locales import ENGLISH
from server.models import BOT_TASK_STATES, BotNotice, BotTask, LinkedAccount
from settlement import escrow
from settlement.money import Money

EXPLAIN_EVERY = timedelta(days=1)
HOW_TO_LINK = "how_to_link"


class BotHandlers:
    def __init__(self, urls: InstanceUrls, bot_username: str, currency: str) -> None:
        self._urls = urls
        self._bot = bot_username
        self._currency = currency
        #: Set by the inbox processor after a commit, so `server.bot.tasks` looks for new tasks at once.
        self.wakeup = asyncio.Event()

    def handlers(self) -> dict[str, Handler]:
        return {"Create": self.on_create, "Announce": self.on_announce}

    async def on_create(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        message = read(activity)
        if (message is None or self._urls.actor(self._bot) not in message.mentions
                or message.author != object_id(activity.get("actor"))):
            return
        sender = await replies.recipient(session, message.author)
        if sender is not None:
            with current.speaking(message.language or ENGLISH):
                await self._answer(session, activity["id"], message, sender, now)

    async def on_announce(self, session: AsyncSession, announce: dict[str, Any], now: datetime) -> None:
        """A boost addressed to Public, by a linked account whose user opted in: flattred, without a DM."""
        actor, boosted = object_id(announce.get("actor")), object_id(announce.get("object"))
        if actor is None or boosted is None or PUBLIC not in audience(announce):
            return
        link = await links.of_actor(session, actor)
        if link is not None and link.auto_flattr_boosts:
            await self._record_task(session, announce["id"], link.username, actor, note_id=announce["id"],
                                    target=boosted, answer=False, now=now)

    async def _answer(self, session: AsyncSession, activity_id: str, message: Message, sender: Recipient,
                      now: datetime) -> None:
        link = await links.of_actor(session, message.author)
        target = self._target(message)
        if message.direct and opt_outs.asks_stop(message.text):
            await opt_outs.stop(session, message.author, now)
            await self._reply(session, sender, message, replies.stopped(), now)
        elif message.direct and message.asks_unlink():
            await self._unlink(session, message, sender, link, now)
        elif target is not None and link is not None:
            await self._record_task(session, activity_id, link.username, message.author, note_id=message.note_id,
                                    target=target, answer=True, now=now, language=message.language)
        elif target is None and message.direct and message.code_candidates():
            await self._link(session, message, sender, link, now)
        elif link is not None and message.direct:
            await self._reply(session, sender, message, replies.usage(), now)
        elif link is None:
            await self._explain(session, sender, message, now)

    def _target(self, message: Message) -> str | None:
        """What to flattr: the post replied to, else (in a DM) the first link; never the bot's own notes."""
        candidates = [message.in_reply_to] if message.in_reply_to else []
        if message.direct:
            candidates += message.urls
        for url in candidates:
            if not self._urls.is_local(url) or self._urls.thing_token_of(url) is not None:
                return url
        return None

    async def _link(self, session: AsyncSession, message: Message, sender: Recipient, existing: LinkedAccount | None,
                    now: datetime) -> None:
        if existing is not None:
            text = replies.already_linked(self._account(existing.username))
        else:
            text = await self._link_with_code(session, message, now)
        await self._reply(session, sender, message, text, now)

    async def _link_with_code(self, session: AsyncSession, message: Message, now: datetime) -> str:
        """One code per message, and a few failed ones per account a day: a code cannot be guessed by volume."""
        candidates = message.code_candidates()
        if len(candidates) > 1:
            return replies.one_code()
        if await code_tries.exhausted(session, message.author, now):
            return replies.too_many_tries(int(code_tries.WINDOW.total_seconds() // 3600))
        username = await codes.redeem(session, candidates[0], now=now)
        if username is None:
            await code_tries.record(session, message.author, now)
            return replies.bad_code()
        if not await links.link(session, username=username, actor_uri=message.author, now=now):
            return replies.already_linked_here()
        claimed = await escrow.claim(session, author_uri=message.author, username=username, now=now)
        text = replies.linked(self._account(username))
        return f"{text} {replies.claimed(self._money(claimed))}" if claimed else text

    async def _unlink(self, session: AsyncSession, message: Message, sender: Recipient,
                      existing: LinkedAccount | None, now: datetime) -> None:
        if existing is not None:
            await links.unlink(session, actor_uri=message.author)
            await boosts.stop_following(session, self._urls, self._bot, message.author, inbox=sender.inbox, now=now)
        text = replies.unlinked(self._account(existing.username)) if existing else replies.not_linked()
        await self._reply(session, sender, message, text, now)

    async def _record_task(self, session: AsyncSession, activity_id: str, username: str, actor_uri: str, *,
                           note_id: str, target: str, answer: bool, now: datetime, language: str | None = None) -> None:
        await insert_ignoring_duplicates(session, BotTask.__table__, {
            "activity_id": activity_id, "username": username, "actor_uri": actor_uri, "note_id": note_id,
            "url": target, "answer": answer, "language": language, "state": BOT_TASK_STATES.birth("pending"),
            "attempts": 0, "created_at": now})

    async def _explain(self, session: AsyncSession, sender: Recipient, message: Message, now: datetime) -> None:
        """At most once a day per account; the row is claimed atomically so two processes cannot both send."""
        first = await insert_ignoring_duplicates(session, BotNotice.__table__, {
            "actor_uri": sender.actor, "kind": HOW_TO_LINK, "sent_at": now})
        if not first:
            renewed = await session.execute(update(BotNotice).where(
                BotNotice.actor_uri == sender.actor, BotNotice.kind == HOW_TO_LINK,
                BotNotice.sent_at <= now - EXPLAIN_EVERY).values(sent_at=now))
            if not rowcount(renewed):
                return
        await self._reply(session, sender, message, replies.how_to_link(self._urls.base_url), now)

    async def _reply(self, session: AsyncSession, sender: Recipient, message: Message, text: str,
                     now: datetime) -> None:
        await replies.send(session, self._urls, self._bot, sender, text, in_reply_to=message.note_id, now=now)

    def _money(self, minor_units: int) -> str:
        return amount_text(Money(minor_units, self._currency))

    def _account(self, username: str) -> str:
        return f"{username}@{self._urls.host}"
