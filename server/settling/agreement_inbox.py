"""Agreements arriving from other Mecene instances: their Offers, their answers to ours, and their Leaves.

Only an instance's own actor, the one its NodeInfo names, may propose, answer
or end for it; anything else is logged and changes nothing. Every field is
read twice: its shape by `federation.agreement_vocab`, its meaning (a real
currency and its digits, an IBAN's checksum) by `settlement.agreement_terms`.
An Offer that fails either, that is in a currency we do not accept, or that
would open a second unfinished agreement with that instance in one currency,
is answered by a Reject saying why. An answer or a Leave that names nothing
of ours waiting for it changes nothing, so one that comes late, twice, or
from another host is harmless.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation import agreement_vocab, delivery_queue
from federation.agreement_vocab import InvalidAgreement
from federation.instances import InstanceDirectory
from federation.outbox import new_activity_id
from federation.processing import Handler, Prefetch, dispatch_key
from federation.urls import InstanceUrls
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.settling.instance_senders import InstanceSenders, refused_as, reply
from settlement import agreement_terms, agreements
from settlement.agreement_terms import Terms, TermsError

#: Why an Offer is rejected when an agreement with its sender in its currency is not finished yet.
AGREEMENT_EXISTS = "agreement_exists"
#: Why an Offer is rejected when it is in a currency our configuration does not accept.
CURRENCY_NOT_ACCEPTED = "currency_not_accepted"


class AgreementHandlers:
    def __init__(self, urls: InstanceUrls, directory: InstanceDirectory, accepted_currencies: tuple[str, ...]) -> None:
        self._urls = urls
        self._senders = InstanceSenders(directory, refused_as("agreement_refused"))
        self._accepted = accepted_currencies

    def handlers(self) -> dict[str, Handler]:
        return {"Offer": self.on_offer, "Accept:Offer": self.on_answer, "Reject:Offer": self.on_answer,
                "Leave": self.on_leave}

    def answers_copies(self, activity: dict[str, Any]) -> bool:
        """A proposer whose answer was lost sends its Offer again, same id: only handling that copy answers it."""
        return dispatch_key(activity) == "Offer" and agreement_vocab.names_an_agreement(activity)

    def prefetchers(self) -> dict[str, Prefetch]:
        return dict.fromkeys(self.handlers(), self.learn_sender)

    async def learn_sender(self, activity: dict[str, Any]) -> None:
        """Ask the sender's NodeInfo who its instance actor is, before the handler's transaction, if ours to read."""
        if _ours_to_read(activity):
            await self._senders.learn(activity)

    async def on_offer(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        """Kept for our operator, or rejected; a copy of an Offer our operator answered gets that answer again.

        The proposer sends its Offer again while it has no answer
        (`server.settling.agreement_resends`): our Accept or Reject may have
        been given up on the way. A copy of one still waiting for our operator
        gets nothing yet.
        """
        host = await self._senders.host_of(session, activity) if _ours_to_read(activity) else None
        if host is None:
            return
        try:
            wire = agreement_vocab.read_offer(activity)
            theirs = settled_terms(wire)
        except (InvalidAgreement, TermsError) as exc:
            await self._reject(session, activity, host, exc.code, now)
            return
        if wire.currency not in self._accepted:
            reason = CURRENCY_NOT_ACCEPTED
        elif await agreements.receive_offer(session, uri=wire.agreement_id, host=host, theirs=theirs,
                                            offer_id=activity["id"], now=now):
            event("agreement", host=host, currency=wire.currency, state=agreements.OFFERED, by="peer")
            return
        else:
            reason = AGREEMENT_EXISTS
        known = await agreements.by_uri(session, wire.agreement_id, host)
        if known is None:
            await self._reject(session, activity, host, reason, now)
        elif known.answer_activity_id is not None and not known.proposed_by_us:
            await delivery_queue.send_again(session, known.answer_activity_id, now)

    async def on_answer(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        """The peer's Accept or Reject of an Offer of ours still waiting for one; anything else changes nothing."""
        host = await self._senders.host_of(session, activity)
        if host is None:
            return
        try:
            answer = agreement_vocab.read_answer(activity)
            if answer.terms is None:
                moved = await agreements.declined(session, host=host, offer_id=answer.offer_id, reason=answer.reason,
                                                  answer_id=activity["id"], now=now)
            else:
                moved = await agreements.accepted(session, host=host, offer_id=answer.offer_id,
                                                  uri=answer.terms.agreement_id, theirs=settled_terms(answer.terms),
                                                  answer_id=activity["id"], now=now)
        except (InvalidAgreement, TermsError) as exc:
            event("agreement_refused", host=host, activity=activity["id"], reason=exc.code)
            return
        if moved is not None:
            event("agreement", host=host, currency=moved.currency, state=moved.state, by="peer")

    async def on_leave(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        host = await self._senders.host_of(session, activity) if _ours_to_read(activity) else None
        if host is None:
            return
        try:
            uri = agreement_vocab.read_leave(activity)
        except InvalidAgreement as exc:
            event("agreement_refused", host=host, activity=activity["id"], reason=exc.code)
            return
        ended = await agreements.left(session, host=host, uri=uri, end_id=activity["id"], now=now)
        if ended is not None:
            event("agreement", host=host, currency=ended.currency, state=ended.state, by="peer")

    async def _reject(self, session: AsyncSession, offer: dict[str, Any], host: str, reason: str,
                      now: datetime) -> None:
        event("agreement_refused", host=host, activity=offer["id"], reason=reason)
        answer = agreement_vocab.reject(new_activity_id(self._urls), self._urls.actor(INSTANCE_ACTOR), offer["actor"],
                                        offer["id"], reason, now)
        await reply(session, offer, answer, now)


def _ours_to_read(activity: dict[str, Any]) -> bool:
    """An answer to an Offer may be to ours; an Offer or a Leave is about an agreement or is none of our business."""
    return activity.get("type") in ("Accept", "Reject") or agreement_vocab.names_an_agreement(activity)


def settled_terms(wire: agreement_vocab.Terms) -> Terms:
    """A peer's terms as read off the wire, judged as the settlement layer judges what our operator types."""
    payment = wire.payment
    return agreement_terms.terms(wire.currency, wire.credit_limit, iban=payment.iban,
                                 account_holder=payment.account_holder, instructions=payment.instructions)
