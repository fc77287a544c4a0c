"""Agreements as our operator makes them: propose one to another Mecene instance, answer its Offer, end one, list them.

One service for `mecene peers` and the /admin/peers page, so both refuse the
same input with the same `Refusal` and change nothing when they do. What was
typed is checked first (the host, the currency, the credit limit, where to be
paid, and that we accept the currency), then whether there is anything to
answer or end, then the other instance is asked what it is: its NodeInfo must
name Mecene and its instance actor, and for a proposal accept the currency.
Only then, in one transaction, does the agreement move and its activity get
queued for that actor, so no agreement changes without its peer being told.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation import agreement_vocab, domain_blocks
from federation.errors import FederationError
from federation.outbox import new_activity_id, publish
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.i18n.current import N_
from server.instance import Instance
from server.refusal import Kind, Refusal
from settlement import agreement_terms, agreements
from settlement.agreement_terms import PaymentDetails, Terms, TermsError
from settlement.models import Agreement
from settlement.money import Money, format_amount

#: The states our operator may answer, and those our operator may end (withdrawing a proposal, or leaving).
ANSWERABLE = frozenset({agreements.OFFERED})
ENDABLE = frozenset(agreements.OUR_ENDS)


@dataclass(frozen=True)
class Typed:
    """Our side's terms as the operator typed them; blank payment fields count as not given."""

    currency: str
    credit_limit: str
    iban: str | None = None
    account_holder: str | None = None
    instructions: str | None = None


@dataclass(frozen=True)
class Listed:
    """An agreement as `mecene peers list` and the page show it: each side's terms as text ("—" while unsaid)."""

    agreement: Agreement
    our_limit: str
    their_limit: str
    our_payment: str
    their_payment: str

    @property
    def answerable(self) -> bool:
        return self.agreement.state in ANSWERABLE

    @property
    def endable(self) -> bool:
        return self.agreement.state in ENDABLE


async def listed(instance: Instance) -> list[Listed]:
    async with instance.sessions() as session:
        found = await agreements.listed(session)
    return [Listed(agreement, limit_text(agreement.credit_limit, agreement.currency),
                   limit_text(agreement.peer_credit_limit, agreement.currency),
                   _payment_text(agreements.our_payment(agreement)), _payment_text(agreements.peer_payment(agreement)))
            for agreement in found]


async def propose(instance: Instance, typed_host: str, typed: Typed) -> Agreement:
    """Offer `host` an agreement on our terms; refused while one with it in that currency is not finished."""
    host, ours = peer_host(instance, typed_host), _terms(typed)
    currency = _accepted_by_us(instance, ours.credit_limit.currency)
    async with instance.sessions() as session:
        if await agreements.open_agreement(session, host, currency) is not None:
            raise _unfinished(host, currency)
    recipient, inbox = await instance_actor(instance, host, accepting=currency)
    uri = f"{instance.settings.base_url}/agreements/{secrets.token_urlsafe(16)}"
    offer_id, now = _new_id(instance), instance.clock()
    async with instance.sessions() as session, session.begin():
        if not await agreements.propose(session, uri=uri, host=host, ours=ours, offer_id=offer_id, now=now):
            raise _unfinished(host, currency)
        document = agreement_vocab.offer(offer_id, _us(instance), recipient, wire_terms(uri, ours), now)
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
        proposed = await _open(session, host, currency)
    return _sent(instance, proposed)


async def accept(instance: Instance, typed_host: str, typed: Typed) -> Agreement:
    """Yes to the Offer `host` made in that currency, on our own terms, if we still accept that currency."""
    host, ours = peer_host(instance, typed_host), _terms(typed)
    currency = _accepted_by_us(instance, ours.credit_limit.currency)
    await _require(instance, host, currency, ANSWERABLE, "accept")
    recipient, inbox = await instance_actor(instance, host)
    answer_id, now = _new_id(instance), instance.clock()
    async with instance.sessions() as session, session.begin():
        accepted = await agreements.accept(session, await _open(session, host, currency), ours, answer_id, now)
        if accepted is None:
            raise _changed(host, currency)
        document = agreement_vocab.accept(answer_id, _us(instance), recipient, accepted.offer_activity_id,
                                          wire_terms(accepted.uri, ours), now)
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
    return _sent(instance, accepted)


async def decline(instance: Instance, typed_host: str, typed_currency: str) -> Agreement:
    host, currency = peer_host(instance, typed_host), checked_currency(typed_currency)
    await _require(instance, host, currency, ANSWERABLE, "decline")
    recipient, inbox = await instance_actor(instance, host)
    answer_id, now = _new_id(instance), instance.clock()
    async with instance.sessions() as session, session.begin():
        declined = await agreements.decline(session, await _open(session, host, currency), answer_id, now)
        if declined is None:
            raise _changed(host, currency)
        document = agreement_vocab.reject(answer_id, _us(instance), recipient, declined.offer_activity_id,
                                          agreements.DECLINED_BY_OPERATOR, now)
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
    return _sent(instance, declined)


async def end(instance: Instance, typed_host: str, typed_currency: str) -> Agreement:
    """Leave the agreement in force with `host` in that currency, or withdraw our proposal still unanswered.

    No new payouts go under it; what either side owes stays owed until cleared.
    """
    host, currency = peer_host(instance, typed_host), checked_currency(typed_currency)
    await _require(instance, host, currency, ENDABLE, "end")
    recipient, inbox = await instance_actor(instance, host)
    end_id, now = _new_id(instance), instance.clock()
    async with instance.sessions() as session, session.begin():
        ended = await agreements.end(session, await _open(session, host, currency), end_id, now)
        if ended is None:
            raise _changed(host, currency)
        document = agreement_vocab.leave(end_id, _us(instance), recipient, ended.uri, now)
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
    return _sent(instance, ended)


def wire_terms(uri: str, terms: Terms) -> agreement_vocab.Terms:
    payment = terms.payment
    return agreement_vocab.Terms(uri, terms.credit_limit.currency, format_amount(terms.credit_limit),
                                 agreement_vocab.PaymentDetails(payment.iban, payment.account_holder,
                                                                payment.instructions))


def limit_text(amount: int | None, currency: str) -> str:
    return "—" if amount is None else f"{format_amount(Money(amount, currency))} {currency}"


def _payment_text(details: PaymentDetails | None) -> str:
    return "—" if details is None else details.describe()


def peer_host(instance: Instance, typed: str) -> str:
    """The host as `example.org` or `example.org:8443`; a URL is taken for its host. Never ourselves."""
    try:
        host = domain_blocks.normalize_domain(typed)
    except ValueError:
        raise Refusal(Kind.INVALID, "invalid_host", N_("%(typed)s is not a host: write it as example.org, or "
                                                       "example.org:8443."),
                                                    {"typed": repr(typed.strip()[:300])}) from None
    if host == instance.urls.host:
        raise Refusal(Kind.INVALID, "invalid_host", N_("That is this instance: an agreement is with another one."))
    return host


def _terms(typed: Typed) -> Terms:
    try:
        return agreement_terms.terms(typed.currency.strip().upper(), typed.credit_limit, iban=typed.iban,
                                     account_holder=typed.account_holder, instructions=typed.instructions)
    except TermsError as exc:
        raise Refusal.of(exc) from None


def _accepted_by_us(instance: Instance, currency: str) -> str:
    """An agreement lets the peer pay our creators in its currency: only in one our configuration accepts."""
    accepted = instance.settings.instance.accepted_currencies
    if currency not in accepted:
        raise Refusal(Kind.INVALID, "currency_not_accepted",
                      N_("This instance accepts %(accepted)s only, not %(currency)s: add it to "
                         "instance.accepted_currencies in the configuration to agree in it."),
                      {"accepted": ", ".join(accepted), "currency": currency})
    return currency


def checked_currency(typed: str) -> str:
    try:
        return agreement_terms.checked_currency(typed.strip().upper())
    except TermsError as exc:
        raise Refusal.of(exc) from None


async def _require(instance: Instance, host: str, currency: str, states: frozenset[str], verb: str) -> None:
    """Refused, before the peer is asked anything, unless the unfinished agreement is in one of `states`."""
    async with instance.sessions() as session:
        found = await agreements.open_agreement(session, host, currency)
    if found is None or found.state not in states:
        shown = "none" if found is None else f"one {found.state}"
        raise Refusal(Kind.NOT_FOUND, "nothing_to_" + verb,
                      N_("There is nothing to %(verb)s with %(host)s in %(currency)s: %(shown)s (see `mecene peers "
                         "list`)."),
                      {"verb": verb, "host": host, "currency": currency, "shown": shown})


async def _open(session: AsyncSession, host: str, currency: str) -> Agreement:
    """The unfinished agreement read again in the transaction that moves it; gone meanwhile is a refusal."""
    found = await agreements.open_agreement(session, host, currency)
    if found is None:
        raise _changed(host, currency)
    return found


async def instance_actor(instance: Instance, host: str, *, accepting: str | None = None) -> tuple[str, str]:
    """The actor that speaks for `host` by its NodeInfo, and its inbox; refused when it runs no Mecene.

    With `accepting`, refused too when its NodeInfo says it does not accept that currency (it would only reject
    the Offer); that NodeInfo is then asked again rather than remembered, so a currency its operator has just
    added counts at once.
    """
    try:
        info = await instance.directory.info(host, ask=accepting is not None)
        if not info.mecene or info.instance_actor is None:
            raise Refusal(Kind.UNPROCESSABLE, "not_mecene",
                          N_("%(host)s does not run Mecene (its NodeInfo names no Mecene instance actor)."),
                          {"host": host})
        if accepting is not None and not info.accepts(accepting):
            raise Refusal(Kind.UNPROCESSABLE, "peer_does_not_accept",
                          N_("%(host)s accepts %(accepted_currencies)s only, not %(accepting)s (by its NodeInfo): "
                             "propose in one of those."),
                          {"host": host, "accepted_currencies": ", ".join(info.accepted_currencies),
                           "accepting": accepting})
        actor = await instance.actors.actor(info.instance_actor)
    except FederationError as exc:
        raise Refusal(Kind.UPSTREAM, "peer_unreachable", N_("Could not ask %(host)s: %(safe_message)s"),
                                                         {"host": host, "safe_message": exc.safe_message}) from None
    return info.instance_actor, actor.inbox


def _new_id(instance: Instance) -> str:
    return new_activity_id(instance.urls)


def _us(instance: Instance) -> str:
    return instance.urls.actor(INSTANCE_ACTOR)


def _sent(instance: Instance, agreement: Agreement) -> Agreement:
    """The activity is queued: the delivery worker of this process may send it at once."""
    instance.delivery.wakeup.set()
    event("agreement", host=agreement.peer_host, currency=agreement.currency, state=agreement.state, by="us")
    return agreement


def _unfinished(host: str, currency: str) -> Refusal:
    return Refusal(Kind.CONFLICT, "agreement_exists",
                   N_("An agreement with %(host)s in %(currency)s is not finished yet (see `mecene peers list`)."),
                   {"host": host, "currency": currency})


def _changed(host: str, currency: str) -> Refusal:
    return Refusal(Kind.CONFLICT, "agreement_changed",
                   N_("The agreement with %(host)s in %(currency)s changed meanwhile; nothing was sent. Look again."),
                   {"host": host, "currency": currency})
