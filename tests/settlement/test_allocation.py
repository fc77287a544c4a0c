"""The share computation: exact sums, exact fee, determinism and fairness, for any input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.allocation import allocate

things = st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40)
amounts = st.integers(min_value=0, max_value=10**12)
wallets = st.integers(min_value=-10**6, max_value=10**12)
fees = st.integers(min_value=0, max_value=10_000)


@given(budget=amounts, wallet=wallets, keys=things, fee=fees, seed=st.text(max_size=10))
def test_shares_and_fee_sum_exactly_to_the_spend(budget: int, wallet: int, keys: list[str], fee: int,
                                                 seed: str) -> None:
    result = allocate(budget=budget, wallet=wallet, things=keys, fee_basis_points=fee, seed=seed)
    assert result.fee + sum(result.shares.values()) == result.spend
    assert result.spend == (min(budget, max(wallet, 0)) if keys else 0)
    assert result.fee * 10_000 <= result.spend * fee < (result.fee + 1) * 10_000
    assert set(result.shares) == set(keys)


@given(budget=amounts, keys=things.filter(bool), fee=fees, seed=st.text(max_size=10))
def test_no_two_shares_of_a_donor_differ_by_more_than_one_unit(budget: int, keys: list[str], fee: int,
                                                               seed: str) -> None:
    values = allocate(budget=budget, wallet=budget, things=keys, fee_basis_points=fee, seed=seed).shares.values()
    assert max(values) - min(values) <= 1


@given(budget=amounts, keys=things, fee=fees, seed=st.text(max_size=10), data=st.data())
def test_the_order_of_flattrs_changes_nothing(budget: int, keys: list[str], fee: int, seed: str,
                                              data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(keys))
    first = allocate(budget=budget, wallet=budget, things=keys, fee_basis_points=fee, seed=seed)
    second = allocate(budget=budget, wallet=budget, things=shuffled, fee_basis_points=fee, seed=seed)
    assert first == second


def test_a_worked_example() -> None:
    result = allocate(budget=500, wallet=10_000, things=["a", "b", "c"], fee_basis_points=250, seed="2026-11:alice")
    assert (result.spend, result.fee) == (500, 12)
    assert sorted(result.shares.values()) == [162, 163, 163]


def test_nothing_flattred_spends_nothing() -> None:
    assert allocate(budget=500, wallet=500, things=[], fee_basis_points=0, seed="s").spend == 0


@pytest.mark.parametrize("fee", [-1, 10_001])
def test_a_fee_outside_zero_to_100_percent_is_refused(fee: int) -> None:
    with pytest.raises(ValueError):
        allocate(budget=1, wallet=1, things=["a"], fee_basis_points=fee, seed="s")
