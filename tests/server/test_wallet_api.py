"""The wallet over the API: a transfer started, credited when the operator records it, its receipt, a refund asked."""

from sqlalchemy import func, select

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node
from localstripe_process import LocalStripe
from server.payments import wallet_service
from settlement.models import TopUp

#: No localstripe process is needed: nothing here reaches Stripe.
NOWHERE = LocalStripe(port=9)


async def started(federation: Federation) -> tuple[Node, Api]:
    node = await federation.start("a", **NOWHERE.settings(MECENE_PAYMENTS_MINIMUM_TOPUP="5.00"))
    return node, await account(node, "alice")


async def test_a_transfer_started_by_api_is_credited_when_the_bank_received_it(federation: Federation) -> None:
    node, alice = await started(federation)
    answer = await alice.call("POST", "/api/v1/wallet/topups", {"amount": "12.50", "provider": "bank"})
    assert answer.status == 201, answer.body
    topup = answer.body
    assert (topup["kind"], topup["state"], topup["amount"]["minor_units"]) == ("topup", "awaiting", 1250)
    assert topup["transfer"]["iban"] == "FR14 2004 1010 0505 0001 3M02 606"
    assert topup["transfer"]["reference"] == topup["reference"] and topup["reference"].startswith("MCN-")
    assert topup["pay_at"].endswith(f"/wallet/receipts/{topup['id']}")

    done = await wallet_service.receive_transfer(node.live.sessions, topup["reference"], "12.50", "EUR",
                                                 node.live.clock())
    assert done.outcome == "credited"
    wallet = (await alice.call("GET", "/api/v1/wallet")).body
    assert wallet["balance"]["minor_units"] == 1250
    assert [(item["id"], item["state"]) for item in wallet["history"]] == [(topup["id"], "confirmed")]
    receipt = await alice.call("GET", f"/api/v1/wallet/receipts/{topup['id']}")
    assert (receipt.status, receipt.body["provider"], receipt.body["state"]) == (200, "bank", "confirmed")

    asked = await alice.call("POST", "/api/v1/wallet/refund-requests", {"note": "thanks"})
    assert (asked.status, asked.body["state"]) == (201, "asked")
    assert (await alice.call("POST", "/api/v1/wallet/refund-requests", {})).status == 409
    await assert_ledger_balances(node)


async def test_bad_top_ups_are_refused_and_nothing_is_stored(federation: Federation) -> None:
    node, alice = await started(federation)
    bob = await account(node, "bob")
    refused = [
        ({"amount": "4.99", "provider": "bank"}, "below_minimum"),
        ({"amount": "5.001", "provider": "bank"}, "too_many_decimals"),
        ({"amount": "5,00", "provider": "bank"}, "comma_decimal"),
        ({"amount": "10.00", "provider": "paypal"}, "provider_not_enabled"),
        ({"amount": "10.00", "currency": "USD", "provider": "bank"}, "wrong_currency"),
        ({"amount": 10, "provider": "bank"}, "invalid_amount"),
        ({"provider": "bank"}, "invalid_amount"),
        ({"amount": "10.00"}, "invalid_field"),
    ]
    for body, code in refused:
        answer = await alice.call("POST", "/api/v1/wallet/topups", body)
        assert (answer.status, answer.body["error"]) == (400, code), (body, answer.body)
    assert (await Api(node, None).call("GET", "/api/v1/wallet")).status == 401
    mine = (await alice.call("POST", "/api/v1/wallet/topups", {"amount": "10.00", "provider": "bank"})).body
    assert (await bob.call("GET", f"/api/v1/wallet/receipts/{mine['id']}")).status == 404
    assert (await alice.call("POST", "/api/v1/wallet/refund-requests", {})).status == 409
    async with node.live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TopUp)) == 1
    await assert_ledger_balances(node)
