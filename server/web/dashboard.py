"""What a signed-in person's front page shows: money now, this period's flattrs, and where past periods went.

The live value comes from `server.donations` (the settlement rule itself),
the past from `settlement.donor_history` (the rows the close wrote) and what
they earned as a creator, available or pending, from
`settlement.creator_balances`, so the page agrees to the cent with
`GET /api/v1/me`, `GET /api/v1/earnings` and the ledger. Things are named by
the title recorded with each flattr, as the donor saw them, linked to their
address; the address alone stands in when the thing had no title.
"""

from dataclasses import dataclass
from typing import Any

from server import flattr_deliveries
from server.donations import DonorView, donor_view
from server.i18n.current import gettext as _
from server.i18n.formatting import date_text
from server.instance import Instance
from server.models import User
from server.web.labels import actor_labels
from settlement import creator_balances, donor_history, escrow, flattrs
from settlement.awaited_payouts import AWAITED
from settlement.destinations import AWAITING, ESCROW, LOCAL, PAYOUT
from settlement.donor_history import PeriodSpending, ShareLine

PERIODS_SHOWN = 6


@dataclass(frozen=True)
class ShareRow:
    thing_uri: str
    title: str
    author: str
    amount: int
    destination: str


@dataclass(frozen=True)
class PastPeriod:
    label: str
    spend: int
    fee: int
    shares: list[ShareRow]


async def dashboard(instance: Instance, user: User) -> dict[str, Any]:
    async with instance.sessions() as session:
        view = await donor_view(session, instance, user, instance.current_period())
        history = await donor_history.recent(session, user.username, limit=PERIODS_SHOWN)
        titles = await flattrs.titles(session, user.username, [period.period for period in history])
        authors = {record.author_uri for record in view.flattrs}
        authors |= {line.author_uri for period in history for line in period.shares}
        labels = await actor_labels(session, instance.urls, authors)
        balances = await creator_balances.of_creator(session, user.username)
        delivered = await flattr_deliveries.of(session, view.flattrs)
    return {"view": view, "flattrs": _flattrs(view, labels, delivered), "balances": balances, "history": [
        _past(instance, period, labels, titles) for period in history]}


def _flattrs(view: DonorView, labels: dict[str, str], delivered: dict[int, str]) -> list[dict[str, Any]]:
    return [{"id": record.id, "thing_uri": record.thing_uri, "title": record.title,
             "author": labels[record.author_uri],
             "value": view.value_of(record).amount, "created_at": record.created_at,
             "delivery": delivered[record.id], "delivery_words": _(flattr_deliveries.WORDS[delivered[record.id]])}
            for record in view.flattrs]


def _past(instance: Instance, period: PeriodSpending, labels: dict[str, str],
          titles: dict[tuple[str, str], str]) -> PastPeriod:
    return PastPeriod(period.period, period.spend, period.fee, [
        ShareRow(line.thing_uri, titles.get((period.period, line.thing_uri), ""), labels[line.author_uri],
                 line.amount, destination(instance, period.period, line, labels)) for line in period.shares])


def destination(instance: Instance, period: str, line: ShareLine, labels: dict[str, str]) -> str:
    """Where one share went, in words: the creator here, another instance, escrow, and what became of it.

    One whole sentence per case, in the reader's language.
    """
    author = labels[line.author_uri]
    if line.destination == LOCAL:
        return _("credited to %(author)s on this instance") % {"author": author}
    if line.destination in (PAYOUT, AWAITED):
        if line.settled:
            return _("paid to %(host)s") % {"host": line.host}
        return _("paid to %(host)s (on its way)") % {"host": line.host}
    if line.destination == AWAITING:
        return _("waiting for this instance and %(host)s to agree, until %(until)s, then returned to you") % {
            "host": line.host, "until": _until(instance, period)}
    if line.destination == ESCROW:
        return _("held in escrow for %(author)s until %(until)s, then returned to you") % {
            "author": author, "until": _until(instance, period)}
    if line.destination == escrow.CLAIMED:
        return _("claimed from escrow by %(claimant)s") % {"claimant": _claimant(instance, line.recipient)}
    return _("returned to your wallet: nobody claimed it in time")


def _until(instance: Instance, period: str) -> str:
    """The day a share held for `period` goes back to the donor unless claimed."""
    options = instance.settings.settlement
    return date_text(escrow.expiry(period, claim_months=options.escrow_claim_months, period_length=options.period))


def _claimant(instance: Instance, recipient: str) -> str:
    return recipient if "/" in recipient else f"@{recipient}@{instance.urls.host}"
