"""Card top-ups through a real localstripe process: the wallet is credited by Stripe's signed webhook, once.

The donor's steps are the pages' (the add-money form, then the card page's
post of the token Stripe.js made); the confirmation is localstripe's own
webhook, signed with the endpoint's secret, over real HTTP.
"""

from federation_harness import Federation, eventually
from localstripe_process import LocalStripe
from payments_helper import came_in, donor_at, topup_row

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
SECURE_CARD = "4000002500003155"


async def test_a_card_payment_is_credited_when_stripe_confirms_it(federation: Federation,
                                                                  localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        topup = await alice.start_topup("10.00", "stripe")
        status, outcome = await alice.pay(topup, await localstripe_process.card_token(GOOD_CARD))
        assert (status, outcome["state"]) == (200, "confirming")
        page = await alice.browser.get(f"/wallet/receipts/{topup}")
        assert "Waiting for confirmation" in page.html and await alice.wallet() == 0

        async def credited() -> bool:
            return await alice.wallet() == 1000
        await eventually(credited, what="the webhook's credit")
        row = await topup_row(alice.node, topup)
        assert (row.state, row.amount, row.reference.startswith("pi_")) == ("confirmed", 1000, True)
        assert await came_in(alice.node, "stripe") == 1000
        assert "10.00 EUR" in (await alice.browser.get("/wallet")).html


async def test_a_declined_card_says_so_and_credits_nothing(federation: Federation,
                                                           localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        topup = await alice.start_topup("10.00", "stripe")
        status, outcome = await alice.pay(topup, await localstripe_process.card_token(DECLINED_CARD))
        assert (status, outcome["state"]) == (200, "failed")
        assert "declined" in outcome["message"]
        page = await alice.browser.get(f"/wallet/receipts/{topup}")
        assert "declined" in page.html and 'id="card-form"' in page.html
        assert ((await topup_row(alice.node, topup)).state, await alice.wallet()) == ("failed", 0)

        retried = await alice.pay(topup, await localstripe_process.card_token(GOOD_CARD))
        assert retried[1]["state"] == "confirming"

        async def credited() -> bool:
            return await alice.wallet() == 1000
        await eventually(credited, what="the second card's credit")
        assert await came_in(alice.node, "stripe") == 1000


async def test_three_d_secure_is_credited_only_once_the_bank_confirms(federation: Federation,
                                                                      localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        topup = await alice.start_topup("25.00", "stripe")
        status, outcome = await alice.pay(topup, await localstripe_process.card_token(SECURE_CARD))
        assert (status, outcome["state"]) == (200, "needs_action") and outcome["client_secret"]
        intent = (await topup_row(alice.node, topup)).reference
        assert intent is not None and await alice.wallet() == 0
        assert await localstripe_process.authenticate(intent, outcome["client_secret"], success=True) == 200

        async def credited() -> bool:
            return await alice.wallet() == 2500
        await eventually(credited, what="the credit after 3-D Secure")
        assert await came_in(alice.node, "stripe") == 2500


async def test_bad_card_input_is_refused_and_changes_nothing(federation: Federation,
                                                             localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        for amount, reason in [("1.99", "smallest top-up is 2.00"), ("10.001", "decimals"), ("ten", "")]:
            page = await alice.add_money(amount, "stripe")
            assert page.status == 400 and reason in page.html, (amount, page.status)
        page = await alice.add_money("10.00", "paypal")
        assert page.status == 400 and "does not take payments by" in page.html
        topup = await alice.start_topup("10.00", "stripe")
        assert (await alice.pay(topup, "not-a-token"))[0] == 400
        assert (await alice.pay("Tdoesnotexist", await localstripe_process.card_token(GOOD_CARD)))[0] == 404
        assert await alice.wallet() == 0 and await came_in(alice.node, "stripe") == 0


async def test_a_payment_under_way_cannot_be_paid_again(federation: Federation,
                                                        localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        topup = await alice.start_topup("25.00", "stripe")
        assert (await alice.pay(topup, await localstripe_process.card_token(SECURE_CARD)))[1]["state"] == \
            "needs_action"
        page = await alice.browser.get(f"/wallet/receipts/{topup}")
        assert 'id="waiting"' in page.html and 'id="card-form"' not in page.html
        status, refused = await alice.pay(topup, await localstripe_process.card_token(GOOD_CARD))
        assert (status, refused["error"]) == (409, "payment_under_way")
        assert await alice.wallet() == 0 and await came_in(alice.node, "stripe") == 0
