"""Each period's statements between peers: ours sent to every peer we ever agreed with, theirs checked on arrival.

After a period ends and is closed, the settlement tick sends every peer with an agreement
made before it ended (in force or ended since: what is owed stays owed) one signed `Statement` per
currency of what our books say (`settlement.peer_statements`), once: the row
recording it is written in the transaction that queues it. A peer's
statement, from its instance actor only, is compared with our books and the
result kept for our operator (`mecene clearing list`), who sees the lines
that differ; the peer does the same with ours, so both operators see any
disagreement.
"""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from federation import statement_vocab
from federation.errors import FederationError
from federation.instances import InstanceDirectory
from federation.outbox import publish
from federation.processing import Handler, Prefetch
from federation.statement_vocab import RECEIVED, SENT, InvalidStatement
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.instance import Instance
from server.settling.closing import due_periods
from server.settling.instance_senders import InstanceSenders, refused_as
from settlement import peer_statements
from settlement.money import Money, MoneyError, format_amount, parse_amount
from settlement.peer_statements import Books
from settlement.periods import Period, period_of


def statement_id(instance: Instance, label: str, host: str, currency: str) -> str:
    return f"{instance.settings.base_url}/statements/{label}/{quote(host, safe='')}/{currency}"


async def send_statements(instance: Instance) -> int:
    """Our statement of the period just ended to every peer not sent it yet; a peer we cannot reach waits.

    Sent once that period is closed here (or had nothing to close): a close
    still to run would change what the statement says.
    """
    ended = await _ended_period(instance)
    if ended is None:
        return 0
    async with instance.sessions() as session:
        due = await peer_statements.unsent(session, ended.label, ended.end)
    return sum([await _send(instance, ended.label, host, currency) for host, currency in due])


async def _ended_period(instance: Instance) -> Period | None:
    """The period before the current one, once its close delay has passed and no close is still to run."""
    options = instance.settings.settlement
    ended = period_of(instance.current_period().start - timedelta(microseconds=1), options.period)
    if instance.clock() < ended.end + timedelta(minutes=options.close_delay_minutes) or await due_periods(instance):
        return None
    return ended


async def _send(instance: Instance, label: str, host: str, currency: str) -> int:
    try:
        info = await instance.directory.info(host)
        if info.instance_actor is None:
            return 0
        inbox = (await instance.actors.actor(info.instance_actor)).inbox
    except FederationError:
        return 0
    activity_id, now = statement_id(instance, label, host, currency), instance.clock()
    async with instance.sessions() as session, session.begin():
        if not await peer_statements.record_sent(session, label=label, host=host, currency=currency,
                                                 activity_id=activity_id, now=now):
            return 0
        books = await peer_statements.books(session, host, currency)
        document = statement_vocab.statement(instance.urls.actor(INSTANCE_ACTOR), info.instance_actor,
                                             _wire(activity_id, label, books, now))
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=now)
    instance.delivery.wakeup.set()
    return 1


def _wire(activity_id: str, label: str, books: Books, now: datetime) -> statement_vocab.Statement:
    def text(amount: int) -> str:
        return format_amount(Money(amount, books.currency))

    payouts = [statement_vocab.PayoutLine(payout_id, SENT, text(amount)) for payout_id, amount in books.sent.items()]
    payouts += [statement_vocab.PayoutLine(payout_id, RECEIVED, text(amount))
                for payout_id, amount in books.received.items()]
    clearings = [statement_vocab.ClearingLine(uri, cash > 0, text(abs(cash)), text(netted))
                 for uri, (cash, netted) in books.cleared.items()]
    return statement_vocab.Statement(activity_id, label, books.currency, text(books.owed_to), text(books.owed_by),
                                     payouts, clearings, now)


class StatementHandlers:
    def __init__(self, directory: InstanceDirectory) -> None:
        self._senders = InstanceSenders(directory, refused_as("statement_refused"))

    def handlers(self) -> dict[str, Handler]:
        return {"Statement": self.on_statement}

    def prefetchers(self) -> dict[str, Prefetch]:
        return dict.fromkeys(self.handlers(), self._senders.learn)

    async def on_statement(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        """Compare the peer's statement with our books and keep what differs; a bad one is logged and dropped."""
        host = await self._senders.host_of(session, activity)
        if host is None:
            return
        try:
            read = statement_vocab.read_statement(activity)
            theirs = _books(read)
        except InvalidStatement as exc:
            event("statement_refused", host=host, activity=activity["id"], reason=exc.code)
            return
        differences = await peer_statements.compare(session, host, theirs, read.published)
        if await peer_statements.record_check(session, activity_id=activity["id"], label=read.period, host=host,
                                              currency=read.currency, differences=differences, now=now):
            event("statement_checked", host=host, period=read.period, currency=read.currency,
                  result="differ" if differences else "agree", differences=len(differences))


def _books(wire: statement_vocab.Statement) -> Books:
    """Their statement in minor units, from their side; an amount that is no amount of the currency is refused."""
    try:
        def units(text: str) -> int:
            return parse_amount(text, wire.currency, allow_zero=True).amount

        sent = {line.id: units(line.amount) for line in wire.payouts if line.direction == SENT}
        received = {line.id: units(line.amount) for line in wire.payouts if line.direction == RECEIVED}
        cleared = {line.id: (units(line.amount) * (1 if line.paid else -1), units(line.netted))
                   for line in wire.clearings}
        return Books(wire.currency, units(wire.owed_to), units(wire.owed_by), sent, received, cleared)
    except MoneyError as exc:
        raise InvalidStatement("invalid_amount", str(exc)) from None
