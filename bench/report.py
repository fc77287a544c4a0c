"""Ratios, not absolute numbers: each figure is ours divided by a baseline measured in the same run."""

import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).with_name("results")


@dataclass(frozen=True)
class Figure:
    case: str
    ours: float
    baseline: float
    unit: str
    baseline_name: str
    target: float  # the ratio ours/baseline must reach

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else 0.0

    @property
    def passed(self) -> bool:
        return self.ratio >= self.target


def best_rate(run, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    """Operations per second of the best of `repeats` timed runs of `run() -> operations`."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        operations = run()
        best = max(best, operations / (time.perf_counter() - start))
    return best


def print_table(figures: list[Figure]) -> None:
    print(f"{'case':52} {'ours':>12} {'baseline':>12} {'ratio':>7} {'target':>7}  result")
    for f in figures:
        print(f"{f.case:52} {f.ours:>12,.0f} {f.baseline:>12,.0f} {f.ratio:>7.2f} {f.target:>7.2f}  "
              f"{'ok' if f.passed else 'BELOW TARGET'}   ({f.unit}; baseline: {f.baseline_name})")


def save(figures: list[Figure]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "machine": platform.machine(), "node": platform.node()},
        "figures": [asdict(f) | {"ratio": f.ratio, "passed": f.passed} for f in figures],
    }, indent=2))
    return path
