"""Clearings as our operator makes them: see where we stand with each peer, record a transfer, confirm or dispute one.

One service for `mecene clearing` and the /admin/peers page. The debtor's
operator is told, per peer and currency, what to pay, to which account and
with which reference (`standings`); once the bank transfer is made it records
it (`record_paid`), which sends the creditor a signed `Clearing` notice. The
creditor's operator, having seen the money arrive, confirms it (`confirm`) or
disputes it (`dispute`), which answers the notice; both books move on
confirmation only (`settlement.clearings`). What was typed is checked first;
then the peer is asked for its instance actor; only then, in one transaction,
is the clearing recorded or moved and its activity queued.
"""

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation import clearing_vocab
from federation.outbox import new_activity_id, publish
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.i18n.current import N_
from server.instance import Instance
from server.peering import checked_currency, instance_actor, peer_host
from server.refusal import Kind, Refusal
from settlement import agreements, clearings, peer_statements, positions
from settlement.clearings import ClearingError
from settlement.models import Agreement, Clearing, StatementCheck
from settlement.money import Money, MoneyError, format_amount, parse_amount

#: A debtor is told to clear once it owes this share of the credit limit its peer set, or at each month's end.
THRESHOLD_PERCENT = 80
#: Why our operator disputes a notice when it gives no other reason.
NOT_RECEIVED = clearings.NOT_RECEIVED


@dataclass(frozen=True)
class Standing:
    """Where we stand with one peer in one currency, as `mecene clearing list` and the page show it."""

    host: str
    currency: str
    owed_to: int
    owed_by: int
    #: Where the peer wants to be paid, as its terms said.
    pay_to: str
    #: The peer's credit limit for us, when it told us one.
    their_limit: int | None
    #: The reference our operator's transfer should carry.
    reference: str
    unfinished: Clearing | None
    #: What the peer's latest statement showed against our books, once one came.
    statement: StatementCheck | None = None

    @property
    def to_pay(self) -> int:
        """What we owe net: what our operator should transfer (0 when the peer owes us, or we are even)."""
        return max(self.owed_to - self.owed_by, 0)

    @property
    def due(self) -> bool:
        """Past the threshold of the peer's credit limit: pay now rather than at the month's end."""
        return self.to_pay > 0 and self.their_limit is not None and (
            self.to_pay * 100 >= self.their_limit * THRESHOLD_PERCENT)

    def text(self, amount: int) -> str:
        return f"{format_amount(Money(amount, self.currency))} {self.currency}"


async def standings(instance: Instance) -> list[Standing]:
    """One line per peer and currency we ever had an agreement with, as our books stand now."""
    async with instance.sessions() as session:
        latest: dict[tuple[str, str], Agreement] = {}
        for agreement in await agreements.listed(session):
            if agreement.answered_at is not None and agreement.state in (agreements.IN_FORCE, agreements.ENDED):
                latest.setdefault((agreement.peer_host, agreement.currency), agreement)
        checks = await peer_statements.latest_checks(session)
        found = []
        for (host, currency), agreement in sorted(latest.items()):
            position = await positions.position(session, host, currency)
            number = await clearings.count_with(session, host, currency) + 1
            found.append(Standing(host, currency, position.owed_to, position.owed_by, _payment_text(agreement),
                                  agreement.peer_credit_limit, reference(instance, number),
                                  await clearings.open_clearing(session, host, currency),
                                  checks.get((host, currency))))
    return found


def reference(instance: Instance, number: int) -> str:
    """What our transfer's remittance line says, so the creditor's operator knows who paid and for which clearing."""
    return f"MECENE {instance.urls.host} {number}"[:clearing_vocab.MAX_REFERENCE_LENGTH]


async def record_paid(instance: Instance, typed_host: str, typed_amount: str, typed_currency: str,
                      typed_reference: str) -> Clearing:
    """Our operator transferred `typed_amount` to the peer: recorded, and the peer told by a signed notice."""
    host, currency = peer_host(instance, typed_host), checked_currency(typed_currency)
    amount, ref = _amount(typed_amount, currency), _reference(typed_reference)
    recipient, inbox = await instance_actor(instance, host)
    uri, now = f"{instance.settings.base_url}/clearings/{secrets.token_urlsafe(16)}", instance.clock()
    async with instance.sessions() as session, session.begin():
        try:
            recorded = await clearings.record_paid(session, uri=uri, host=host, currency=currency, amount=amount,
                                                   reference=ref, now=now)
        except ClearingError as exc:
            raise _refusal(exc) from None
        notice = clearing_vocab.Notice(uri, currency, _wire(amount, currency), _wire(recorded.netted, currency), ref)
        document = clearing_vocab.notice(instance.urls.actor(INSTANCE_ACTOR), recipient, notice, now)
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
    return _sent(instance, recorded)


async def confirm(instance: Instance, typed_host: str, typed_currency: str) -> Clearing:
    """Our operator saw the peer's transfer arrive: booked on our side, and the peer told."""
    return await _answer(instance, typed_host, typed_currency, None)


async def dispute(instance: Instance, typed_host: str, typed_currency: str) -> Clearing:
    """Our operator did not receive what the peer's notice says: nothing booked, and the peer told."""
    return await _answer(instance, typed_host, typed_currency, NOT_RECEIVED)


async def _answer(instance: Instance, typed_host: str, typed_currency: str, reason: str | None) -> Clearing:
    host, currency = peer_host(instance, typed_host), checked_currency(typed_currency)
    async with instance.sessions() as session:
        waiting = await clearings.open_clearing(session, host, currency)
    if waiting is None or waiting.state != clearings.NOTIFIED:
        verb = "dispute" if reason else "confirm"
        raise Refusal(Kind.NOT_FOUND, f"nothing_to_{verb}",
                      N_("No transfer from %(host)s in %(currency)s waits for you to %(verb)s it (see `mecene "
                         "clearing list`)."),
                      {"host": host, "currency": currency, "verb": verb})
    recipient, inbox = await instance_actor(instance, host)
    answer_id, now = new_activity_id(instance.urls), instance.clock()
    async with instance.sessions() as session, session.begin():
        clearing = await clearings.open_clearing(session, host, currency)
        moved = None if clearing is None else await _move(session, clearing, reason, answer_id, now)
        if moved is None:
            raise Refusal(Kind.CONFLICT, "clearing_changed", N_("The clearing with %(host)s changed meanwhile; "
                                                                "nothing was sent. Look again."),
                                                             {"host": host})
        document = clearing_vocab.answer(answer_id, instance.urls.actor(INSTANCE_ACTOR), recipient, moved.uri,
                                         reason, now)
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
    return _sent(instance, moved)


async def _move(session: AsyncSession, clearing: Clearing, reason: str | None, answer_id: str,
                now: datetime) -> Clearing | None:
    """Confirmed (and booked) or disputed; ClearingError from a confirmation our books cannot hold is a refusal."""
    if reason is not None:
        return await clearings.dispute(session, clearing, reason, answer_id, now)
    try:
        return await clearings.confirm(session, clearing, answer_id, now)
    except ClearingError as exc:
        raise _refusal(exc) from None


def _amount(typed: str, currency: str) -> int:
    try:
        return parse_amount(typed, currency).amount
    except MoneyError as exc:
        raise Refusal.of(exc) from None


def _reference(typed: str) -> str:
    """The reference the transfer carried: one printable line the creditor's operator can find in its statement."""
    text = typed.strip()
    if not 0 < len(text) <= clearing_vocab.MAX_REFERENCE_LENGTH or any(
            unicodedata.category(char).startswith("C") for char in text):
        raise Refusal(Kind.INVALID, "invalid_reference", N_("The reference is one line of 1 to "
                                                            "%(max_reference_length)s characters."),
                                                         {"max_reference_length": clearing_vocab.MAX_REFERENCE_LENGTH})
    return text


def _wire(amount: int, currency: str) -> str:
    return format_amount(Money(amount, currency))


def _payment_text(agreement: Agreement) -> str:
    details = agreements.peer_payment(agreement)
    return "—" if details is None else details.describe()


def _refusal(exc: ClearingError) -> Refusal:
    return Refusal.of(exc, Kind.CONFLICT if exc.code == clearings.CLEARING_OPEN else Kind.UNPROCESSABLE)


def _sent(instance: Instance, clearing: Clearing) -> Clearing:
    instance.delivery.wakeup.set()
    event("clearing", host=clearing.peer_host, currency=clearing.currency, state=clearing.state,
          amount=clearing.amount, by="us")
    return clearing

