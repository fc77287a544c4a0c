"""How API answers spell money, things and flattrs; one place, so every route agrees.

Addresses that came from other servers or other people (a flattred thing's
`url` and its `author`, an earning's `url`, which a remote Payout named, a
`donor`, a linked `actor`, aliases) are given exactly as they arrived and are
unverified: they may be `javascript:` or `data:` addresses. The documented
convention (openapi.json, docs/flattring.md) is that a client makes a link of
one only when it is http(s) once read the way a browser reads it, as the
pages do (`server.web.links.web_url`).
"""

from typing import Any

from federation.urls import InstanceUrls
from server.donations import DonorView
from server.models import ReceivedFlattr, Thing
from settlement.creator_balances import Balance
from settlement.earnings import Earnings
from settlement.flattrs import Flattr
from settlement.money import Money, format_amount
from settlement.periods import Period
from settlement.statements import Conservation, PeriodLine, Position, Statement


def money(value: Money) -> dict[str, Any]:
    """The decimal text people read, and the exact minor units programs add up."""
    return {"amount": format_amount(value), "minor_units": value.amount, "currency": value.currency}


def period(value: Period) -> dict[str, Any]:
    return {"label": value.label, "starts": value.start.isoformat(), "ends": value.end.isoformat()}


def thing(urls: InstanceUrls, row: Thing) -> dict[str, Any]:
    return {
        "id": row.id, "object_id": urls.thing(row.token), "kind": row.kind, "url": row.url, "title": row.title,
        "text": row.summary, "created_at": row.created_at.isoformat(),
        "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
    }


def flattr(record: Flattr, value: Money | None, delivery: str | None = None) -> dict[str, Any]:
    """`delivery`: how the Flattr activity reached the author's server (`server.flattr_deliveries`), when asked."""
    return {
        "id": record.id, "url": record.thing_uri, "title": record.title, "author": record.author_uri,
        "period": record.period, "activity_id": record.activity_id, "created_at": record.created_at.isoformat(),
        "value_now": money(value) if value is not None else None, "delivery": delivery,
    }


def value_rule(view: DonorView) -> dict[str, Any]:
    """How the spend falls: the instance's fee, `each` per flattr, one more minor unit for some of them."""
    currency = view.spend.currency
    return {
        "spend": money(view.spend), "fee": money(view.fee),
        "flattrs": len(view.flattrs), "each": money(Money(view.shares.each, currency)),
        "one_more_minor_unit_for": list(view.shares.extra_keys),
    }


def received(row: ReceivedFlattr, urls: InstanceUrls, token: str) -> dict[str, Any]:
    return {"id": row.id, "thing": urls.thing(token), "donor": row.donor_uri, "period": row.period,
            "received_at": row.received_at.isoformat()}


def earnings(value: Earnings, balances: list[Balance], following: str | None) -> dict[str, Any]:
    """A page of periods in `currency`, `next` the address of the following one; `balances` in every currency."""
    currency = value.currency
    return {
        "creator": value.creator, "currency": currency, "total": _cash(value.amount, currency),
        "flattrs": value.flattrs, "balances": [balance(row) for row in balances], "next": following,
        "periods": [{"period": period.period, "total": _cash(period.amount, currency), "flattrs": period.flattrs,
                     "things": [{"url": thing.thing_uri, "amount": _cash(thing.amount, currency),
                                 "flattrs": thing.flattrs} for thing in period.things]} for period in value.periods],
    }


def balance(value: Balance) -> dict[str, Any]:
    """`pending`: paid by other instances, available once each settles with ours; `waiting_on` says which."""
    currency = value.currency
    return {"currency": currency, "available": _cash(value.available, currency),
            "pending": _cash(value.pending, currency),
            "waiting_on": [{"host": row.host, "amount": _cash(row.amount, currency)} for row in value.waiting_on]}


def statement(value: Statement) -> dict[str, Any]:
    """`owed_to_them`: what we owe that instance; `owed_by_them`: what it owes us; `net` > 0 when it owes us."""
    currency = value.currency
    return {
        "instances": [_position(row, currency) for row in value.positions],
        "totals": {"owed_to_them": _cash(value.owed_to, currency), "in_flight": _cash(value.in_flight, currency),
                   "owed_by_them": _cash(value.owed_by, currency), "net": _cash(value.net, currency)},
        "conservation": conservation(value.conservation),
    }


def conservation(value: Conservation) -> dict[str, Any]:
    parts = {"funded": value.funded, "owed_by_instances": value.owed_by, "cleared_in": value.cleared_in,
             "wallets": value.wallets, "creators": value.creators, "pending": value.pending, "fees": value.fees,
             "escrow": value.escrow, "awaiting": value.awaiting, "in_flight": value.in_flight,
             "owed_to_instances": value.owed_to, "cleared_out": value.cleared_out, "payable": value.payable,
             "paid_out": value.paid_out}
    return {**{name: _cash(amount, value.currency) for name, amount in parts.items()}, "holds": value.holds}


def _position(row: Position, currency: str) -> dict[str, Any]:
    return {"host": row.host, "owed_to_them": _cash(row.owed_to, currency), "in_flight": _cash(row.in_flight, currency),
            "owed_by_them": _cash(row.owed_by, currency), "net": _cash(row.net, currency),
            "periods": [_period_line(line, currency) for line in row.periods]}


def _period_line(row: PeriodLine, currency: str) -> dict[str, Any]:
    return {"period": row.period, "sent": _cash(row.sent, currency), "state": row.state,
            "in_flight": _cash(row.in_flight, currency), "accepted": _cash(row.accepted, currency),
            "refused": _cash(row.refused, currency), "received": _cash(row.received, currency)}


def _cash(amount: int | None, currency: str) -> dict[str, Any] | None:
    return None if amount is None else money(Money(amount, currency))
