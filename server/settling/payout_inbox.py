"""Payouts arriving from other Mecene instances, and the answers to ours.

Only an instance's own actor (the one its NodeInfo names) may pay or answer
for it, and only under an agreement in force with us in the payout's currency:
a Payout from any other instance, whatever its NodeInfo says, is rejected
whole (`no_agreement`) and credits nothing. What a peer sends, a period's,
a claim's or an awaited payout alike, is credited in the payout's currency,
within our credit limit, once per payout id by `settlement.payouts`, and
every Payout, even a repeated one, is answered so a sender whose first answer
was lost still learns the outcome. An answer settles whichever of our payouts
it names; lines refused for the credit limit are held for a later round.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import payout_vocab
from federation.instances import InstanceDirectory
from federation.outbox import new_activity_id
from federation.payout_vocab import InvalidPayout, PayoutItem
from federation.processing import Handler, Prefetch, dispatch_key
from federation.urls import InstanceUrls
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.models import User
from server.settling.instance_senders import InstanceSenders, reply
from settlement import agreements, payouts, sent_payouts
from settlement.models import Agreement
from settlement.money import MoneyError, parse_amount
from settlement.payouts import IncomingLine

log = logging.getLogger(__name__)


class PayoutHandlers:
    def __init__(self, urls: InstanceUrls, directory: InstanceDirectory) -> None:
        self._urls = urls
        self._senders = InstanceSenders(directory, _ignored)

    def handlers(self) -> dict[str, Handler]:
        return {"Payout": self.on_payout, "Accept:Payout": self.on_answer, "Reject:Payout": self.on_answer}

    def prefetchers(self) -> dict[str, Prefetch]:
        return dict.fromkeys(self.handlers(), self._senders.learn)

    def answers_copies(self, activity: dict[str, Any]) -> bool:
        """A sender whose answer was lost sends its Payout again, same id: only handling that copy answers it."""
        return dispatch_key(activity) == "Payout"

    async def on_payout(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        source = await self._senders.host_of(session, activity)
        if source is None:
            return
        try:
            received = payout_vocab.read_payout(activity)
        except InvalidPayout as exc:
            event("payout_rejected", payout_id=activity["id"], source=source, reason=exc.code)
            await self._answer(session, activity, "Reject", [], now, reason=exc.code)
            return
        agreement = await agreements.locked_in_force(session, source, received.currency)
        if agreement is None and not await payouts.received(session, received.id):
            event("payout_rejected", payout_id=received.id, source=source, reason=payout_vocab.NO_AGREEMENT)
            await self._answer(session, activity, "Reject", [], now, reason=payout_vocab.NO_AGREEMENT)
            return
        creators = await self._local_creators(session, received.items)
        lines = [_line(item, received.currency) for item in received.items]
        refusals = await payouts.receive(
            session, payout_id=received.id, source=source, period=received.period, currency=received.currency,
            lines=lines, creators=creators, credit_limit=_limit(agreement), now=now)
        kind = "Reject" if len(refusals) == len(received.items) else "Accept"
        event("payout_received", payout_id=received.id, source=source, period=received.period,
              lines=len(received.items), refused=len(refusals), answer=kind)
        await self._answer(session, activity, kind, [refusal.as_dict() for refusal in refusals], now)

    async def _answer(self, session: AsyncSession, payout: dict[str, Any], kind: str, refused: list[dict[str, str]],
                      now: datetime, reason: str | None = None) -> None:
        answer = payout_vocab.answer(new_activity_id(self._urls), kind, self._urls.actor(INSTANCE_ACTOR),
                                     payout["actor"], payout["id"], refused, reason)
        await reply(session, payout, answer, now)

    async def on_answer(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        host = await self._senders.host_of(session, activity)
        answer = payout_vocab.read_answer(activity)
        if host is None or answer.payout_id is None:
            return
        if await sent_payouts.settle(session, payout_id=answer.payout_id, host=host, refused=answer.refused,
                                     rejected=answer.rejected, over_limit=answer.over_limit, now=now):
            event("payout_settled", payout_id=answer.payout_id, host=host, refused=len(answer.refused),
                  held=len(answer.over_limit), rejected=answer.rejected, reason=answer.reason or "")

    async def _local_creators(self, session: AsyncSession, items: list[PayoutItem]) -> dict[str, str]:
        """Actor URI → username, for the items' creators that are accounts here."""
        wanted = {self._urls.username_of(item.creator): item.creator for item in items}
        names = [name for name in wanted if name]
        found = await session.scalars(select(User.username).where(User.username.in_(names)))
        return {wanted[name]: name for name in found}


def _ignored(activity: dict[str, Any], host: str) -> None:
    """A Payout or an answer from anyone but a Mecene instance's actor: a warning, and nothing else."""
    log.warning("ignoring %s from %s: not the instance actor of a Mecene instance", activity.get("type"),
                activity.get("actor"))


def _limit(agreement: Agreement | None) -> int:
    """Our credit limit under the agreement; a payout credited before the agreement ended is only answered again."""
    return 0 if agreement is None or agreement.credit_limit is None else agreement.credit_limit


def _line(item: PayoutItem, currency: str) -> IncomingLine:
    return IncomingLine(item.creator, item.thing, _amount(item.amount, currency), currency, item.flattrs)

def _amount(value: str | None, currency: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_amount(value, currency).amount
    except MoneyError:
        return None
