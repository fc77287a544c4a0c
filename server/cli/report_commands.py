"""The operator's money reports: `mecene ledger check`, `mecene statements`, `mecene escrow list|release`.

A report that finds something wrong (an unbalanced transaction, money waiting
for an agreement that its shares do not account for, a broken conservation
identity) prints it and fails with a `CommandError` (exit status 1), so a cron
job or a script notices.
"""

from sqlalchemy import func, select

from config.settings import Settings
from server.cli.errors import CommandError
from server.cli.shared import opened
from settlement import awaited_payouts, escrow, ledger, statements
from settlement.ledger import UNBALANCED
from settlement.models import Entry, Transaction
from settlement.money import Money, format_amount
from settlement.statements import Conservation, PeriodLine, Statement

COLUMNS = ("owed to them", "in flight", "owed by them", "net")


async def ledger_check(settings: Settings) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        flaws = await ledger.check(session)
        mismatches = await awaited_payouts.mismatches(session)
        transactions = await session.scalar(select(func.count(Transaction.id)))
        entries = await session.scalar(select(func.count(Entry.id)))
    for mismatch in mismatches:
        print(f"awaiting_peer:{mismatch.host} holds {mismatch.balance} minor units of {mismatch.currency}, "
              f"its waiting shares add up to {mismatch.shares}")
    for flaw in flaws:
        if flaw.reason == UNBALANCED:
            print(f"transaction {flaw.transaction_id}: its {flaw.currency} entries sum to {flaw.total} minor units, "
                  "not zero")
        else:
            print(f"transaction {flaw.transaction_id}: {flaw.total} minor units of {flaw.currency} on an account "
                  "kept in another currency")
    if flaws:
        wrong = len({flaw.transaction_id for flaw in flaws})
        raise CommandError(f"the ledger does not balance ({wrong} of {transactions} transactions listed above)")
    if mismatches:
        raise CommandError("money waiting for agreements does not match its shares (see above)")
    print(f"ledger balances: {transactions} transactions, {entries} entries")
    return 0


async def statements_report(settings: Settings) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        found = await statements.statement(session, settings.instance.currency)
    print(_statement_text(found))
    if not found.conservation.holds:
        raise CommandError("money is not conserved (see above); run `mecene ledger check`")
    return 0


async def escrow_list(settings: Settings) -> int:
    options = settings.settlement
    async with opened(settings) as instance, instance.sessions() as session:
        holdings = await escrow.held(session, currency=settings.instance.currency,
                                     claim_months=options.escrow_claim_months, period_length=options.period)
    if not holdings:
        print("Escrow holds nothing.")
        return 0
    print("author\theld\tshares\toldest period\treturns to donors on")
    for holding in holdings:
        print(f"{holding.author}\t{_money(holding.amount, settings.instance.currency)}\t{holding.shares}\t"
              f"{holding.oldest_period}\t{holding.expires:%Y-%m-%d %H:%M} UTC")
    return 0


async def escrow_release(settings: Settings) -> int:
    options = settings.settlement
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        report = await escrow.release_expired(session, now=instance.clock(), claim_months=options.escrow_claim_months,
                                              currency=settings.instance.currency, period_length=options.period)
    if not report.releases:
        print(f"Nothing to return: no escrow has passed its {options.escrow_claim_months}-month claim window.")
        return 0
    for release in report.releases:
        print(f"returned {_money(release.amount, report.currency)} to {release.donor} "
              f"(held for {release.author}, period {release.period})")
    donors = len({release.donor for release in report.releases})
    print(f"Returned {_money(report.total, report.currency)} to {donors} donor{'s' if donors > 1 else ''}.")
    return 0


def _statement_text(found: Statement) -> str:
    def row(name: str, amounts: tuple[int, ...]) -> str:
        return f"{name:<30}" + "".join(f"{format_amount(Money(amount, found.currency)):>14}" for amount in amounts)

    lines = [f"{'instance (' + found.currency + ')':<30}" + "".join(f"{title:>14}" for title in COLUMNS)]
    for position in found.positions:
        lines.append(row(position.host, (position.owed_to, position.in_flight, position.owed_by, position.net)))
        lines += [f"  {_period_text(line, found.currency)}" for line in position.periods]
    if not found.positions:
        lines.append("(no payout sent to or received from another instance yet)")
    lines.append(row("total", (found.owed_to, found.in_flight, found.owed_by, found.net)))
    lines.append("net > 0: they owe us; in flight: sent, not answered yet.")
    lines.append(_conservation_text(found.conservation))
    return "\n".join(lines)


def _period_text(line: PeriodLine, currency: str) -> str:
    parts = [line.period]
    if line.sent is not None:
        parts.append(f"sent {_money(line.sent, currency)} ({line.state}: accepted {_money(line.accepted, currency)}, "
                     f"refused {_money(line.refused, currency)}, in flight {_money(line.in_flight, currency)})")
    if line.received is not None:
        parts.append(f"received {_money(line.received, currency)}")
    return "  ".join(parts)


def _conservation_text(value: Conservation) -> str:
    def money(amount: int) -> str:
        return _money(amount, value.currency)

    verdict = "holds" if value.holds else "DOES NOT HOLD"
    return (f"conservation: funded {money(value.funded)} + owed by instances {money(value.owed_by)} + "
            f"cleared in {money(value.cleared_in)} = wallets {money(value.wallets)} + creators "
            f"{money(value.creators)} + to withdraw {money(value.payable)} + pending {money(value.pending)} + "
            f"fees {money(value.fees)} + "
            f"escrow {money(value.escrow)} + awaiting agreements {money(value.awaiting)} + "
            f"in flight {money(value.in_flight)} + owed to instances {money(value.owed_to)} + "
            f"cleared out {money(value.cleared_out)} + paid out {money(value.paid_out)}: {verdict}")


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(Money(amount, currency))} {currency}"
