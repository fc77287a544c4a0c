"""`mecene clearing list|paid|confirm|dispute`: clearing with peers, from the command line.

Each command calls `server.clearing`, as the /admin/peers page does: a
refusal (bad input, nothing owed, nothing waiting) is printed as `mecene: …`
with exit status 1, and nothing changed. A notice or an answer is queued in
the database, where the running server's delivery worker finds it.
"""

from config.settings import Settings
from server import clearing
from server.clearing import Standing
from server.cli.shared import opened
from settlement.models import Clearing, StatementCheck
from settlement.money import Money, format_amount


async def list_clearings(settings: Settings) -> int:
    async with opened(settings) as instance:
        found = await clearing.standings(instance)
    if not found:
        print("No agreement with another instance yet (`mecene peers list`).")
    for standing in found:
        print("\n".join(_lines(standing)))
    return 0


async def record_paid(settings: Settings, host: str, amount: str, currency: str | None, reference: str) -> int:
    async with opened(settings) as instance:
        done = await clearing.record_paid(instance, host, amount, currency or settings.instance.currency, reference)
    print(f"Recorded: you paid {done.peer_host} {_text(done.amount, done.currency)} (and this clears "
          f"{_text(done.netted, done.currency)} both ways), reference {done.reference!r}. They are told, and "
          "their operator confirms once it arrives.")
    return 0


async def confirm(settings: Settings, host: str, currency: str | None) -> int:
    async with opened(settings) as instance:
        done = await clearing.confirm(instance, host, currency or settings.instance.currency)
    print(f"Confirmed {_text(done.amount, done.currency)} from {done.peer_host} (reference {done.reference!r}): "
          "booked, and what its payouts brought your creators is available to them up to that much.")
    return 0


async def dispute(settings: Settings, host: str, currency: str | None) -> int:
    async with opened(settings) as instance:
        done = await clearing.dispute(instance, host, currency or settings.instance.currency)
    print(f"Disputed the transfer {done.peer_host} says it made ({_text(done.amount, done.currency)}, reference "
          f"{done.reference!r}); they are told, and nothing was booked.")
    return 0


def _lines(standing: Standing) -> list[str]:
    lines = [f"{standing.host} ({standing.currency}): we owe them {standing.text(standing.owed_to)}, they owe us "
             f"{standing.text(standing.owed_by)}"]
    if standing.to_pay:
        when = "now (past 80 % of their credit limit)" if standing.due else "by the end of the month"
        lines.append(f"  pay {standing.text(standing.to_pay)} {when} to {standing.pay_to}, reference "
                     f"{standing.reference!r}, then: mecene clearing paid {standing.host} "
                     f"{format_amount(Money(standing.to_pay, standing.currency))} --reference "
                     f"{standing.reference!r}")
    if standing.unfinished is not None:
        lines.append(_unfinished(standing.host, standing.unfinished))
    if standing.statement is not None:
        lines += _statement(standing.statement)
    return lines


def _unfinished(host: str, waiting: Clearing) -> str:
    if waiting.we_paid:
        return (f"  we paid {_text(waiting.amount, waiting.currency)} (reference {waiting.reference!r}): waiting "
                "for them to confirm")
    return (f"  they say they paid {_text(waiting.amount, waiting.currency)} (reference {waiting.reference!r}): "
            f"mecene clearing confirm {host}, or dispute")


def _statement(check: StatementCheck) -> list[str]:
    if not check.differences:
        return [f"  their statement of {check.period} agrees with our books"]
    lines = [f"  their statement of {check.period} DIFFERS from our books:"]
    lines += [f"    {item['what']} {item['id']}: they say {item['theirs']}, we say {item['ours']}"
              for item in check.differences]
    return lines


def _text(amount: int, currency: str) -> str:
    return f"{format_amount(Money(amount, currency))} {currency}"
