"""Withdrawals on a real database: asked from available money only, each step moving money once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from settlement import ledger, payout_details, wallets, withdrawals
from settlement.agreement_terms import payment_details
from settlement.ledger import AccountKey
from settlement.money import Money
from settlement.withdrawals import WithdrawalError, available, creator_key, payable_key

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MINIMUM = Money(1000, "EUR")
IBAN = "FR7630006000011234567890189"


async def earned(session: AsyncSession, username: str, amount: int, currency: str = "EUR") -> None:
    """What a close books for a local creator: available money, from donors' wallets."""
    await ledger.post(session, kind="close", idempotency_key=f"earned:{username}:{amount}:{currency}", now=NOW,
                      lines=[(wallets.wallet_key("dora", currency), -amount),
                             (creator_key(username, currency), amount)])


async def with_iban(session: AsyncSession, username: str, *, at: datetime = NOW - timedelta(days=3)) -> None:
    details = payment_details(iban=IBAN, account_holder="Carla Creator", instructions=None)
    await payout_details.save(session, username, details, now=at, cooling_off=timedelta(hours=48))


async def balance(session: AsyncSession, kind: str, owner: str) -> int:
    return await ledger.balance(session, AccountKey(kind, owner, "EUR"))


async def test_a_withdrawal_moves_available_money_to_payable_and_is_paid_once(session: AsyncSession) -> None:
    await earned(session, "carla", 5000)
    await with_iban(session, "carla")
    asked = await withdrawals.request(session, "carla", Money(3000, "EUR"), minimum=MINIMUM, now=NOW)
    assert (asked.state, asked.method, asked.iban, asked.account_holder) == ("requested", "sepa", IBAN,
                                                                             "Carla Creator")
    assert await available(session, "carla", "EUR") == Money(2000, "EUR")
    assert await balance(session, "payable", "carla") == 3000
    with pytest.raises(WithdrawalError) as twice:
        await withdrawals.request(session, "carla", Money(3000, "EUR"), minimum=MINIMUM, now=NOW)
    assert twice.value.code == "more_than_available"

    made = await withdrawals.batch(session, "EUR", None, NOW)
    assert not await withdrawals.cancel(session, asked, NOW)
    assert await withdrawals.executed(session, made, NOW)
    assert not await withdrawals.executed(session, made, NOW)
    assert (asked.state, await balance(session, "payable", "carla"), await balance(session, "payout", "bank")) == \
        ("paid", 0, 3000)
    assert await withdrawals.returned(session, asked, "account closed", NOW)
    assert not await withdrawals.returned(session, asked, "account closed", NOW)
    assert (asked.state, asked.reason, await balance(session, "payout", "bank")) == ("returned", "account closed", 0)
    assert await available(session, "carla", "EUR") == Money(5000, "EUR")
    assert await ledger.check(session) == []


async def test_canceled_and_returned_before_execution_go_back_to_available(session: AsyncSession) -> None:
    await earned(session, "carla", 5000)
    await with_iban(session, "carla")
    first = await withdrawals.request(session, "carla", Money(1000, "EUR"), minimum=MINIMUM, now=NOW)
    second = await withdrawals.request(session, "carla", Money(2000, "EUR"), minimum=MINIMUM, now=NOW)
    assert await withdrawals.cancel(session, first, NOW) and not await withdrawals.cancel(session, first, NOW)
    made = await withdrawals.batch(session, "EUR", [second.public_id], NOW)
    assert await withdrawals.returned(session, second, "wrong account", NOW)
    assert await withdrawals.executed(session, made, NOW)
    assert (first.state, second.state) == ("canceled", "returned")
    assert await available(session, "carla", "EUR") == Money(5000, "EUR")
    assert await balance(session, "payout", "bank") == 0 and await ledger.check(session) == []


@pytest.mark.parametrize(("setup", "money", "code"), [
    ("none", Money(1000, "EUR"), "no_payout_details"),
    ("fresh", Money(1000, "EUR"), "details_cooling_off"),
    ("iban", Money(999, "EUR"), "below_minimum"),
    ("iban", Money(6000, "EUR"), "more_than_available"),
    ("iban", Money(1000, "CHF"), "no_instructions"),
])
async def test_refused_withdrawals_change_nothing(session: AsyncSession, setup: str, money: Money, code: str) -> None:
    await earned(session, "carla", 5000)
    await earned(session, "carla", 5000, "CHF")
    if setup != "none":
        await with_iban(session, "carla", at=NOW - timedelta(hours=1) if setup == "fresh" else NOW - timedelta(days=3))
    with pytest.raises(WithdrawalError) as refused:
        await withdrawals.request(session, "carla", money, minimum=MINIMUM, now=NOW)
    assert refused.value.code == code
    assert await available(session, "carla", money.currency) == Money(5000, money.currency)
    assert await withdrawals.of_user(session, "carla") == []


async def test_earnings_move_to_the_own_wallet_once_per_key(session: AsyncSession) -> None:
    await earned(session, "carla", 5000)
    assert await withdrawals.to_wallet(session, "carla", Money(1500, "EUR"), "k1", NOW)
    assert not await withdrawals.to_wallet(session, "carla", Money(1500, "EUR"), "k1", NOW)
    with pytest.raises(WithdrawalError):
        await withdrawals.to_wallet(session, "carla", Money(3600, "EUR"), "k2", NOW)
    assert await wallets.wallet_balance(session, "carla", "EUR") == Money(1500, "EUR")
    assert await available(session, "carla", "EUR") == Money(3500, "EUR")


async def test_totals_waiting_per_currency(session: AsyncSession) -> None:
    await earned(session, "carla", 5000)
    await with_iban(session, "carla")
    await withdrawals.request(session, "carla", Money(1000, "EUR"), minimum=MINIMUM, now=NOW)
    second = await withdrawals.request(session, "carla", Money(2000, "EUR"), minimum=MINIMUM, now=NOW)
    await withdrawals.batch(session, "EUR", [second.public_id], NOW)
    assert await withdrawals.waiting_totals(session) == [withdrawals.Waiting("EUR", 1000, 2000)]
    assert payable_key("carla", "EUR") == AccountKey("payable", "carla", "EUR")
