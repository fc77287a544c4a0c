"""`mecene period close`: close an ended period by hand, with a progress bar, or preview it."""

import sys
from typing import TextIO

from config.settings import Settings
from server.cli.errors import CommandError
from server.cli.shared import opened
from server.settling.closing import classifier, close_period, closer
from settlement.closing import BUSY, PeriodStillOpen
from settlement.destinations import AWAITING, ESCROW, LOCAL, PAYOUT
from settlement.money import Money, format_amount
from settlement.periods import parse_period

BAR_WIDTH = 30


class ProgressBar:
    """Donors distributed so far; redrawn in place on a terminal, one line per step elsewhere (logs, tests)."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self._label = label
        self._stream = stream
        self._tty = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        percent = 100 * done // total if total else 100
        line = f"closing {self._label} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {percent:3d}% {done}/{total} donors"
        self._stream.write(f"\r{line}" if self._tty else f"{line}\n")
        self._stream.flush()


async def period_close(settings: Settings, label: str | None, dry_run: bool) -> int:
    async with opened(settings) as instance:
        period = parse_period(label, settings.settlement.period) if label else instance.current_period().previous()
        currency = settings.instance.currency
        try:
            if dry_run:
                totals = await closer(instance).preview(period, await classifier(instance, period.label))
                print(_preview_text(period.label, totals, currency))
                return 0
            report = await close_period(instance, period, ProgressBar(period.label))
        except PeriodStillOpen as exc:
            raise CommandError(f"period {period.label} has not ended yet ({exc})") from exc
    if report.state == BUSY:
        raise CommandError(f"another process is closing period {period.label}; try again when it is done")
    print(f"\nPeriod {report.period} {report.state}: {report.donors} donors spent {_money(report.spent, currency)}, "
          f"fees {_money(report.fees, currency)}, {report.payouts} payouts to other instances.")
    return 0


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(Money(amount, currency))} {currency}"


def _preview_text(label: str, totals: dict[str, int], currency: str) -> str:
    def money(amount: int) -> str:
        return _money(amount, currency)

    return (f"Period {label} (dry run, nothing written): {totals['donors']} donors would spend "
            f"{money(totals['spent'])}: fees {money(totals['fees'])}, local creators {money(totals[LOCAL])}, "
            f"other instances {money(totals[PAYOUT])}, waiting for agreements {money(totals[AWAITING])}, "
            f"escrow {money(totals[ESCROW])}.")
