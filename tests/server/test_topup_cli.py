"""`mecene topups …` as an operator runs it, on the database of an instance whose donors add money on its pages.

The donor's steps are the pages' (the add-money form, Stripe's card payment
through localstripe); the operator's are `mecene` commands pointed at that
instance's database. Every refusal is checked to have changed nothing
in the database, and the money to be conserved: what is in the wallet plus
what went back is what came in.
"""

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_agreements import cli_env
from test_card_topups import GOOD_CARD

from cli_process import ROOT, mecene, run_here
from federation_harness import Federation, Node, eventually, free_port
from localstripe_process import LocalStripe
from payments_helper import SIGNUP, Donor, came_in, donor_at, topup_row
from server.cli.payin_parser import STATES
from settlement import disputes, wallets
from settlement.models import TOPUP_STATES, Refund, RefundRequest, TopUp, Transaction
from settlement.money import Money
from web_client import Browser

BANK = {"MECENE_PAYMENTS_PROVIDERS": "bank", "MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community",
        "MECENE_PAYMENTS_BANK_IBAN": "FR1420041010050500013M02606"}


@asynccontextmanager
async def bank_donor(federation: Federation) -> AsyncIterator[Donor]:
    """Alice signed up on instance `a`, which takes bank transfers and nothing else."""
    node = await federation.start("a", **BANK)
    browser = Browser(node)
    page = await browser.submit("/signup", "/signup", SIGNUP)
    assert page.status == 200, page.html
    try:
        yield Donor(node, browser)
    finally:
        await browser.close()


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The operator's data folder, made by one `mecene init` for the module: each test's environment then names its
    instance's database and payment settings, which take precedence over the file's."""
    folder = tmp_path_factory.mktemp("operator") / "data"
    done = mecene({"MECENE_DATA_DIR": str(folder), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, "init")
    assert done.returncode == 0, done.stderr
    return folder


def operator(node: Node, folder: Path, payments: dict[str, str]) -> dict[str, str]:
    """The operator's `mecene` on `node`: its database and domain, and the payment settings it runs with."""
    return {**cli_env(node, folder), "MECENE_DATA_DIR": str(folder), **payments}


async def topups(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`mecene topups …`, while this event loop keeps serving the instance whose database it shares."""
    return await run_here(env, "topups", *args, stdin=stdin)


async def books(node: Node) -> tuple[object, ...]:
    """Everything a `mecene topups` command may change: a refused one leaves it equal."""
    async with node.live.sessions() as session:
        return (await wallets.wallet_balance(session, "alice", "EUR"),
                (await session.execute(select(TopUp.public_id, TopUp.state, TopUp.amount, TopUp.refunded)
                                       .order_by(TopUp.id))).all(),
                (await session.execute(select(Refund.public_id, Refund.state, Refund.amount, Refund.provider_reference)
                                       .order_by(Refund.id))).all(),
                (await session.execute(select(RefundRequest.state, RefundRequest.answer)
                                       .order_by(RefundRequest.id))).all(),
                await session.scalar(select(func.count(Transaction.id))))


async def refused(node: Node, env: dict[str, str], *args: str, says: str) -> None:
    """`mecene topups ARGS` exits 1 saying `says` on stderr, and the books are as they were."""
    before = await books(node)
    done = await topups(env, *args)
    assert (done.returncode, done.stdout) == (1, ""), (args, done.returncode, done.stdout, done.stderr)
    assert says in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    assert await books(node) == before, args


async def refunded(node: Node, public_id: str) -> list[Refund]:
    async with node.live.sessions() as session:
        topup = await session.scalar(select(TopUp.id).where(TopUp.public_id == public_id))
        return list(await session.scalars(select(Refund).where(Refund.topup_id == topup).order_by(Refund.id)))


async def conserved(alice: Donor, provider: str, paid: int, *, disputed: int = 0) -> None:
    """The books balance, what came in net is the wallet, and the wallet plus what went back is what was paid."""
    wallet = await alice.wallet()
    assert await came_in(alice.node, provider) == wallet
    async with alice.node.live.sessions() as session:
        back = await session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.state == "made"))
    assert wallet + back + disputed == paid


async def request_states(node: Node) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(RefundRequest.state).order_by(RefundRequest.id)))


async def ask_refund(alice: Donor, note: str) -> None:
    page = await alice.browser.submit("/wallet", "/wallet/refund-request", {"note": note})
    assert page.status == 200 and "Asked" in page.html, page.html


async def test_a_received_transfer_credits_once_and_a_bank_refund_needs_its_transfer_back(
        federation: Federation, data_folder: Path) -> None:
    async with bank_donor(federation) as alice:
        public_id = await alice.start_topup("25.00", "bank")
        reference = (await topup_row(alice.node, public_id)).reference
        assert reference is not None
        env = operator(alice.node, data_folder, BANK)

        remittance = f"VIR SEPA {reference.replace('-', ' ').lower()} de Alice"
        done = await asyncio.to_thread(mecene, env, "topups", "receive", remittance, "25.00")
        assert done.returncode == 0, done.stderr
        assert f"{reference}: 25.00 EUR credited to alice (top-up {public_id}); wallet now 25.00 EUR" in done.stdout
        await refused(alice.node, env, "receive", reference, "25.00", says="already credited to alice")
        await refused(alice.node, env, "receive", "VIR MCN-ZZZZ-ZZZZ", "5.00", says="MCN-ZZZZ-ZZZZ: unknown reference")
        assert await alice.wallet() == 2500

        await ask_refund(alice, "moving to another instance")
        listed = await topups(env, "list")
        assert listed.returncode == 0, listed.stderr
        [row] = [line.split("\t") for line in listed.stdout.splitlines() if line.startswith(f"  {public_id}\t")]
        assert row[2:] == ["alice", "bank", "25.00 EUR", "confirmed", reference]
        assert "Refund requests still asked (mecene topups refund, or decline):\n  alice\t" in listed.stdout
        assert "\tmoving to another instance\n" in listed.stdout
        assert "Disputes still open:\n  none\nRefunds left sending (mecene topups retry-refunds):\n  none" \
            in listed.stdout
        declined = await topups(env, "decline", "alice", "Spend it first, please.")
        assert declined.returncode == 0 and "Declined" in declined.stdout, declined.stderr
        assert await request_states(alice.node) == ["declined"]

        await ask_refund(alice, "now really")
        await refused(alice.node, env, "refund", "Tnosuchtopup", "--reference", "BACK-1", says="No top-up")
        await refused(alice.node, env, "refund", public_id, "--amount", "10.00", says="give that transfer's reference")
        await refused(alice.node, env, "refund", public_id, "--amount", "1.001", "--reference", "BACK-1",
                      says="at most 2 decimals")
        await refused(alice.node, env, "refund", public_id, "--amount", "-1.00", "--reference", "BACK-1",
                      says="cannot be negative")

        part = await topups(env, "refund", public_id, "--amount", "10.00", "--reference", "BACK-1")
        assert part.returncode == 0, part.stderr
        assert "10.00 EUR of top-up" in part.stdout and "provider reference BACK-1" in part.stdout
        assert (await alice.wallet(), await request_states(alice.node)) == (1500, ["declined", "refunded"])
        rest = await topups(env, "refund", public_id, "--reference", "BACK-2")
        assert rest.returncode == 0 and "15.00 EUR of top-up" in rest.stdout, rest.stderr
        assert [(refund.amount, refund.state, refund.provider_reference)
                for refund in await refunded(alice.node, public_id)] == [(1000, "made", "BACK-1"),
                                                                         (1500, "made", "BACK-2")]
        assert (await topup_row(alice.node, public_id)).refunded == 2500
        await conserved(alice, "bank", 2500)


async def test_a_bank_statement_credits_each_known_reference_once_and_reports_the_rest(
        federation: Federation, data_folder: Path, tmp_path: Path) -> None:
    async with bank_donor(federation) as alice:
        paid, waiting = await alice.start_topup("10.00", "bank"), await alice.start_topup("20.00", "bank")
        reference = (await topup_row(alice.node, paid)).reference
        env = operator(alice.node, data_folder, BANK)
        statement = ("date,description,amount,currency\n"
                     f"2026-12-01,VIR ALICE {reference},10.00,EUR\n"
                     f"2026-12-01,VIR ALICE AGAIN {reference},10.00,EUR\n"
                     "2026-12-02,VIR MCN-ZZZZ-ZZZZ,7.00,EUR\n"
                     "2026-12-02,CARTE SUPERMARCHE,-42.10,EUR\n"
                     "2026-12-03,VIR MCN-2222-3333,12.3.4,EUR\n")
        done = await topups(env, "import", "-", stdin=statement)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == f"line 2\t{reference}\t10.00 EUR\tcredited to alice"
        assert lines[1].startswith(f"line 3\t{reference}\t10.00 EUR\talready credited to alice")
        assert lines[2].startswith("line 4\tMCN-ZZZZ-ZZZZ\t7.00 EUR\tunknown reference: ")
        assert lines[3].startswith("line 5\tCARTE SUPERMARCHE\t?\tnot credited: ")
        assert lines[4].startswith("line 6\tMCN-2222-3333\t?\tnot credited: amount: ")
        assert lines[5] == ("5 lines: 1 credited, 1 already credited, 1 unknown reference, 0 refused, "
                            "2 not credits or unreadable.")
        assert await alice.wallet() == 1000
        assert (await topup_row(alice.node, waiting)).state == "awaiting"

        headless = tmp_path / "headless.csv"
        headless.write_text("when,what,how much\n2026-12-04,VIR MCN-2222-3333,20.00\n")
        await refused(alice.node, env, "import", str(headless), says="needs a header line")
        await refused(alice.node, env, "import", str(tmp_path / "missing.csv"), says="cannot read")
        awaiting = await topups(env, "list", "--state", "awaiting")
        assert awaiting.returncode == 0 and waiting in awaiting.stdout and paid not in awaiting.stdout
        assert "Refund requests still asked (mecene topups refund, or decline):\n  none" in awaiting.stdout
        await conserved(alice, "bank", 1000)


async def test_a_card_top_up_is_refunded_through_stripe_even_after_stripe_did_not_answer(
        federation: Federation, localstripe_process: LocalStripe, data_folder: Path) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        public_id = await alice.start_topup("10.00", "stripe")
        await alice.pay(public_id, await localstripe_process.card_token(GOOD_CARD))

        async def credited() -> bool:
            return await alice.wallet() == 1000
        await eventually(credited, what="the webhook's credit")

        env = operator(alice.node, data_folder, localstripe_process.settings())
        unreachable = {**env, "MECENE_PAYMENTS_STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"}
        stalled = await topups(unreachable, "refund", public_id, "--amount", "4.00")
        assert stalled.returncode == 1 and "mecene topups retry-refunds" in stalled.stderr, stalled.stderr
        [waiting] = await refunded(alice.node, public_id)
        assert (waiting.state, await alice.wallet()) == ("sending", 600)
        async with alice.node.live.sessions() as session, session.begin():
            await disputes.open_dispute(session, await topup_row(alice.node, public_id), provider_reference="dp_cli",
                                        money=Money(100, "EUR"), reason="fraudulent", now=alice.node.live.clock())

        listed = await topups(env, "list")
        assert f"Refunds left sending (mecene topups retry-refunds):\n  {waiting.public_id}\t" in listed.stdout
        assert "Disputes still open:\n  D" in listed.stdout and "\t1.00 EUR\tfraudulent" in listed.stdout
        retried = await topups(env, "retry-refunds")
        assert retried.returncode == 0 and f"Refund {waiting.public_id}: 4.00 EUR" in retried.stdout, retried.stderr
        assert "No refund waiting" in (await topups(env, "retry-refunds")).stdout

        rest = await topups(env, "refund", public_id)
        assert rest.returncode == 0 and "5.00 EUR of top-up" in rest.stdout, rest.stderr
        assert "provider reference re_" in rest.stdout
        references = [(refund.state, refund.provider_reference[:3]) for refund in await refunded(alice.node, public_id)]
        assert references == [("made", "re_"), ("made", "re_")]
        await conserved(alice, "stripe", 1000, disputed=100)


def test_the_state_choices_are_the_top_ups_states() -> None:
    assert set(STATES) == TOPUP_STATES.states
