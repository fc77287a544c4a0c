"""`GET /api/v1/earnings` a page of periods at a time, over real HTTP, after fourteen real closes."""

from datetime import UTC, datetime, timedelta

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node
from server.wiring import build_instance
from settlement import flattrs, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import LOCAL, Destination
from settlement.money import Money
from settlement.periods import Period, period_of

CLOSED = 14


def closed_periods() -> list[Period]:
    """The fourteen months before this one, newest first."""
    found = [period_of(datetime.now(UTC)).previous()]
    while len(found) < CLOSED:
        found.append(found[-1].previous())
    return found


async def fourteen_months(federation: Federation) -> Node:
    """alice flattrs bob's thing every month and each month closes; in month n she gives n euros."""
    node = await federation.reserve("a")
    instance = build_instance(node.settings(), node.clock)
    await instance.start()
    bob = f"{node.base_url}/users/bob"
    try:
        for number, period in enumerate(reversed(closed_periods()), start=1):
            async with instance.sessions() as session, session.begin():
                await topups.credit_by_hand(session, username="alice", money=Money(100 * number, "EUR"),
                                            reference=f"r{number}", now=period.start)
                await wallets.set_budget(session, "alice", Money(100 * number, "EUR"), period.start)
                await flattrs.record(session, donor="alice", thing_uri=f"{bob}/things/1", author_uri=bob,
                                     period=period.label, activity_id=f"{node.base_url}/a/{number}", now=period.start)
            after = period.end + timedelta(minutes=1)
            await PeriodCloser(instance.sessions, CloseSettings("EUR"), lambda moment=after: moment, "w",
                               lambda label, host: f"{node.base_url}/payouts/{label}/{host}").close(
                period, lambda author: Destination(LOCAL, node.host, "bob"))
    finally:
        await instance.close()
    return await federation.start("a")


async def pages(bob: Api, first: str) -> list[dict]:
    """Every page, following `next` from `first` until it is null."""
    found, address = [], first
    while address is not None:
        answer = await bob.call("GET", address)
        assert answer.status == 200, answer.body
        found.append(answer.body)
        address = answer.body["next"]
    return found


async def test_earnings_come_a_page_of_periods_at_a_time(federation: Federation) -> None:
    node = await fourteen_months(federation)
    bob = await account(node, "bob")
    labels = [period.label for period in closed_periods()]

    default = await pages(bob, "/api/v1/earnings")
    assert [len(page["periods"]) for page in default] == [12, 2]
    assert [period["period"] for page in default for period in page["periods"]] == labels
    assert default[0]["next"] == f"/api/v1/earnings?before={labels[11]}&limit=12&currency=EUR"
    every_month = sum(100 * number for number in range(1, CLOSED + 1))
    assert {page["total"]["minor_units"] for page in default} == {every_month}, "the totals cover every period"
    assert sum(period["total"]["minor_units"] for page in default for period in page["periods"]) == every_month

    fives = await pages(bob, "/api/v1/earnings?limit=5")
    assert [[period["period"] for period in page["periods"]] for page in fives] == [
        labels[0:5], labels[5:10], labels[10:14]]
    older = (await bob.call("GET", f"/api/v1/earnings?before={labels[12]}&limit=120")).body
    assert ([period["period"] for period in older["periods"]], older["next"]) == ([labels[13]], None)
    assert (await bob.call("GET", f"/api/v1/earnings?before={labels[13]}")).body["periods"] == []
    one = (await bob.call("GET", f"/api/v1/earnings?period={labels[3]}")).body
    assert ([period["period"] for period in one["periods"]], one["total"]["minor_units"], one["next"]) == (
        [labels[3]], 100 * (CLOSED - 3), None)

    for typed in ("0", "121", "-1", "ten", "", "1.5", "١٢", "1" * 5000):
        refused = await bob.call("GET", "/api/v1/earnings", params={"limit": typed})
        assert (refused.status, refused.body["error"]) == (400, "invalid_limit"), typed
    refused = await bob.call("GET", f"/api/v1/earnings?before={labels[0]}&period={labels[1]}")
    assert (refused.status, refused.body["error"]) == (400, "invalid_query")
    refused = await bob.call("GET", "/api/v1/earnings?before=2026-13")
    assert (refused.status, refused.body["error"]) == (400, "invalid_period")
    await assert_ledger_balances(node)
