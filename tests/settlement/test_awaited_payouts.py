"""Shares waiting for an agreement, on a real database: sent once, beside the period's payout, or returned exactly."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import awaited_payouts, escrow, flattrs, ledger, sent_payouts, topups, wallets
from settlement.awaited_payouts import AWAITED
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import AWAITING, ESCROW, LOCAL, PAYOUT, Classifier, Destination
from settlement.escrow import RETURNED
from settlement.ledger import AccountKey
from settlement.models import AwaitedPayout, Payout, Share
from settlement.money import Money
from settlement.periods import parse_period

BOB = "https://here.example/users/bob"
CAROL = "https://peer.example/users/carol"
DAN = "https://peer.example/users/dan"
PERIOD = parse_period("2026-01")
LATER = PERIOD.end + timedelta(days=3)


def waiting_for_peer(author: str) -> Destination:
    """peer.example runs Mecene, but no agreement is in force with it."""
    if author == BOB:
        return Destination(LOCAL, "here.example", "bob")
    return Destination(AWAITING, "peer.example", "peer.example")


def carol_paid_dan_waiting(author: str) -> Destination:
    """As a close resumed after the agreement came into force: the same host both paid and waited for."""
    if author == DAN:
        return Destination(AWAITING, "peer.example", "peer.example")
    return Destination(PAYOUT, "peer.example", "peer.example") if author == CAROL else waiting_for_peer(author)


async def close(sessions: async_sessionmaker[AsyncSession], donors: dict[str, tuple[int, int, list[str]]],
                classify: Classifier) -> None:
    """Each donor's wallet, budget and flattred authors (a thing each), then the period's close."""
    async with sessions() as session, session.begin():
        for donor, (wallet, budget, authors) in donors.items():
            await topups.credit_by_hand(session, username=donor, money=Money(wallet, "EUR"), reference=donor,
                                          now=PERIOD.start)
            await wallets.set_budget(session, donor, Money(budget, "EUR"), PERIOD.start)
            for author in authors:
                await flattrs.record(session, donor=donor, thing_uri=f"{author}/things/1", author_uri=author,
                                     period=PERIOD.label, activity_id=f"https://here.example/a/{donor}/{author}",
                                     now=PERIOD.start)
    closer = PeriodCloser(sessions, CloseSettings("EUR"), lambda: PERIOD.end + timedelta(minutes=5), "w",
                          lambda label, host: f"https://here.example/payouts/{label}/{host}")
    assert (await closer.close(PERIOD, classify)).state == "closed"


async def forward(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        return await awaited_payouts.forward(session, host="peer.example", currency="EUR", now=LATER,
                                             payout_id=lambda label, host, round_: f"https://here.example/awaited/{label}/{host}")


async def balance(sessions: async_sessionmaker[AsyncSession], kind: str, owner: str) -> int:
    async with sessions() as session:
        return await ledger.balance(session, AccountKey(kind, owner, "EUR"))


async def books_hold(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await ledger.check(session) == []
        assert await awaited_payouts.mismatches(session) == []


async def test_what_waits_leaves_once_and_settles_like_a_payout(sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, {"alice": (1000, 600, [BOB, CAROL, DAN])}, waiting_for_peer)
    assert await balance(sessions, "awaiting_peer", "peer.example") == 400
    await books_hold(sessions)
    async with sessions() as session:
        assert await awaited_payouts.hosts_waiting(session, "EUR") == ["peer.example"]

    assert await forward(sessions) == 400
    assert await forward(sessions) == 0
    assert (await balance(sessions, "awaiting_peer", "peer.example"),
            await balance(sessions, "in_flight", "peer.example")) == (0, 400)
    await books_hold(sessions)
    async with sessions() as session, session.begin():
        [(kind, payout)] = await sent_payouts.pending(session)
        assert kind is sent_payouts.AWAITED and payout.payout_id == "https://here.example/awaited/2026-01/peer.example"
        assert [(line.creator, line.amount) for line in await kind.lines_of(session, payout)] == [
            (CAROL, 200), (DAN, 200)]
        assert await sent_payouts.mark_sent(session, kind, payout.payout_id, LATER)
        assert await sent_payouts.settle(session, payout_id=payout.payout_id, host="peer.example",
                                         refused=[(DAN, f"{DAN}/things/1")], now=LATER)
    assert (await balance(sessions, "in_flight", "peer.example"), await balance(sessions, "due_to", "peer.example"),
            await balance(sessions, "escrow", DAN)) == (0, 200, 200)
    async with sessions() as session:
        destinations = {share.author_uri: (share.destination, share.settled_at is not None)
                        for share in await session.scalars(select(Share))}
    assert destinations == {BOB: (LOCAL, True), CAROL: (AWAITED, True), DAN: (ESCROW, False)}
    await books_hold(sessions)


async def test_the_period_payout_and_the_awaited_one_to_one_host_have_their_own_ids(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, {"alice": (1000, 600, [BOB, CAROL, DAN])}, carol_paid_dan_waiting)
    assert await forward(sessions) == 200
    async with sessions() as session:
        ids = {await session.scalar(select(Payout.payout_id)), await session.scalar(select(AwaitedPayout.payout_id))}
        pending = await sent_payouts.pending(session)
        lines = {payout.payout_id: [line.creator for line in await kind.lines_of(session, payout)]
                 for kind, payout in pending}
    assert ids == {"https://here.example/payouts/2026-01/peer.example",
                   "https://here.example/awaited/2026-01/peer.example"}
    assert lines == {"https://here.example/payouts/2026-01/peer.example": [CAROL],
                     "https://here.example/awaited/2026-01/peer.example": [DAN]}


async def test_what_still_waits_after_the_claim_window_goes_back_to_each_donor(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, {"alice": (1000, 600, [BOB, CAROL, DAN]), "dave": (101, 101, [CAROL, DAN])},
                waiting_for_peer)
    async with sessions() as session, session.begin():
        early = await escrow.release_expired(session, now=PERIOD.end + timedelta(days=150), claim_months=6,
                                             currency="EUR", period_length="monthly", destination=AWAITING)
    assert early.total == 0
    async with sessions() as session, session.begin():
        report = await escrow.release_expired(session, now=PERIOD.end + timedelta(days=200), claim_months=6,
                                              currency="EUR", period_length="monthly", destination=AWAITING)
    assert {(release.donor, release.author): release.amount for release in report.releases} == {
        ("alice", CAROL): 200, ("alice", DAN): 200, ("dave", CAROL): 51, ("dave", DAN): 50}
    assert (await balance(sessions, "wallet", "alice"), await balance(sessions, "wallet", "dave")) == (800, 101)
    assert await balance(sessions, "awaiting_peer", "peer.example") == 0
    assert await forward(sessions) == 0
    async with sessions() as session:
        assert set(await session.scalars(select(Share.destination).where(Share.host == "peer.example"))) == {RETURNED}
    await books_hold(sessions)
