"""The retry policy: Mastodon's curve over days, Retry-After honoured, then dead."""

from datetime import timedelta

from federation.retry import RetryPolicy, is_permanent


def test_delays_grow_like_mastodons_and_span_days() -> None:
    policy = RetryPolicy(max_attempts=16, base_seconds=15, jitter=0)
    delays = [policy.delay(n) for n in range(1, 16)]
    assert delays[:4] == [timedelta(seconds=16), timedelta(seconds=31), timedelta(seconds=96),
                          timedelta(seconds=271)]
    assert all(later > earlier for earlier, later in zip(delays, delays[1:], strict=False))
    total = sum((d for d in delays if d), timedelta())
    assert timedelta(days=2) < total < timedelta(days=3)


def test_jitter_only_lengthens_within_its_bound() -> None:
    policy = RetryPolicy(base_seconds=15, jitter=0.25)
    assert policy.delay(3, rand=0) == timedelta(seconds=96)
    assert policy.delay(3, rand=1) == timedelta(seconds=120)


def test_retry_after_is_honoured_and_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3, base_seconds=1, jitter=0)
    assert policy.delay(1, retry_after=120) == timedelta(seconds=120)
    assert policy.delay(3) is None


def test_which_statuses_are_final() -> None:
    assert [s for s in (400, 401, 403, 404, 408, 410, 422, 429, 500, 501, 502, 503) if is_permanent(s)] == [
        400, 403, 404, 410, 422, 501]
