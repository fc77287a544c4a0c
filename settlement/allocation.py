"""One donor's period, as numbers: what is spent, what the instance keeps, what each thing gets.

Pure and deterministic, so any instance (or an auditor) recomputes the same
shares from the same inputs:

- spend = min(budget, wallet) when the donor flattred anything, else 0
  (a negative wallet spends nothing);
- fee = floor(spend × fee_basis_points / 10 000): rounding never takes a
  minor unit more than the rate says;
- the rest is split in equal shares by `shares.split`: remainder units one
  each to the things whose seeded hash sorts first.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from settlement import shares

MAX_BASIS_POINTS = 10_000


@dataclass(frozen=True)
class Allocation:
    spend: int
    fee: int
    shares: dict[str, int]


def allocate(*, budget: int, wallet: int, things: Sequence[str], fee_basis_points: int, seed: str) -> Allocation:
    if not 0 <= fee_basis_points <= MAX_BASIS_POINTS:
        raise ValueError("the fee is between 0 and 10000 basis points")
    if budget < 0:
        raise ValueError("a budget is never negative")
    spend = min(budget, max(wallet, 0)) if things else 0
    fee = spend * fee_basis_points // MAX_BASIS_POINTS
    return Allocation(spend, fee, shares.split(spend - fee, things, seed=seed))


def share_seed(period: str, donor: str) -> str:
    """Seeds the remainder placement per donor and period; the dashboard's live value uses the same seed."""
    return f"{period}:{donor}"
