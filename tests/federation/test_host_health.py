"""The circuit breaker replays a batch's attempts in order, as one write per attempt would have."""

from datetime import UTC, datetime, timedelta

from federation.host_health import Breaker, replay

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
BREAKER = Breaker(threshold=3, cooldown=timedelta(seconds=60))
FAILED, DELIVERED, REFUSED = (False, False), (True, False), (False, True)


def test_failures_in_a_row_open_the_circuit_at_the_threshold() -> None:
    assert replay(0, None, [FAILED, FAILED], BREAKER, NOW) == (2, None)
    assert replay(0, None, [FAILED, FAILED, FAILED], BREAKER, NOW) == (3, NOW + BREAKER.cooldown)


def test_a_delivery_or_a_permanent_refusal_resets_the_count_and_closes_the_circuit() -> None:
    opened = NOW - timedelta(seconds=5)
    assert replay(5, opened, [DELIVERED], BREAKER, NOW) == (0, None)
    assert replay(5, opened, [REFUSED], BREAKER, NOW) == (0, None)


def test_order_matters_within_a_batch() -> None:
    assert replay(1, None, [FAILED, DELIVERED, FAILED], BREAKER, NOW) == (1, None)
    assert replay(1, None, [DELIVERED, FAILED, FAILED, FAILED], BREAKER, NOW) == (3, NOW + BREAKER.cooldown)


def test_the_count_carries_over_from_earlier_batches() -> None:
    assert replay(2, None, [FAILED], BREAKER, NOW) == (3, NOW + BREAKER.cooldown)
