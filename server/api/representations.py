"""How API answers spell money, things and flattrs; one place, so every route agrees."""

from typing import Any

from federation.urls import InstanceUrls
from server.donations import DonorView
from server.models import ReceivedFlattr, Thing
from settlement.flattrs import Flattr
from settlement.money import Money, format_amount
from settlement.periods import Period


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


def flattr(record: Flattr, value: Money | None) -> dict[str, Any]:
    return {
        "id": record.id, "url": record.thing_uri, "author": record.author_uri, "period": record.period,
        "activity_id": record.activity_id, "created_at": record.created_at.isoformat(),
        "value_now": money(value) if value is not None else None,
    }


def value_rule(view: DonorView) -> dict[str, Any]:
    """How the spend falls: `each` per flattr, one more minor unit for `extra` of them."""
    return {
        "spend": money(view.spend), "flattrs": len(view.flattrs),
        "each": money(Money(view.shares.each, view.spend.currency)), "one_more_minor_unit_for": list(
            view.shares.extra_keys),
    }


def received(row: ReceivedFlattr, urls: InstanceUrls, token: str) -> dict[str, Any]:
    return {"thing": urls.thing(token), "donor": row.donor_uri, "period": row.period,
            "received_at": row.received_at.isoformat()}
