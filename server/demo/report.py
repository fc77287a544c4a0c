"""What `mecene demo` prints after the close: where every cent went, read back from each instance's own tables.

Nothing here is computed on the side: donors' spends and shares, creators'
earnings, escrow and the ledger check are what the instances recorded, so the
demo shows what an operator would find with `mecene ledger check` and
`mecene statements`.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from server.demo.sites import Site
from settlement import escrow, ledger, statements
from settlement.destinations import AWAITING, LOCAL, PAYOUT
from settlement.models import DonorClose, Earning, Share, Transaction
from settlement.money import Money, format_amount
from settlement.statements import Conservation

Say = Callable[[str], None]


@dataclass(frozen=True)
class Cast:
    """The demo's instances, and the short `name@site` of every actor it created."""

    sites: list[Site]
    handles: dict[str, str]

    @property
    def currency(self) -> str:
        return self.sites[0].instance.settings.instance.currency

    def money(self, amount: int) -> str:
        return f"{format_amount(Money(amount, self.currency))} {self.currency}"

    def site_name(self, host: str) -> str:
        return next((site.name for site in self.sites if site.host == host), host)

    def handle(self, actor: str) -> str:
        return self.handles.get(actor, actor)


async def where_the_money_went(cast: Cast, label: str, say: Say) -> bool:
    """Prints the allocation; False when a ledger does not balance or money is not conserved."""
    say(f"\nWhere the money went in period {label}\nDonors (wallet debited at the close)")
    for site in cast.sites:
        for line in await _donors(cast, site, label):
            say(line)
    say("Creators")
    for site in cast.sites:
        for line in await _creators(cast, site, label):
            say(line)
    for line in await _escrow(cast):
        say(line)
    say("Ledgers")
    return await _ledgers(cast, say)


async def _donors(cast: Cast, site: Site, label: str) -> list[str]:
    async with site.instance.sessions() as session:
        closes = list(await session.scalars(
            select(DonorClose).where(DonorClose.period == label).order_by(DonorClose.donor)))
        shares = list(await session.scalars(select(Share).where(Share.period == label).order_by(Share.id)))
    lines = []
    for close in closes:
        lines.append(f"  {close.donor}@{site.name} spent {cast.money(close.spend)} (fee {cast.money(close.fee)})")
        lines += [f"      {cast.money(share.amount):>10}  to {cast.handle(share.author_uri):12} {_where(cast, share)}"
                  for share in shares if share.donor == close.donor]
    return lines


def _where(cast: Cast, share: Share) -> str:
    if share.destination == LOCAL:
        return "credited here"
    if share.destination == PAYOUT:
        return f"in the Payout to {cast.site_name(share.host)}"
    if share.destination == AWAITING:
        return f"waiting for an agreement with {cast.site_name(share.host)}"
    return "held in escrow: its server has no Mecene"


async def _creators(cast: Cast, site: Site, label: str) -> list[str]:
    async with site.instance.sessions() as session:
        rows = await session.execute(
            select(Earning.creator, Earning.source, func.sum(Earning.amount))
            .where(Earning.period == label, Earning.currency == cast.currency)
            .group_by(Earning.creator, Earning.source).order_by(Earning.creator, Earning.source))
    sources: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for creator, source, amount in rows:
        sources[creator].append((source, int(amount)))
    lines = []
    for creator, parts in sources.items():
        parts.sort(key=lambda part: (part[0] != "", cast.site_name(part[0])))
        lines.append(f"  {creator}@{site.name} earned {cast.money(sum(amount for _, amount in parts))}")
        lines += [f"      {cast.money(amount):>10}  " + (f"from donors on {site.name}" if not source else
                                                        f"by Payout from {cast.site_name(source)}")
                  for source, amount in parts]
    return lines


async def _escrow(cast: Cast) -> list[str]:
    held: dict[str, list[tuple[str, escrow.EscrowHolding]]] = defaultdict(list)
    for site in cast.sites:
        options = site.instance.settings.settlement
        async with site.instance.sessions() as session:
            for holding in await escrow.held(session, currency=cast.currency, claim_months=options.escrow_claim_months,
                                             period_length=options.period):
                held[holding.author].append((site.name, holding))
    lines = []
    for author, parts in held.items():
        total = sum(holding.amount for _, holding in parts)
        where = ", ".join(f"{name} {cast.money(holding.amount)}" for name, holding in parts)
        expires = min(holding.expires for _, holding in parts)
        lines += [f"  {cast.handle(author)} has no Mecene: {cast.money(total)} held in escrow ({where})",
                  f"      until claimed from a Mecene account, or returned to the donors from {expires:%Y-%m-%d}"]
    return lines


async def _ledgers(cast: Cast, say: Say) -> bool:
    total, balanced = Conservation(cast.currency), True
    for site in cast.sites:
        async with site.instance.sessions() as session:
            flaws = await ledger.check(session)
            count = await session.scalar(select(func.count(Transaction.id)))
            total = total + await statements.conservation(session, cast.currency)
        balanced = balanced and not flaws
        say(f"  {site.name:6} ledger {'balances' if not flaws else 'DOES NOT BALANCE'} ({count} transactions)")
    conserved = total.funded == total.held and total.owed_to == total.owed_by
    parts = {"wallets": total.wallets, "creators": total.creators, "pending until cleared": total.pending,
             "escrow": total.escrow, "awaiting agreements": total.awaiting, "fees": total.fees,
             "in flight": total.in_flight}
    say(f"  all    {cast.money(total.funded)} topped up {'=' if conserved else '≠'} "
        + " + ".join(f"{name} {format_amount(Money(amount, cast.currency))}" for name, amount in parts.items()))
    return balanced and conserved
