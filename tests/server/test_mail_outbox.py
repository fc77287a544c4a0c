"""The mail outbox against a real SMTP server: each email of a money event arrives once, with its amounts; an SMTP
server that is down delays emails without losing one; senders racing on one database send each email once.

Receipts are queued in the transaction that books the money, keyed by the
event, so a top-up credited again (the same reference) queues nothing new.
"""

import asyncio
import re
from datetime import UTC, datetime

import pytest
from aiohttp import web
from sqlalchemy import select, update
from test_operator_pages import logged_in, with_password
from test_payout_pages import IBAN, OPERATOR_BANK, ask, details, earned_as_a_close_books_it
from test_payouts_between_peers import close_on, flattr, funded_donor, thing_of
from test_stripe_webhooks import INTENT, NOWHERE, StripeSide

from api_client import account, assert_ledger_balances
from federation.outbox import new_activity_id, publish
from federation_harness import Federation, Node, eventually, free_port
from payments_helper import donor_at
from server.accounts import INSTANCE_ACTOR
from server.mail import alerts, kinds, outbox, sender
from server.models import MAIL_STATES, MailMessage, User
from server.settling import tick
from settlement import topups
from settlement.models import TopUp
from smtp_server import Mailbox, html_of, text_of

QUEUED = MAIL_STATES.move("queued", "sent").source
SENT = MAIL_STATES.move("queued", "sent").target
ASKED = re.compile(r'id="withdrawal-(W[0-9a-f]+)"')
BATCH = re.compile(r"Batch (B[0-9a-f]+) approved")


async def with_address(node: Node, username: str, address: str) -> None:
    """An address confirmed as the link does it (tests/server/test_mail_accounts.py opens the link itself)."""
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == username).values(
            email=address, unsubscribe_token=f"{username:_<43}"[:43]))


async def states(node: Node) -> list[tuple[str, int]]:
    async with node.live.sessions() as session:
        found = await session.scalars(select(MailMessage).order_by(MailMessage.id))
        return [(row.state, row.attempts) for row in found]


async def test_receipts_arrive_once_with_their_amounts(federation: Federation, mailbox: Mailbox) -> None:
    mailbox.start()
    node = await federation.start("a", **mailbox.settings())
    await with_password(node, "olga", admin=True)
    operator = await account(node, "op", admin=True)
    await account(node, "alice")
    await with_address(node, "alice", "alice@example.org")
    body = {"amount": "12.50", "reference": "cash-1"}
    credited = await operator.call("POST", "/api/v1/admin/users/alice/topups", body)
    assert credited.status == 201
    async with node.live.sessions() as session:
        receipt = await session.scalar(select(TopUp.public_id).where(TopUp.username == "alice"))
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", body)).status == 200
    [message] = await mailbox.wait_for("alice@example.org", subject=f"Receipt {receipt}")
    assert str(message["Subject"]) == f"Receipt {receipt}: 12.50 EUR added to your wallet"
    assert "12.50 EUR was added to your wallet" in text_of(message) and "Reference: cash-1" in text_of(message)
    assert "<td>12.50 EUR</td>" in html_of(message) and message["List-Unsubscribe"] is None

    olga = await logged_in(node, "olga")
    refunded = await olga.submit("/admin/topups", f"/admin/topups/{receipt}/refund",
                                 {"refund_amount": "5.00", "refund_reference": "transfer back 1"})
    assert refunded.status == 200 and "Refunded 5.00 EUR" in refunded.html
    [refund] = await mailbox.wait_for("alice@example.org", subject="refunded")
    assert f"5.00 EUR of your top-up {receipt} was refunded" in text_of(refund)
    await asyncio.sleep(0.5)
    assert len(mailbox.messages) == 2 and [state for state, _ in await states(node)] == [SENT, SENT]
    await olga.close()
    await assert_ledger_balances(node)


async def test_withdrawal_notices_and_changed_details_reach_the_creator(federation: Federation,
                                                                        mailbox: Mailbox) -> None:
    mailbox.start()
    node = await federation.start("a", **mailbox.settings(), **OPERATOR_BANK)
    await earned_as_a_close_books_it(node)
    await with_address(node, "carla", "carla@example.org")
    await with_password(node, "olga", admin=True)
    carla, olga = await logged_in(node, "carla"), await logged_in(node, "olga")
    assert (await details(carla, iban=IBAN, account_holder="Carla Creator")).status == 200
    [changed] = await mailbox.wait_for("carla@example.org", subject="Your payout details were changed")
    assert "Withdrawals wait until" in text_of(changed)
    assert changed["List-Unsubscribe"] == f"<{node.base_url}/mail/unsubscribe/{'carla':_<43}>"

    node.clock.advance(hours=49)
    [first] = ASKED.findall((await ask(carla, "20.00")).html)
    [second] = [found for found in ASKED.findall((await ask(carla, "30.00")).html) if found != first]
    approved = await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches", {"currency": "EUR"})
    batch = BATCH.search(approved.html)
    assert batch
    executed = await olga.submit("/admin/withdrawals", f"/admin/withdrawals/batches/{batch.group(1)}/executed", {})
    assert executed.status == 200
    paid = await mailbox.wait_for("carla@example.org", subject="paid", count=2)
    assert sorted(str(message["Subject"]) for message in paid) == sorted(
        [f"Withdrawal {first}: 20.00 EUR paid", f"Withdrawal {second}: 30.00 EUR paid"])
    assert "IBAN ending 0189" in text_of(paid[0]) and IBAN.replace(" ", "") not in text_of(paid[0])

    returned = await olga.submit("/admin/withdrawals", f"/admin/withdrawals/{second}/return",
                                 {"reason": "account closed"})
    assert returned.status == 200
    [back] = await mailbox.wait_for("carla@example.org", subject="came back")
    assert str(back["Subject"]) == f"Withdrawal {second}: 30.00 EUR came back"
    assert "The reason given: account closed" in text_of(back)

    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == "carla").values(mail_notices=False))
    assert (await details(carla, iban=IBAN, account_holder="Carla C.")).status == 200
    await asyncio.sleep(0.5)
    assert len(mailbox.to("carla@example.org")) == 4
    await carla.close()
    await olga.close()
    await assert_ledger_balances(node)


async def test_an_smtp_server_that_is_down_delays_emails_without_losing_one(federation: Federation,
                                                                            mailbox: Mailbox) -> None:
    node = await federation.start("a", **mailbox.settings())
    await account(node, "alice")
    await with_address(node, "alice", "alice@example.org")
    operator = await account(node, "op", admin=True)
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "3.00"})).status == 201

    async def tried_twice() -> bool:
        return [(state, attempts >= 2) for state, attempts in await states(node)] == [(QUEUED, True)]

    await eventually(tried_twice, what="two failed tries, the email still queued")
    async with node.live.sessions() as session:
        row = await session.scalar(select(MailMessage))
        assert row is not None and row.last_error and "SMTP server" in row.last_error
    mailbox.start()
    [message] = await mailbox.wait_for("alice@example.org", subject="3.00 EUR added")
    assert "3.00 EUR was added to your wallet" in text_of(message)
    await asyncio.sleep(1.0)
    assert len(mailbox.messages) == 1 and [state for state, _ in await states(node)] == [SENT]


async def test_senders_racing_on_one_database_send_each_email_once(federation: Federation, mailbox: Mailbox) -> None:
    mailbox.start()
    node = await federation.start("a", **mailbox.settings())
    now = datetime.now(UTC)
    async with node.live.sessions() as session, session.begin():
        for number in range(30):
            await outbox.queue(session, key=f"race:{number}", kind=kinds.VERIFY, username="alice",
                               to=f"alice{number}@example.org", language="en",
                               context={"username": "alice", "token": f"t{number}", "hours": 1}, now=now)
        assert not await outbox.queue(session, key="race:0", kind=kinds.VERIFY, username="alice",
                                      to="someone@example.org", language="en", context={}, now=now)
    racers = [sender.MailWorker(node.live.sessions, node.live.settings.mail,
                                sender.Site("Racer", node.base_url, node.host, "racer@example.org"),
                                node.live.clock, f"racer-{index}") for index in range(3)]
    await asyncio.gather(*(racer.run_once() for racer in racers))

    async def all_sent() -> bool:
        return [state for state, _ in await states(node)] == [SENT] * 30

    await eventually(all_sent, what="30 emails sent")
    await asyncio.sleep(0.5)
    addresses = sorted(str(message["To"]) for message in mailbox.messages)
    assert addresses == sorted(f"alice{number}@example.org" for number in range(30))
    assert len({message["Message-ID"] for message in mailbox.messages}) == 30


async def test_after_a_close_donors_learn_where_their_money_went_and_creators_what_they_earned(
        federation: Federation, mailbox: Mailbox) -> None:
    mailbox.start()
    node = await federation.start("a", **mailbox.settings())
    carla = await account(node, "carla")
    note = await thing_of(carla, "A note by carla")
    dora = await funded_donor(node, "dora", "60.00", "50.00")
    for name in ("carla", "dora"):
        await with_address(node, name, f"{name}@example.org")
    label = await flattr(dora, note)
    await close_on(node, label)

    [went] = await mailbox.wait_for("dora@example.org", subject=f"Where your money went in {label}")
    assert "You gave 50.00 EUR" in text_of(went) and f"- 50.00 EUR to {node.base_url}/users/carla" in text_of(went)
    assert went["List-Unsubscribe"] is not None
    [earned] = await mailbox.wait_for("carla@example.org", subject=f"What you earned in {label}: 50.00 EUR")
    assert "You earned 50.00 EUR from 1 flattr." in text_of(earned) and note in html_of(earned)
    await asyncio.sleep(1.0)
    assert len(mailbox.messages) == 2
    await assert_ledger_balances(node)


async def refuse(request: web.Request) -> web.Response:
    return web.Response(status=400, text="no")


async def test_operators_are_told_once_a_day_when_dead_letters_pile_up(federation: Federation,
                                                                       mailbox: Mailbox) -> None:
    """A server that refuses everything for good (400) turns each delivery to it into a dead letter at once."""
    mailbox.start()
    refusing = web.Application()
    refusing.router.add_post("/inbox", refuse)
    runner = web.AppRunner(refusing)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    node = await federation.start("a", **mailbox.settings())
    await account(node, "olga", admin=True)
    await account(node, "bob", admin=False)
    for name in ("olga", "bob"):
        await with_address(node, name, f"{name}@example.org")
    async with node.live.sessions() as session, session.begin():
        for _ in range(alerts.DEAD_LETTERS_ALERT):
            activity = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note",
                        "id": new_activity_id(node.live.urls), "actor": node.live.urls.actor(INSTANCE_ACTOR)}
            await publish(session, sender=INSTANCE_ACTOR, activity=activity, inboxes=[f"http://127.0.0.1:{port}/inbox"],
                          now=node.clock())
    [alert] = await mailbox.wait_for("olga@example.org", subject=f"{alerts.DEAD_LETTERS_ALERT} deliveries are dead")
    assert "mecene deliveries --dead" in text_of(alert)
    await asyncio.sleep(1.0)
    assert len(mailbox.messages) == 1 and not mailbox.to("bob@example.org")
    await runner.cleanup()


async def test_operators_are_told_once_of_a_dispute_stripe_opened(federation: Federation, mailbox: Mailbox) -> None:
    """Stripe's signed dispute event, sent twice as Stripe may: the wallet is debited once, the operators told once."""
    mailbox.start()
    async with donor_at(federation, NOWHERE, webhooks=False, **mailbox.settings()) as alice:
        public_id = await alice.start_topup("10.00", "stripe")
        async with alice.node.live.sessions() as session, session.begin():
            topup = await topups.by_public_id(session, public_id)
            assert topup is not None
            await topups.set_reference(session, topup, INTENT)
        await account(alice.node, "olga", admin=True)
        await with_address(alice.node, "olga", "olga@example.org")
        stripe_side = StripeSide(alice, public_id)
        assert (await stripe_side.send(stripe_side.intent("payment_intent.succeeded")))[0] == 200
        opened = stripe_side.dispute("charge.dispute.created")
        assert (await stripe_side.send(opened))[0] == 200
        assert (await stripe_side.send(opened))[0] == 200
        [alert] = await mailbox.wait_for("olga@example.org", subject="dispute")
        assert "10.00 EUR" in text_of(alert) and "alice" in text_of(alert) and "fraudulent" in text_of(alert)
        await asyncio.sleep(1.0)
        assert len(mailbox.to("olga@example.org", subject="dispute")) == 1
        assert await alice.wallet() == 0
        await assert_ledger_balances(alice.node)


async def test_operators_are_told_once_a_day_that_a_close_failed(federation: Federation, mailbox: Mailbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A close that fails (a fault put in its place) is told to the operators once, however often the tick retries."""
    mailbox.start()
    node = await federation.start("a", **mailbox.settings())
    await with_password(node, "olga", admin=True)
    await with_address(node, "olga", "olga@example.org")
    carla = await account(node, "carla")
    dora = await funded_donor(node, "dora", "20.00", "10.00")
    label = await flattr(dora, await thing_of(carla, "A note by carla"))

    async def broken(*_: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(tick, "close_period", broken)
    node.clock.advance(days=40)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            await tick.settlement_tick(node.live)
    [alert] = await mailbox.wait_for("olga@example.org", subject="close")
    assert label in text_of(alert) and "RuntimeError" in text_of(alert)
    await asyncio.sleep(1.0)
    assert len(mailbox.to("olga@example.org")) == 1
    await assert_ledger_balances(node)
