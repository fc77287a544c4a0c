"""Equal integer shares of a spend, with the remainder placed by a seeded hash.

A spend rarely divides evenly: 5.00 among 3 things is 1.66 each and 2 cents left over. Those
cents go one each to the keys that come first when ordered by sha256(seed, key). Ordering by
time or by name would let a creator win them by being flattred first or by choosing a name;
the hash, seeded per donor and period, makes the choice deterministic (any instance recomputes
it) yet beyond anyone's steering.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ShareView:
    """What one flattr is worth now: `each`, plus one minor unit for each of `extra_keys`."""

    each: int
    extra_count: int
    extra_keys: tuple[str, ...]


def split(total: int, keys: Sequence[str], *, seed: str) -> dict[str, int]:
    """Shares of `total` that sum to it exactly, differ by at most one, and ignore the order of `keys`.

    No keys, no shares: the caller spends nothing when nothing was flattred.
    """
    view = describe(total, keys, seed=seed)
    extra = set(view.extra_keys)
    return {key: view.each + (1 if key in extra else 0) for key in keys}


def describe(total: int, keys: Sequence[str], *, seed: str) -> ShareView:
    if total < 0:
        raise ValueError("cannot split a negative total")
    if len(set(keys)) != len(keys):
        raise ValueError("keys to split among must be distinct")
    if not keys:
        return ShareView(0, 0, ())
    each, extra_count = divmod(total, len(keys))
    return ShareView(each, extra_count, tuple(sorted(keys, key=lambda key: _rank(seed, key))[:extra_count]))


def _rank(seed: str, key: str) -> tuple[str, str]:
    return hashlib.sha256(f"{seed}\n{key}".encode()).hexdigest(), key
