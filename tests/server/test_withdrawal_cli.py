"""`mecene withdrawals …` as an operator runs it, on the database of a running instance whose creators asked money out.

The withdrawals are asked with settlement's own functions; the operator's
steps are `mecene` commands pointed at that instance's database. Each
refusal is checked to have changed nothing, and at the end the books balance
and the money is conserved: what creators earned is still theirs (available
or asked) or left the books to the bank or by hand.
"""

import asyncio
import csv
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from test_agreements import cli_env
from test_bank_files import NS, asked, transfers

from cli_process import mecene, run_here
from federation_harness import Federation, Node
from server.cli.withdrawal_parser import STATES
from settlement import accounts, ledger, withdrawals
from settlement.ledger import AccountKey
from settlement.models import WITHDRAWAL_STATES, Transaction, Withdrawal, WithdrawalBatch
from settlement.money import Money

OPERATOR_BANK = {"MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community A",
                 "MECENE_PAYMENTS_BANK_IBAN": "FR1420041010050500013M02606", "MECENE_PAYMENTS_BANK_BIC": "PSSTFRPPLIL"}
EARNED = {"EUR": 3000 + 500 + 1234 + 2000, "CHF": 1500}


@dataclass(frozen=True)
class Asked:
    """Public ids: carla's 30.00 and 5.00 EUR and zoë's 12.34 to an IBAN, ivan's 20.00 EUR and hans's 15.00 CHF by
    hand."""

    carla: str
    carla_later: str
    zoe: str
    ivan: str
    hans: str


async def creators_asked(node: Node) -> Asked:
    async with node.live.sessions() as session, session.begin():
        made = [await asked(session, "carla", 3000, "EUR", iban="FR7630006000011234567890189", holder="Carla Creator"),
                await asked(session, "carla", 500, "EUR", iban="FR7630006000011234567890189", holder="Carla Creator"),
                await asked(session, "zoe", 1234, "EUR", iban="DE89370400440532013000", holder="Zoë Ångström"),
                await asked(session, "ivan", 2000, "EUR", instructions="PayPal to ivan@example.org"),
                await asked(session, "hans", 1500, "CHF", instructions="Twint +41 79 123 45 67")]
    return Asked(*(row.public_id for row in made))


async def withdrawals_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mecene withdrawals …`, while this event loop keeps serving the instance."""
    return await run_here(env, "withdrawals", *args)


async def done(env: dict[str, str], *args: str) -> str:
    ran = await withdrawals_cli(env, *args)
    assert ran.returncode == 0, (args, ran.stderr)
    return ran.stdout


async def books(node: Node) -> tuple[object, ...]:
    """Everything a `mecene withdrawals` command may change: a refused one leaves it equal."""
    async with node.live.sessions() as session:
        return ((await session.execute(select(Withdrawal.public_id, Withdrawal.state, Withdrawal.batch_id,
                                              Withdrawal.reason).order_by(Withdrawal.id))).all(),
                (await session.execute(select(WithdrawalBatch.public_id, WithdrawalBatch.state)
                                       .order_by(WithdrawalBatch.id))).all(),
                await session.scalar(select(func.count(Transaction.id))))


async def refused(node: Node, env: dict[str, str], *args: str, says: str, status: int = 1) -> None:
    """`mecene withdrawals ARGS` exits `status` saying `says` on stderr, and the books are as they were."""
    before = await books(node)
    ran = await withdrawals_cli(env, *args)
    assert (ran.returncode, ran.stdout) == (status, ""), (args, ran.returncode, ran.stdout, ran.stderr)
    assert says in ran.stderr and "Traceback" not in ran.stderr, (args, ran.stderr)
    assert await books(node) == before, args


async def states(node: Node) -> dict[str, tuple[str, str]]:
    async with node.live.sessions() as session:
        return {row.public_id: (row.state, row.reason) for row in await session.scalars(select(Withdrawal))}


async def conserved(node: Node) -> None:
    """The books balance, and per currency what creators earned is available, asked, or paid out."""
    async with node.live.sessions() as session:
        assert await ledger.check(session) == []
        for currency, earned in EARNED.items():
            held = [await ledger.balance(session, AccountKey(kind, owner, currency))
                    for kind in (accounts.CREATOR, accounts.PAYABLE) for owner in ("carla", "zoe", "ivan", "hans")]
            out = [await ledger.balance(session, AccountKey(accounts.PAYOUT, way, currency))
                   for way in ("bank", "manual")]
            assert sum(held) + sum(out) == earned, currency


def listed(stdout: str, public_id: str) -> list[str]:
    [row] = [line.split("\t") for line in stdout.splitlines() if line.startswith(f"  {public_id}\t")]
    return row


async def test_an_operator_batches_pays_and_returns_withdrawals(federation: Federation, tmp_path: Path) -> None:
    node = await federation.start("a")
    ids = await creators_asked(node)
    env = cli_env(node, tmp_path) | OPERATOR_BANK

    await refused(node, env, "batch", "XYZ", says='"XYZ" is not a known ISO 4217 currency code')
    await refused(node, env, "batch", "EUR", ids.carla, "Wnosuch", says="No withdrawal 'Wnosuch'")
    approved = await asyncio.to_thread(mecene, env, "withdrawals", "batch", "eur", ids.carla, ids.zoe, ids.ivan)
    assert approved.returncode == 0, approved.stderr
    batched = approved.stdout
    batch = batched.split()[2]
    assert batched.startswith(f"Approved batch {batch} in EUR: 3 withdrawals, 62.34 EUR.\n")
    assert listed(batched, ids.ivan)[2:] == ["ivan", "20.00 EUR", "other", "batched", batch, "-"]

    everything = await done(env, "list")
    assert listed(everything, ids.zoe)[2:] == ["zoe", "12.34 EUR", "sepa", "batched", batch, "-"]
    assert listed(everything, ids.hans)[2:] == ["hans", "15.00 CHF", "other", "requested", "-", "-"]
    assert "Waiting to be paid, per currency:\n  CHF\t15.00 CHF requested\t0.00 CHF batched\n" \
           "  EUR\t5.00 EUR requested\t62.34 EUR batched\n" in everything
    assert listed(everything, batch)[2:] == ["EUR", "approved", "3 withdrawals", "62.34 EUR"]

    out = tmp_path / "batch.xml"
    assert f"to {out}, execution date 2027-01-15" in await done(env, "file", batch, "--out", str(out), "--date",
                                                               "2027-01-15")
    root, found = transfers(out.read_bytes())
    assert {key: transfer.findtext("p:Amt/p:InstdAmt", namespaces=NS) for key, transfer in found.items()} == \
        {ids.carla: "30.00", ids.zoe: "12.34"}
    assert root.findtext(".//p:PmtInf/p:ReqdExctnDt", namespaces=NS) == "2027-01-15"
    assert found[ids.zoe].findtext("p:Cdtr/p:Nm", namespaces=NS) == "Zoe Angstrom"
    await refused(node, env, "file", batch, "--out", str(tmp_path / "never.xml"), "--date", "2027-02-30",
                  says="'2027-02-30' is not a date", status=2)
    assert not (tmp_path / "never.xml").exists()
    [other] = csv.DictReader(io.StringIO(await done(env, "others", batch)))
    assert (other["withdrawal"], other["amount"], other["instructions"]) == (ids.ivan, "20.00",
                                                                             "PayPal to ivan@example.org")

    assert "3 withdrawals paid, 62.34 EUR" in await done(env, "executed", batch)
    await refused(node, env, "executed", batch, says=f"Batch {batch} was marked executed already.")
    assert "12.34 EUR is available to zoe again" in await done(env, "return", ids.zoe, "account closed at the bank")
    await refused(node, env, "return", ids.carla, "  ", says="Say why the line came back")
    await refused(node, env, "file", "Bnosuch", says="No batch 'Bnosuch'")
    assert await states(node) == {ids.carla: ("paid", ""), ids.carla_later: ("requested", ""),
                                  ids.zoe: ("returned", "account closed at the bank"), ids.ivan: ("paid", ""),
                                  ids.hans: ("requested", "")}
    async with node.live.sessions() as session:
        assert await withdrawals.available(session, "zoe", "EUR") == Money(1234, "EUR")

    _, still_paid = transfers((await withdrawals_cli(env, "file", batch)).stdout.encode())
    assert set(still_paid) == {ids.carla}
    came_back = await done(env, "list", "--state", "returned")
    assert listed(came_back, ids.zoe)[6:] == [batch, "account closed at the bank"]
    assert ids.carla not in came_back
    assert listed(came_back, batch)[2:] == ["EUR", "executed", "3 withdrawals (1 returned)", "50.00 EUR"]
    await conserved(node)


def test_the_state_choices_are_the_withdrawals_states() -> None:
    assert set(STATES) == WITHDRAWAL_STATES.states
