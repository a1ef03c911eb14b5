"""Sparklines: drawn with plotext, drawn again only when a dot would move."""

from __future__ import annotations

from kputui.ui.widgets.sparkline import SparklineCache, dots, plot_lines


def test_plot_lines_fills_the_size_and_leaves_gaps_for_missing_points() -> None:
    lines = plot_lines((1.0, 3.0, None, 2.0, 5.0), 20, 3)
    assert len(lines) == 3 and all(len(line) == 20 for line in lines)
    assert any(line.strip() for line in lines)
    assert plot_lines((None, None), 10, 2) == [" " * 10] * 2


def test_a_move_smaller_than_a_dot_reuses_the_drawing() -> None:
    cache = SparklineCache()
    before = SparklineCache.builds
    cache.lines((0.0, 10.0, 5.0), 30, 3)
    cache.lines((0.0, 10.0, 5.01), 30, 3)  # 12 dot rows over 10: 0.01 moves nothing
    assert SparklineCache.builds == before + 1
    cache.lines((0.0, 10.0, 7.0), 30, 3)
    assert SparklineCache.builds == before + 2
    cache.lines((0.0, 10.0, 7.0), 40, 3)  # a new size draws again
    assert SparklineCache.builds == before + 3


def test_dots_scale_from_min_to_max() -> None:
    assert dots((2.0, 4.0, None, 3.0), 3) == (0, 11, None, 6)
    assert dots((5.0, 5.0), 3) == (0, 0)
    assert dots((None,), 3) == ()
