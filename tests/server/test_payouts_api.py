"""A creator's money out over the API: details need the password, only available money goes out, once."""

from sqlalchemy import func, select, update

from api_client import Api, account, assert_ledger_balances
from earnings_helper import book_earnings
from federation_harness import Federation, Node
from server.models import User
from server.web.passwords import hash_password
from settlement.models import Withdrawal
from settlement.withdrawals import available

PASSWORD = "creator's long password"
IBAN = "FR76 3000 6000 0112 3456 7890 189"


async def creator(federation: Federation) -> tuple[Node, Api]:
    """Carla, with a password, who earned 50.00 EUR here as a close books it (from a donor's wallet)."""
    node = await federation.start("a")
    carla = await account(node, "carla")
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == "carla").values(
            password_hash=await hash_password(PASSWORD)))
        await book_earnings(session, "carla", 5000, node.clock())
    return node, carla


async def carla_has(node: Node) -> int:
    async with node.live.sessions() as session:
        return (await available(session, "carla", "EUR")).amount


async def test_details_then_a_withdrawal_after_the_cooling_off(federation: Federation) -> None:
    node, carla = await creator(federation)
    wrong = await carla.call("PUT", "/api/v1/payouts/details", {"password": "guess", "iban": IBAN,
                                                                "account_holder": "Carla"})
    assert (wrong.status, wrong.body["error"]) == (403, "wrong_password")
    saved = await carla.call("PUT", "/api/v1/payouts/details", {"password": PASSWORD, "iban": IBAN,
                                                                "account_holder": "Carla Creator"})
    assert saved.status == 200 and saved.body["iban"] == IBAN.replace(" ", "")
    held = await carla.call("POST", "/api/v1/withdrawals", {"amount": "20.00"})
    assert (held.status, held.body["error"]) == (409, "details_cooling_off")

    node.clock.advance(hours=49)
    asked = await carla.call("POST", "/api/v1/withdrawals", {"amount": "20.00"})
    assert asked.status == 201 and (asked.body["state"], asked.body["method"]) == ("requested", "sepa")
    assert await carla_has(node) == 3000
    canceled = await carla.call("POST", f"/api/v1/withdrawals/{asked.body['id']}/cancel")
    assert (canceled.status, canceled.body["state"]) == (200, "canceled")
    assert (await carla.call("POST", f"/api/v1/withdrawals/{asked.body['id']}/cancel")).status == 409
    assert await carla_has(node) == 5000

    moved = await carla.call("POST", "/api/v1/earnings/to-wallet", {"amount": "5.00", "key": "k1"})
    again = await carla.call("POST", "/api/v1/earnings/to-wallet", {"amount": "5.00", "key": "k1"})
    assert (moved.status, again.status, again.body["created"]) == (201, 200, False)
    listed = (await carla.call("GET", "/api/v1/payouts")).body
    assert listed["details"]["account_holder"] == "Carla Creator"
    assert [row["state"] for row in listed["withdrawals"]] == ["canceled"]
    assert listed["balances"][0]["available"]["minor_units"] == 4500
    await assert_ledger_balances(node)


async def test_bad_withdrawals_are_refused_and_nothing_moves(federation: Federation) -> None:
    node, carla = await creator(federation)
    bob = await account(node, "bob")
    assert (await carla.call("POST", "/api/v1/withdrawals", {"amount": "20.00"})).body["error"] == \
        "no_payout_details"
    bad_iban = await carla.call("PUT", "/api/v1/payouts/details", {"password": PASSWORD,
                                                                   "iban": "FR76 3000 6000 0112 3456 7890 188",
                                                                   "account_holder": "Carla"})
    assert (bad_iban.status, bad_iban.body["error"]) == (400, "invalid_iban")
    both = await carla.call("PUT", "/api/v1/payouts/details", {"password": PASSWORD, "iban": IBAN,
                                                               "account_holder": "Carla", "instructions": "PayPal"})
    assert both.status == 400
    await carla.call("PUT", "/api/v1/payouts/details", {"password": PASSWORD, "iban": IBAN, "account_holder": "C"})
    node.clock.advance(hours=49)
    for body, status, code in [({"amount": "9.99"}, 400, "below_minimum"),
                               ({"amount": "10.001"}, 400, "too_many_decimals"),
                               ({"amount": "50.01"}, 409, "more_than_available"),
                               ({"amount": "10.00", "currency": "XYZ"}, 400, "unknown_currency"),
                               ({"amount": "10.00", "currency": "CHF"}, 409, "more_than_available")]:
        answer = await carla.call("POST", "/api/v1/withdrawals", body)
        assert (answer.status, answer.body["error"]) == (status, code), (body, answer.body)
    mine = await carla.call("POST", "/api/v1/withdrawals", {"amount": "10.00"})
    assert (await bob.call("POST", f"/api/v1/withdrawals/{mine.body['id']}/cancel")).status == 404
    assert (await carla.call("POST", "/api/v1/earnings/to-wallet", {"amount": "40.01", "key": "x"})).status == 409
    assert await carla_has(node) == 4000
    async with node.live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Withdrawal)) == 1
    await assert_ledger_balances(node)
