"""`mecene withdrawals list|batch|file|others|executed|return`: money out, from the operator's side.

Each command calls `server.withdrawing`, as the operator's page does: a
refusal (an unknown batch or withdrawal, a batch marked executed twice, a
line returned without a reason) is printed as `mecene: …` with exit status 1,
and nothing changed. The SEPA file is written only once it passed its
schema, so a refused one leaves no file behind either.
"""

import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from server.cli.errors import CommandError
from server.cli.shared import opened
from server.i18n.current import N_
from server.refusal import Kind, Refusal
from server.storable import checked_text, is_storable
from server.withdrawing import bank_files, service
from settlement import withdrawals
from settlement.models import Withdrawal, WithdrawalBatch
from settlement.money import Money, MoneyError, format_amount, minor_digits
from settlement.withdrawals import Waiting

#: How many withdrawals `list` shows, the newest: an operator reads them, and the oldest are paid long ago.
SHOWN = 200
#: The longest reason a returned line keeps, as `settlement.withdrawals` stores it: longer is refused, not cut.
MAX_REASON = 300


async def list_withdrawals(settings: Settings, state: str | None) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        found = await withdrawals.listed(session, state=state, limit=SHOWN)
        named = await _batch_names(session, found)
        totals = await withdrawals.waiting_totals(session)
        made = [(batch, await withdrawals.lines(session, batch)) for batch in await withdrawals.batches(session)]
    _section(f"Withdrawals{f' {state}' if state else ''}, newest first",
             [_withdrawal_line(row, named) for row in found])
    if len(found) == SHOWN:
        print(f"  (the newest {SHOWN} only)")
    _section("Waiting to be paid, per currency", [_waiting_line(waiting) for waiting in totals])
    _section("Batches, newest first", [_batch_line(batch, lines) for batch, lines in made])
    return 0


async def batch(settings: Settings, currency: str, public_ids: Sequence[str]) -> int:
    """Named withdrawals are checked first, so a mistyped one refuses the batch instead of being left out."""
    code = _currency(currency)
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        for public_id in public_ids:
            _check_waiting(await _withdrawal(session, public_id), public_id, code)
        made = await service.batch(session, code, list(public_ids) or None, instance.clock())
        lines = await withdrawals.lines(session, made)
        named = {made.id: made.public_id}
    print(f"Approved batch {made.public_id} in {code}: {_count(lines)}, {_total(lines, code)}.")
    for row in lines:
        print(f"  {_withdrawal_line(row, named)}")
    print(f"Pay it (mecene withdrawals file {made.public_id}, and others {made.public_id}), then mark it paid with "
          f"mecene withdrawals executed {made.public_id}.")
    return 0


async def sepa_file(settings: Settings, public_id: str, out: str | None, execution_date: date | None) -> int:
    """To standard output as bytes, as the bank reads them: the file is UTF-8 whatever the terminal's encoding."""
    async with opened(settings) as instance:
        async with instance.sessions() as session:
            made = await service.the_batch(session, public_id)
            lines = await withdrawals.lines(session, made)
        day = execution_date or instance.clock().date()
        content = bank_files.sepa_file(settings.payments, settings.instance.name, made, lines, day)
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return 0
    _write(Path(out), content)
    print(f"Wrote the SEPA file of batch {made.public_id} to {out}, execution date {day:%Y-%m-%d}; once your bank "
          f"ran it: mecene withdrawals executed {made.public_id}.")
    return 0


async def other_lines(settings: Settings, public_id: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        lines = await withdrawals.lines(session, await service.the_batch(session, public_id))
    print(bank_files.other_lines(lines), end="")
    return 0


async def executed(settings: Settings, public_id: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        made = await service.executed(session, public_id, instance.clock())
        paid = [row for row in await withdrawals.lines(session, made) if row.state == withdrawals.PAY.target]
    print(f"Batch {made.public_id} marked executed: {_count(paid)} paid, {_total(paid, made.currency)}, which has "
          "left the books.")
    return 0


async def return_line(settings: Settings, public_id: str, reason: str) -> int:
    checked_text(reason, N_("The reason"), MAX_REASON)
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        row = await service.return_line(session, public_id, reason, instance.clock())
    print(f"Returned {row.public_id}: {_money(row.amount, row.currency)} is available to {row.username} again, who "
          f"reads: {row.reason}")
    return 0


def _currency(typed: str) -> str:
    code = typed.strip().upper()
    try:
        minor_digits(code)
    except MoneyError as error:
        raise CommandError(str(error)) from error
    return code


async def _withdrawal(session: AsyncSession, public_id: str) -> Withdrawal | None:
    return await withdrawals.by_public_id(session, public_id) if is_storable(public_id) else None


def _check_waiting(row: Withdrawal | None, public_id: str, currency: str) -> None:
    if row is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", f"No withdrawal {public_id!r}.")
    if row.currency != currency:
        raise Refusal(Kind.INVALID, "other_currency", f"Withdrawal {public_id} is in {row.currency}, not {currency}.")
    if row.state != withdrawals.BATCH.source:
        raise Refusal(Kind.CONFLICT, "not_waiting", f"Withdrawal {public_id} is {row.state}: only one still "
                                                    "requested can be batched.")


async def _batch_names(session: AsyncSession, rows: Sequence[Withdrawal]) -> dict[int, str]:
    """The public id of each batch the rows are in, by its row id."""
    ids = {row.batch_id for row in rows if row.batch_id is not None}
    found = await session.execute(select(WithdrawalBatch.id, WithdrawalBatch.public_id)
                                  .where(WithdrawalBatch.id.in_(ids)))
    return {row_id: public_id for row_id, public_id in found}


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from error


def _section(title: str, lines: Sequence[str]) -> None:
    print(f"{title}:")
    for line in lines or ["none"]:
        print(f"  {line}")


def _withdrawal_line(row: Withdrawal, batches: Mapping[int, str]) -> str:
    batch_id = "-" if row.batch_id is None else batches[row.batch_id]
    return (f"{row.public_id}\t{row.requested_at:%Y-%m-%d %H:%M}\t{row.username}\t{_money(row.amount, row.currency)}"
            f"\t{row.method}\t{row.state}\t{batch_id}\t{row.reason or '-'}")


def _waiting_line(waiting: Waiting) -> str:
    return (f"{waiting.currency}\t{_money(waiting.requested, waiting.currency)} requested\t"
            f"{_money(waiting.batched, waiting.currency)} batched")


def _batch_line(made: WithdrawalBatch, lines: Sequence[Withdrawal]) -> str:
    """The total is what the batch pays: a line that came back is counted apart."""
    kept = [row for row in lines if row.state != bank_files.RETURNED]
    returned = f" ({len(lines) - len(kept)} returned)" if len(kept) < len(lines) else ""
    return (f"{made.public_id}\t{made.created_at:%Y-%m-%d %H:%M}\t{made.currency}\t{made.state}\t"
            f"{_count(lines)}{returned}\t{_total(kept, made.currency)}")


def _count(lines: Sequence[Withdrawal]) -> str:
    return f"{len(lines)} withdrawal{'' if len(lines) == 1 else 's'}"


def _total(lines: Sequence[Withdrawal], currency: str) -> str:
    return _money(sum(row.amount for row in lines), currency)


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(Money(amount, currency))} {currency}"
