"""Periods are UTC calendar months (or days) named by their ISO label."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.periods import PERIOD_LENGTHS, Period, PeriodError, parse_period, period_of


def test_a_month() -> None:
    period = period_of(datetime(2026, 11, 24, 18, 30, tzinfo=UTC))
    assert period == Period("2026-11", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert period.length == "monthly"


def test_a_day() -> None:
    period = period_of(datetime(2026, 11, 24, 18, 30, tzinfo=UTC), "daily")
    assert period == Period("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    assert period.length == "daily"


def test_the_calendar_is_utc() -> None:
    paris_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert period_of(paris_new_year).label == "2026-12"
    assert period_of(paris_new_year, "daily").label == "2026-12-31"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        period_of(datetime(2026, 11, 24))


def test_unknown_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        period_of(datetime(2026, 11, 24, tzinfo=UTC), "weekly")
    with pytest.raises(ValueError):
        parse_period("2026-11", "yearly")


def test_end_is_exclusive() -> None:
    period = parse_period("2026-11")
    assert period_of(period.end - timedelta(microseconds=1)) == period
    assert period_of(period.end) == period.next()


def test_next_and_previous_cross_years() -> None:
    assert parse_period("2026-12").next() == parse_period("2027-01")
    assert parse_period("2027-01").previous() == parse_period("2026-12")
    assert parse_period("2026-12-31", "daily").next() == parse_period("2027-01-01", "daily")
    assert parse_period("2028-03-01", "daily").previous().label == "2028-02-29"


@pytest.mark.parametrize(("label", "length"), [
    ("2026-13", "monthly"),
    ("2026-00", "monthly"),
    ("2026-1", "monthly"),
    ("nov", "monthly"),
    ("", "monthly"),
    ("2026-11-24", "monthly"),
    (" 2026-11", "monthly"),
    ("0000-01", "monthly"),
    ("9999-12", "monthly"),
    ("\u0662\u0660\u0662\u0666-11", "monthly"),
    ("2026-11", "daily"),
    ("2026-02-30", "daily"),
    ("2026-11-4", "daily"),
    ("20261124", "daily"),
    ("9999-12-31", "daily"),
])
def test_malformed_labels(label: str, length: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(label, length)
    assert refused.value.code == "invalid_period"
    assert f'"{label}"' in str(refused.value)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 11, 30),
                    timezones=st.just(UTC)), st.sampled_from(PERIOD_LENGTHS))
def test_every_time_lies_in_the_period_its_label_names(when: datetime, length: str) -> None:
    period = period_of(when, length)
    assert period.start <= when < period.end
    assert parse_period(period.label, length) == period
    assert period.next().start == period.end
    assert period.next().previous() == period
