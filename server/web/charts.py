"""Bar chart geometry for SVG drawn on the server: whole pixels, computed from integer values.

The template draws the rectangles; this decides where they go, so the
arithmetic can be tested without parsing markup. Values are minor units and
stay integers: a bar's height is its share of the tallest bar, rounded down.
"""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 600, 240
TOP, BOTTOM = 24, 40  # room above the bars for their values, below for their labels
GAP_PERCENT = 25  # of each bar's slot left empty, split on both sides


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as a person reads it, e.g. "5.00"
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> int:
        return self.x + self.width // 2


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: int  # the y of the axis the bars stand on
    bars: list[Bar]


def bar_chart(values: Sequence[tuple[str, int, str]], *, width: int = WIDTH, height: int = HEIGHT) -> BarChart:
    """One bar per `(label, value, text)`, left to right; the tallest reaches the top of the plot."""
    if any(value < 0 for _, value, _ in values):
        raise ValueError("a bar chart of earnings has no negative bars")
    if len(values) > width:
        raise ValueError(f"{len(values)} bars do not fit in {width} pixels")
    plot = height - TOP - BOTTOM
    baseline = TOP + plot
    if not values:
        return BarChart(width, height, baseline, [])
    slot = width // len(values)
    bar_width = max(1, slot * (100 - GAP_PERCENT) // 100)
    peak = max(value for _, value, _ in values)
    bars = []
    for index, (label, value, text) in enumerate(values):
        bar_height = value * plot // peak if peak else 0
        bars.append(Bar(label, value, text, index * slot + (slot - bar_width) // 2, baseline - bar_height,
                        bar_width, bar_height))
    return BarChart(width, height, baseline, bars)
