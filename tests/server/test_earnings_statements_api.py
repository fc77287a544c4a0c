"""`GET /api/v1/earnings` and `GET /api/v1/admin/statements` on a real instance, after a real close and payouts."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node
from server.wiring import build_instance
from settlement import flattrs, payouts, sent_payouts, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Destination
from settlement.money import Money, format_amount
from settlement.payouts import IncomingLine
from settlement.periods import period_of

PEER, SWISS = "peer.example", "swiss.example"
#: The month before this one: its escrow is still inside the claim window, as a real instance's would be.
PERIOD = period_of(datetime.now(UTC)).previous()
CAROL, ZOE = f"https://{PEER}/users/carol", "https://plain.example/users/zoe"


def eur(minor_units: int) -> dict:
    return cash(minor_units, "EUR")


def chf(minor_units: int) -> dict:
    return cash(minor_units, "CHF")


def cash(minor_units: int, currency: str) -> dict:
    return {"amount": format_amount(Money(minor_units, currency)), "minor_units": minor_units, "currency": currency}


async def settled_node(federation: Federation) -> Node:
    """An instance where a period has closed, before it starts: its own scheduler would race a close of ours."""
    node = await federation.reserve("a")
    instance = build_instance(node.settings(), node.clock)
    await instance.start()
    try:
        await settle_a_period(instance.sessions, node.base_url)
    finally:
        await instance.close()
    return await federation.start("a")


async def settle_a_period(sessions: async_sessionmaker[AsyncSession], base_url: str) -> None:
    """alice gives 6.00 to bob here, carol on a peer Mecene and zoe on Mastodon; the peer pays bob 0.70.

    A Swiss peer pays bob 1.25 CHF: a creator's money comes in the currency each Payout was in.
    """
    bob = f"{base_url}/users/bob"
    now = PERIOD.start + timedelta(days=1)
    async with sessions() as session, session.begin():
        await topups.credit_by_hand(session, username="alice", money=Money(1000, "EUR"), reference="r",
                                              now=now)
        await wallets.set_budget(session, "alice", Money(600, "EUR"), now)
        for author in (bob, CAROL, ZOE):
            await flattrs.record(session, donor="alice", thing_uri=f"{author}/things/1", author_uri=author,
                                 period=PERIOD.label, activity_id=f"{base_url}/a/{author}", now=now)

    def classify(author: str) -> Destination:
        if author == bob:
            return Destination(LOCAL, base_url.split("/")[2], "bob")
        return Destination(PAYOUT, PEER, PEER) if author == CAROL else Destination(ESCROW, "plain.example", author)

    after = PERIOD.end + timedelta(minutes=1)
    await PeriodCloser(sessions, CloseSettings("EUR"), lambda: after, "w",
                       lambda label, host: f"{base_url}/payouts/{label}/{host}").close(PERIOD, classify)
    async with sessions() as session, session.begin():
        ((kind, payout),) = await sent_payouts.pending(session)
        assert await sent_payouts.mark_sent(session, kind, payout.payout_id, after)
        await sent_payouts.settle(session, payout_id=payout.payout_id, host=PEER, refused=[], now=after)
        await payouts.receive(session, payout_id=f"https://{PEER}/payouts/{PERIOD.label}", source=PEER,
                              period=PERIOD.label, currency="EUR",
                              lines=[IncomingLine(bob, f"{bob}/things/1", 70, "EUR", 2)], credit_limit=100_000,
                              creators={bob: "bob"},
                              now=after)
        await payouts.receive(session, payout_id=f"https://{SWISS}/payouts/{PERIOD.label}", source=SWISS,
                              period=PERIOD.label, currency="CHF",
                              lines=[IncomingLine(bob, f"{bob}/things/1", 125, "CHF", 1)], credit_limit=100_000,
                              creators={bob: "bob"}, now=after)


async def test_a_creator_sees_earnings_per_period_and_thing(federation: Federation) -> None:
    node = await settled_node(federation)
    bob, alice = await account(node, "bob"), await account(node, "alice")
    thing = f"{node.base_url}/users/bob/things/1"

    answer = await bob.call("GET", "/api/v1/earnings")
    assert answer.status == 200, answer.body
    balances = [
        {"currency": "CHF", "available": chf(0), "pending": chf(125),
         "waiting_on": [{"host": SWISS, "amount": chf(125)}]},
        {"currency": "EUR", "available": eur(200), "pending": eur(70),
         "waiting_on": [{"host": PEER, "amount": eur(70)}]}]
    assert answer.body == {"creator": "bob", "currency": "EUR", "total": eur(270), "flattrs": 3, "balances": balances,
                           "next": None, "periods": [{"period": PERIOD.label, "total": eur(270), "flattrs": 3,
                                        "things": [{"url": thing, "amount": eur(270), "flattrs": 3}]}]}
    assert (await bob.call("GET", f"/api/v1/earnings?period={PERIOD.label}")).body["total"] == eur(270)
    assert (await bob.call("GET", f"/api/v1/earnings?period={PERIOD.previous().label}")).body["periods"] == []
    swiss = (await bob.call("GET", "/api/v1/earnings?currency=CHF")).body
    assert (swiss["currency"], swiss["total"], swiss["balances"]) == ("CHF", chf(125), balances)
    assert swiss["periods"] == [{"period": PERIOD.label, "total": chf(125), "flattrs": 1,
                                 "things": [{"url": thing, "amount": chf(125), "flattrs": 1}]}]
    assert (await bob.call("GET", "/api/v1/earnings?currency=USD")).body["periods"] == []
    mine = (await alice.call("GET", "/api/v1/earnings")).body
    assert (mine["total"], mine["balances"]) == (eur(0), []), "a donor's wallet is not earned money"
    refused = await bob.call("GET", "/api/v1/earnings?period=2026-13")
    assert (refused.status, refused.body["error"]) == (400, "invalid_period")
    for typed in ("eur", "EURO", "", "XYZ", "E%00R"):
        refused = await bob.call("GET", f"/api/v1/earnings?currency={typed}")
        assert (refused.status, refused.body["error"]) == (400, "invalid_currency"), typed
        assert "is not a known ISO 4217 currency code" in refused.body["reason"]
    assert (await Api(node, None).call("GET", "/api/v1/earnings")).status == 401
    await assert_ledger_balances(node)


async def test_operators_see_what_each_instance_owes_and_the_conservation_check(federation: Federation) -> None:
    node = await settled_node(federation)
    admin, alice = await account(node, "root_op", admin=True), await account(node, "alice")

    assert (await alice.call("GET", "/api/v1/admin/statements")).status == 403
    assert (await Api(node, None).call("GET", "/api/v1/admin/statements")).status == 401
    answer = await admin.call("GET", "/api/v1/admin/statements")
    assert answer.status == 200, answer.body
    assert answer.body["instances"] == [{
        "host": PEER, "owed_to_them": eur(200), "in_flight": eur(0), "owed_by_them": eur(70), "net": eur(-130),
        "periods": [{"period": PERIOD.label, "sent": eur(200), "state": "settled", "in_flight": eur(0),
                     "accepted": eur(200), "refused": eur(0), "received": eur(70)}]}]
    assert answer.body["totals"] == {"owed_to_them": eur(200), "in_flight": eur(0), "owed_by_them": eur(70),
                                     "net": eur(-130)}
    assert answer.body["conservation"] == {
        "funded": eur(1000), "owed_by_instances": eur(70), "cleared_in": eur(0), "wallets": eur(400),
        "creators": eur(200), "pending": eur(70), "fees": eur(0), "escrow": eur(200), "awaiting": eur(0),
        "in_flight": eur(0), "owed_to_instances": eur(200), "cleared_out": eur(0), "payable": eur(0),
        "paid_out": eur(0), "holds": True}
    await assert_ledger_balances(node)
