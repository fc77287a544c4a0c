"""`mecene topups list|receive|import|refund|retry-refunds|decline`: money in, from the operator's side.

Each command calls `server.payments.wallet_service`, as the pages do: a
refusal (an unknown top-up, a bad amount, a bank refund without the reference
of the transfer back) is printed as `mecene: …` with exit status 1, and
nothing changed. A transfer or a statement line that credits nothing is told
the operator too: only they can return it or credit it by hand.
"""

import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from config.settings import Settings
from server.cli.errors import CommandError
from server.cli.shared import opened
from server.payments import bank_transfers, wallet_service
from server.payments.bank_transfers import Received, StatementLine
from server.payments.providers import Payments
from settlement import disputes, refunds, topups, wallets
from settlement.models import Dispute, Refund, RefundRequest, TopUp
from settlement.money import Money, format_amount

#: How many top-ups `list` shows, the newest: an operator reads them, and the oldest are settled long ago.
SHOWN = 200
#: What an outcome's own message does not already say.
_LABELS = {bank_transfers.UNKNOWN_REFERENCE: "unknown reference: ", bank_transfers.REFUSED: "refused: "}


async def list_topups(settings: Settings, state: str | None) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        found = await topups.listed(session, state=state, limit=SHOWN)
        asked = await refunds.open_requests(session)
        opened_disputes = await disputes.still_open(session)
        unsent = [(refund, await session.get_one(TopUp, refund.topup_id)) for refund in await refunds.unsent(session)]
    _section(f"Top-ups{f' {state}' if state else ''}, newest first", [_topup_line(topup) for topup in found])
    if len(found) == SHOWN:
        print(f"  (the newest {SHOWN} only)")
    _section("Refund requests still asked (mecene topups refund, or decline)", [_request_line(row) for row in asked])
    _section("Disputes still open", [_dispute_line(row) for row in opened_disputes])
    _section("Refunds left sending (mecene topups retry-refunds)",
             [_unsent_line(refund, topup) for refund, topup in unsent])
    return 0


async def receive(settings: Settings, text: str, amount: str) -> int:
    """Exit status 0 only when the transfer credited a wallet: anything else leaves the operator something to do."""
    async with opened(settings) as instance:
        done = await wallet_service.receive_transfer(instance.sessions, text, amount, settings.instance.currency,
                                                     instance.clock())
        if done.outcome != bank_transfers.CREDITED or done.topup is None:
            raise CommandError(f"{done.reference}: {_said(done)}")
        async with instance.sessions() as session:
            wallet = await wallets.wallet_balance(session, done.topup.username, done.topup.currency)
    print(f"{done.reference}: {_money(done.topup.amount, done.topup.currency)} {done.message} (top-up "
          f"{done.topup.public_id}); wallet now {_money(wallet.amount, wallet.currency)}.")
    return 0


async def import_statement(settings: Settings, file: str) -> int:
    """One line per line of the file, then the counts; lines that credit nothing are reported, not failed."""
    content = _read(file)
    async with opened(settings) as instance:
        done = await wallet_service.import_statement(instance.sessions, content, settings.instance.currency,
                                                     instance.clock())
    for line, received in done:
        print(f"line {line.line}\t{_statement_line(line, received)}")
    counted = Counter(received.outcome if received else "" for _, received in done)
    print(f"{len(done)} lines: {counted[bank_transfers.CREDITED]} credited, "
          f"{counted[bank_transfers.ALREADY_CREDITED]} already credited, "
          f"{counted[bank_transfers.UNKNOWN_REFERENCE]} unknown reference, {counted[bank_transfers.REFUSED]} refused, "
          f"{counted['']} not credits or unreadable.")
    return 0


async def refund(settings: Settings, public_id: str, amount: str | None, reference: str) -> int:
    async with opened(settings) as instance, _payments(settings) as payments:
        made = await wallet_service.refund(instance.sessions, payments, public_id, amount, reference, instance.clock)
    print(f"Refund {made.public_id}: {_money(made.amount, made.currency)} of top-up {public_id} back to "
          f"{made.username}, provider reference {made.provider_reference}.")
    return 0


async def retry_refunds(settings: Settings) -> int:
    async with opened(settings) as instance, _payments(settings) as payments:
        sent = await wallet_service.retry_refunds(instance.sessions, payments, instance.clock)
    for made in sent:
        print(f"Refund {made.public_id}: {_money(made.amount, made.currency)} back to {made.username}, provider "
              f"reference {made.provider_reference}.")
    if not sent:
        print("No refund waiting to be sent.")
    return 0


async def decline(settings: Settings, username: str, reason: str) -> int:
    currency = settings.instance.currency
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        await wallet_service.decline_request(session, username, currency, reason, instance.clock())
    print(f"Declined the refund request of {username} ({currency}); they read: {reason.strip()}")
    return 0


@asynccontextmanager
async def _payments(settings: Settings) -> AsyncIterator[Payments]:
    """The providers enabled, for a refund to be paid back through the one that took the money."""
    payments = Payments(settings.payments)
    try:
        yield payments
    finally:
        await payments.close()


def _read(file: str) -> str:
    """The statement's text, read before the instance is opened: a file that cannot be read changes nothing."""
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        return data.decode("utf-8-sig")
    except OSError as error:
        raise CommandError(f"cannot read {file}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise CommandError(f"{file} is not UTF-8 text (byte {error.start}); export the statement as UTF-8 CSV") \
            from error


def _section(title: str, lines: Sequence[str]) -> None:
    print(f"{title}:")
    for line in lines or ["none"]:
        print(f"  {line}")


def _topup_line(topup: TopUp) -> str:
    refunded = f" ({_money(topup.refunded, topup.currency)} refunded)" if topup.refunded else ""
    return (f"{topup.public_id}\t{_when(topup.created_at)}\t{topup.username}\t{topup.provider}\t"
            f"{_money(topup.amount, topup.currency)}{refunded}\t{topup.state}\t{topup.reference or '-'}")


def _request_line(request: RefundRequest) -> str:
    return f"{request.username}\t{_when(request.asked_at)}\t{request.note or '(no note)'}"


def _dispute_line(dispute: Dispute) -> str:
    return (f"{dispute.public_id}\t{_when(dispute.opened_at)}\t{dispute.username}\t{dispute.provider}\t"
            f"{_money(dispute.amount, dispute.currency)}\t{dispute.reason or '-'}")


def _unsent_line(made: Refund, topup: TopUp) -> str:
    return (f"{made.public_id}\t{_when(made.created_at)}\t{made.username}\t{_money(made.amount, made.currency)}\t"
            f"of top-up {topup.public_id} ({topup.provider})")


def _statement_line(line: StatementLine, received: Received | None) -> str:
    amount = _money(line.money.amount, line.money.currency) if line.money else "?"
    if received is not None:
        return f"{received.reference}\t{amount}\t{_said(received)}"
    reference = bank_transfers.find_reference(line.text) or line.text[:60]
    return f"{reference}\t{amount}\tnot credited: {line.error or 'not a credit'}"


def _said(received: Received) -> str:
    return _LABELS.get(received.outcome, "") + received.message


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(Money(amount, currency))} {currency}"
