"""A creator's available and pending money per currency, and which instances the pending part waits on."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_earnings import BOB, ESSAY, NOTE, close

from settlement import clearings, creator_balances, ledger, payouts, topups
from settlement.accounts import CREATOR, PENDING
from settlement.creator_balances import Balance, Waiting
from settlement.ledger import AccountKey
from settlement.models import Agreement
from settlement.money import Money
from settlement.payouts import IncomingLine
from settlement.periods import parse_period

CAROL = "https://here.example/users/carol"
CREATORS = {BOB: "bob", CAROL: "carol"}
NOW = parse_period("2026-11").start


async def paid_by(session: AsyncSession, host: str, number: int, currency: str, lines: dict[str, int]) -> None:
    """A Payout from `host` credits our creators, as the payout inbox does: pending until `host` clears."""
    refused = await payouts.receive(
        session, payout_id=f"https://{host}/payouts/{number}", source=host, period="2026-10", currency=currency,
        lines=[IncomingLine(author, f"{author}/things/{number}", amount, currency, 1)
               for author, amount in lines.items()],
        creators=CREATORS, credit_limit=100_000, now=NOW)
    assert refused == []


async def cleared(session: AsyncSession, host: str, amount: int) -> None:
    """`host` paid us `amount` by bank and our operator confirmed it: that much of its credits is released."""
    session.add(Agreement(uri=f"https://{host}/agreements/1", peer_host=host, currency="EUR", state="in_force",
                          proposed_by_us=False, credit_limit=100_000, peer_credit_limit=100_000,
                          offer_activity_id=f"https://{host}/activities/offer", created_at=NOW, answered_at=NOW))
    await session.flush()
    notice = await clearings.receive_notice(session, uri=f"https://{host}/clearings/1", host=host, currency="EUR",
                                            amount=amount, netted=0, reference=f"MECENE {host} 1", now=NOW)
    assert await clearings.confirm(session, notice, f"https://here.example/activities/{host}", NOW) is not None


async def test_available_and_pending_per_currency_with_the_instances_pending_money_waits_on(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, "2026-10", {"alice": (400, [ESSAY, NOTE])})
    async with sessions() as session, session.begin():
        await topups.credit_by_hand(session, username="alice", money=Money(900, "EUR"), reference="more",
                                              now=NOW)
        await paid_by(session, "mecene.example", 1, "EUR", {BOB: 70, CAROL: 20})
        await paid_by(session, "mecene.example", 2, "EUR", {BOB: 40})
        await paid_by(session, "other.example", 1, "EUR", {BOB: 45})
        await paid_by(session, "chf.example", 1, "CHF", {BOB: 500})
        await cleared(session, "mecene.example", 80)

    async with sessions() as session:
        bob = await creator_balances.of_creator(session, "bob")
        assert bob == [
            Balance("CHF", 0, 500, (Waiting("chf.example", 500),)),
            Balance("EUR", 400 + 70, 40 + 45, (Waiting("other.example", 45), Waiting("mecene.example", 40)))]
        assert await creator_balances.of_creator(session, "carol") == [
            Balance("EUR", 10, 10, (Waiting("mecene.example", 10),))]
        assert await creator_balances.of_creator(session, "alice") == [], "a donor's wallet is not earned money"
        assert await creator_balances.of_creator(session, "dave") == []
        for found in bob:
            assert found.available == await ledger.balance(session, AccountKey(CREATOR, "bob", found.currency))
            assert found.pending == await ledger.balance(session, AccountKey(PENDING, "bob", found.currency))
            assert found.pending == sum(waiting.amount for waiting in found.waiting_on)
