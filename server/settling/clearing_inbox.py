"""Clearings arriving from other Mecene instances: a debtor's notice that it paid us, and the answers to ours.

Only an instance's own actor, the one its NodeInfo names, may notify or answer
for it, as for payouts and agreements. A notice is read twice, its shape by
`federation.clearing_vocab` and its amounts by the money code, and recorded
to wait for our operator (`mecene clearing confirm|dispute`); one we cannot
record (no agreement ever made in its currency, another clearing not
finished, amounts that are no amounts) is answered by a Reject saying why,
and changes nothing. A copy of a notice our operator has answered, which a
debtor whose answer was lost sends again, gets the same word again. An
answer that names no clearing of ours waiting for one changes nothing, so one
that comes late, twice or from another host is harmless.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation import clearing_vocab
from federation.clearing_vocab import InvalidClearing
from federation.instances import InstanceDirectory
from federation.outbox import new_activity_id
from federation.processing import Handler, Prefetch, dispatch_key
from federation.urls import InstanceUrls
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.settling.instance_senders import InstanceSenders, refused_as, reply
from settlement import clearings
from settlement.clearings import ClearingError
from settlement.models import Clearing
from settlement.money import MoneyError, parse_amount


class ClearingHandlers:
    def __init__(self, urls: InstanceUrls, directory: InstanceDirectory) -> None:
        self._urls = urls
        self._senders = InstanceSenders(directory, refused_as("clearing_refused"))

    def handlers(self) -> dict[str, Handler]:
        return {"Clearing": self.on_notice, "Accept:Clearing": self.on_answer, "Reject:Clearing": self.on_answer}

    def prefetchers(self) -> dict[str, Prefetch]:
        return dict.fromkeys(self.handlers(), self._senders.learn)

    def answers_copies(self, activity: dict[str, Any]) -> bool:
        """A debtor whose answer was lost sends its notice again, same id: only handling that copy answers it."""
        return dispatch_key(activity) == "Clearing"

    async def on_notice(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        host = await self._senders.host_of(session, activity)
        if host is None:
            return
        known = await clearings.by_uri(session, str(activity["id"]), host)
        if known is not None:
            await self._answer_again(session, activity, known, now)
            return
        try:
            notice = clearing_vocab.read_notice(activity)
            amount, netted = _amounts(notice)
            clearing = await clearings.receive_notice(
                session, uri=notice.id, host=host, currency=notice.currency, amount=amount, netted=netted,
                reference=notice.reference, now=now)
        except (InvalidClearing, ClearingError) as exc:
            event("clearing_refused", host=host, activity=activity["id"], reason=exc.code)
            await self._answer(session, activity, exc.code, now)
            return
        event("clearing", host=host, currency=clearing.currency, state=clearing.state, amount=clearing.amount,
              by="peer")

    async def _answer_again(self, session: AsyncSession, notice: dict[str, Any], clearing: Clearing,
                            now: datetime) -> None:
        """A copy of a notice our operator answered: the same word again; one still waiting for it gets none yet."""
        if clearing.we_paid or clearing.state == clearings.NOTIFIED:
            return
        reason = None if clearing.state == clearings.CONFIRMED else clearing.reason or clearings.NOT_RECEIVED
        await self._answer(session, notice, reason, now)

    async def on_answer(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        """The creditor's confirmation or dispute of a notice of ours still waiting for one."""
        host = await self._senders.host_of(session, activity)
        if host is None:
            return
        try:
            answer = clearing_vocab.read_answer(activity)
        except InvalidClearing as exc:
            event("clearing_refused", host=host, activity=activity["id"], reason=exc.code)
            return
        if answer.received:
            moved = await clearings.confirmed(session, host=host, uri=answer.clearing_id, answer_id=activity["id"],
                                              now=now)
        else:
            moved = await clearings.disputed(session, host=host, uri=answer.clearing_id, reason=answer.reason,
                                             answer_id=activity["id"], now=now)
        if moved is not None:
            event("clearing", host=host, currency=moved.currency, state=moved.state, amount=moved.amount, by="peer")

    async def _answer(self, session: AsyncSession, notice: dict[str, Any], reason: str | None, now: datetime) -> None:
        """Accept the notice when `reason` is None, Reject it saying why otherwise."""
        answer = clearing_vocab.answer(new_activity_id(self._urls), self._urls.actor(INSTANCE_ACTOR), notice["actor"],
                                       notice["id"], reason, now)
        await reply(session, notice, answer, now)


def _amounts(notice: clearing_vocab.Notice) -> tuple[int, int]:
    """The cash and the netted amount in minor units; a zero payment clears nothing and is no notice."""
    try:
        amount = parse_amount(notice.amount, notice.currency).amount
        netted = parse_amount(notice.netted, notice.currency, allow_zero=True).amount
    except MoneyError as exc:
        raise InvalidClearing("invalid_amount", str(exc)) from None
    return amount, netted
