"""Sparklines: drawn with plotext, drawn again only when a dot would move."""

from __future__ import annotations

from kputui.ui.widgets.sparkline import SparklineCache, dots, plot_lines


def test_plot_lines_fills_the_size_and_leaves_gaps_for_missing_points() -> None:
    lines = plot_lines((1.0, 3.0, None, 2.0, 5.0), 20, 3)
    assert len(lines) == 3 and all(len(line) == 20 for line in lines)
    assert any(line.strip() for line in lines)
    assert plot_lines((None, None), 10, 2) == [" " * 10] * 2


def test_a_move_smaller_than_a_dot_reuses_the_drawing() -> None:
    clock = [0.0]
    cache = SparklineCache(clock=lambda: clock[0])
    before = SparklineCache.builds
    cache.lines((0.0, 10.0, 5.0), 30, 3)
    cache.lines((0.0, 10.0, 5.01), 30, 3)  # 12 dot rows over 10: 0.01 moves nothing
    assert SparklineCache.builds == before + 1 and cache.due_at is None
    cache.lines((0.0, 3.0, 10.0, 5.0), 30, 3)  # an earlier point moved: drawn at once
    assert SparklineCache.builds == before + 2
    cache.lines((0.0, 3.0, 10.0, 5.0), 40, 3)  # a new size draws again
    assert SparklineCache.builds == before + 3


def test_a_moving_last_point_is_drawn_at_most_every_few_seconds() -> None:
    clock = [100.0]
    cache = SparklineCache(clock=lambda: clock[0])
    before = SparklineCache.builds
    first = cache.lines((0.0, 10.0, 5.0), 30, 3)
    clock[0] += 1
    assert cache.lines((0.0, 10.0, 7.0), 30, 3) == first  # only the current slice grew: held back
    assert cache.due_at == 100.0 + SparklineCache.LAST_POINT_EVERY
    assert SparklineCache.builds == before + 1
    clock[0] = cache.due_at
    drawn = cache.lines((0.0, 10.0, 7.0), 30, 3)
    assert drawn != first and cache.due_at is None and SparklineCache.builds == before + 2
    clock[0] += 1
    cache.lines((0.0, 10.0, 5.0), 30, 3)
    assert cache.due_at is not None
    cache.lines((0.0, 10.0, 7.0), 30, 3)  # back to what is drawn: nothing is due any more
    assert cache.due_at is None and SparklineCache.builds == before + 2
    cache.lines((0.0, 10.0, 20.0), 30, 3)  # a new maximum rescales the chart, still only the last point
    assert SparklineCache.builds == before + 2 and cache.due_at is not None
    cache.lines((1.0, 10.0, 20.0), 30, 3)  # an earlier point moved: drawn at once
    assert SparklineCache.builds == before + 3 and cache.due_at is None


def test_dots_scale_from_min_to_max() -> None:
    assert dots((2.0, 4.0, None, 3.0), 3) == (0, 11, None, 6)
    assert dots((5.0, 5.0), 3) == (0, 0)
    assert dots((None,), 3) == ()
