"""Settlement periods: calendar months (or days, for demos) in UTC, named by their ISO label.

UTC rather than each person's zone so that every instance, donor and creator agrees on which
period a flattr belongs to and when it closes.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PERIOD_LENGTHS = ("monthly", "daily")

_LABELS = {
    "monthly": (re.compile(r"([0-9]{4})-([0-9]{2})"), "YYYY-MM, e.g. 2026-11"),
    "daily": (re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"), "YYYY-MM-DD, e.g. 2026-11-24"),
}


class PeriodError(ValueError):
    """A period label that names no period; the message says how to write one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "invalid_period"


@dataclass(frozen=True)
class Period:
    """`start` inclusive, `end` exclusive, both aware UTC."""

    label: str
    start: datetime
    end: datetime

    @property
    def length(self) -> str:
        return "daily" if len(self.label) == len("YYYY-MM-DD") else "monthly"

    def next(self) -> "Period":
        return period_of(self.end, self.length)

    def previous(self) -> "Period":
        return period_of(self.start - timedelta(microseconds=1), self.length)


def period_of(when: datetime, length: str = "monthly") -> Period:
    """The period containing `when`, which must be aware (a naive time has no unambiguous period)."""
    _check_length(length)
    if when.tzinfo is None:
        raise ValueError("naive datetime given for a period; pass an aware one")
    utc = when.astimezone(UTC)
    return _build(utc.year, utc.month, utc.day if length == "daily" else None)


def parse_period(label: str, length: str = "monthly") -> Period:
    pattern, form = _LABELS[_check_length(length)]
    match = pattern.fullmatch(label)
    if match is None:
        raise PeriodError(f'"{label}" is not a {length} period; write it as {form}.')
    numbers = [int(group) for group in match.groups()]
    try:
        return _build(numbers[0], numbers[1], numbers[2] if length == "daily" else None)
    except (ValueError, OverflowError):
        raise PeriodError(f'"{label}" is not a date in the calendar; write it as {form}.') from None


def _check_length(length: str) -> str:
    if length not in PERIOD_LENGTHS:
        raise ValueError(f"period length must be one of {', '.join(PERIOD_LENGTHS)}, not {length!r}")
    return length


def _build(year: int, month: int, day: int | None) -> Period:
    """Raises ValueError or OverflowError for a date outside the calendar, or a period ending past year 9999."""
    if day is not None:
        start = datetime(year, month, day, tzinfo=UTC)
        return Period(f"{year:04d}-{month:02d}-{day:02d}", start, start + timedelta(days=1))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return Period(f"{year:04d}-{month:02d}", start, end)
