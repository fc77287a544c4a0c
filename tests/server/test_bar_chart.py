"""The earnings chart's geometry: whole pixels from integer amounts, the tallest bar filling the plot."""

import pytest

from server.web.charts import BOTTOM, TOP, bar_chart


def test_bars_share_the_width_and_scale_to_the_tallest() -> None:
    chart = bar_chart([("2026-01", 100, "1.00"), ("2026-02", 400, "4.00"), ("2026-03", 0, "0.00"),
                       ("2026-04", 399, "3.99")], width=400, height=200)
    plot = 200 - TOP - BOTTOM
    assert chart.baseline == TOP + plot == 160
    assert [(bar.x, bar.width) for bar in chart.bars] == [(12, 75), (112, 75), (212, 75), (312, 75)]
    assert [bar.height for bar in chart.bars] == [34, 136, 0, 135]
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert chart.bars[1].y == TOP and chart.bars[1].centre == 149
    assert [(bar.label, bar.value, bar.text) for bar in chart.bars][0] == ("2026-01", 100, "1.00")


def test_heights_round_down_and_never_exceed_the_plot() -> None:
    chart = bar_chart([("a", 1, "0.01"), ("b", 3, "0.03")], width=100, height=TOP + BOTTOM + 10)
    assert [bar.height for bar in chart.bars] == [3, 10]


def test_nothing_earned_draws_flat_bars_and_no_bars_draw_nothing() -> None:
    assert [bar.height for bar in bar_chart([("a", 0, "0.00"), ("b", 0, "0.00")]).bars] == [0, 0]
    assert bar_chart([]).bars == []


def test_a_single_bar_is_centred() -> None:
    (bar,) = bar_chart([("only", 5, "0.05")], width=600).bars
    assert (bar.x, bar.width, bar.centre) == (75, 450, 300)


@pytest.mark.parametrize("values", [[("a", -1, "-0.01")], [(str(n), 1, "0.01") for n in range(11)]])
def test_negative_or_too_many_bars_are_refused(values: list[tuple[str, int, str]]) -> None:
    with pytest.raises(ValueError):
        bar_chart(values, width=10)
