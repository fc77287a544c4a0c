"""Equal integer shares whose remainder falls where nobody can steer it."""

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.shares import ShareView, describe, split

keys_lists = st.lists(st.text(min_size=1, max_size=30), unique=True, max_size=40)
totals = st.integers(min_value=0, max_value=10**12)
seeds = st.text(max_size=30)


@given(totals, keys_lists, seeds)
def test_shares_sum_exactly_to_the_total(total: int, keys: list[str], seed: str) -> None:
    shares = split(total, keys, seed=seed)
    assert set(shares) == set(keys)
    if keys:
        assert sum(shares.values()) == total


@given(totals, keys_lists, seeds, st.randoms())
def test_shares_ignore_the_order_of_keys(total: int, keys: list[str], seed: str, rng: random.Random) -> None:
    shuffled = list(keys)
    rng.shuffle(shuffled)
    assert split(total, shuffled, seed=seed) == split(total, keys, seed=seed)
    assert describe(total, shuffled, seed=seed) == describe(total, keys, seed=seed)


@given(totals, keys_lists.filter(bool), seeds)
def test_shares_differ_by_at_most_one_minor_unit(total: int, keys: list[str], seed: str) -> None:
    shares = split(total, keys, seed=seed).values()
    assert max(shares) - min(shares) <= 1
    assert min(shares) == total // len(keys)


@given(totals, keys_lists.filter(bool), seeds)
def test_the_remainder_goes_one_each_to_the_first_keys_by_hash(total: int, keys: list[str], seed: str) -> None:
    shares = split(total, keys, seed=seed)
    view = describe(total, keys, seed=seed)
    by_hash = sorted(keys, key=lambda key: hashlib.sha256(f"{seed}\n{key}".encode()).hexdigest())
    assert view.each == total // len(keys)
    assert view.extra_count == total % len(keys) == len(view.extra_keys)
    assert list(view.extra_keys) == by_hash[:view.extra_count]
    assert [key for key in keys if shares[key] > view.each] == [key for key in keys if key in view.extra_keys]


def test_a_worked_example() -> None:
    keys = ["https://a.example/1", "https://b.example/2", "https://c.example/3"]
    shares = split(500, keys, seed="alice:2026-11")
    assert sorted(shares.values()) == [166, 167, 167]
    view = describe(500, keys, seed="alice:2026-11")
    assert view.each == 166 and view.extra_count == 2
    assert {key for key, share in shares.items() if share == 167} == set(view.extra_keys)


def test_the_seed_moves_the_remainder() -> None:
    keys = [f"thing-{n}" for n in range(10)]
    placements = {describe(1, keys, seed=f"donor-{n}").extra_keys for n in range(50)}
    assert len(placements) > 1


def test_no_keys_no_shares() -> None:
    assert split(500, [], seed="s") == {}
    assert describe(500, [], seed="s") == ShareView(0, 0, ())


def test_refusals() -> None:
    with pytest.raises(ValueError):
        split(5, ["a", "b", "a"], seed="s")
    with pytest.raises(ValueError):
        split(-1, ["a"], seed="s")
