"""`MECENE_BENCH_SCALE`: one multiplier for every case's size, so a quick look can run at 0.1."""

import os

VARIABLE = "MECENE_BENCH_SCALE"


def scale() -> float:
    """The multiplier, 1.0 by default; refuses values that would make a case empty or endless."""
    value = float(os.environ.get(VARIABLE, "1"))
    if not 0.01 <= value <= 10:
        raise ValueError(f"{VARIABLE} must be between 0.01 and 10, got {value}")
    return value


def scaled(amount: float, minimum: float = 1) -> float:
    return max(minimum, amount * scale())
