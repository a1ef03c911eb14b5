"""A line chart of a KPI over its period, drawn with plotext, in the theme's colours."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from datetime import timedelta

import plotext
from rich.color import ColorType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from kputui.kpi import format_value

if TYPE_CHECKING:
    from rich.style import Style

    from kputui.detail import KpiDetail

__all__ = ["KpiChart"]


def _plot_color(style: Style) -> int | tuple[int, int, int] | str:
    """A plotext colour for a Rich style's foreground: palette numbers stay palette numbers."""
    color = style.color
    if color is None or color.type == ColorType.DEFAULT:
        return "default"
    if color.type in (ColorType.STANDARD, ColorType.EIGHT_BIT) and color.number is not None:
        return color.number
    red, green, blue = color.get_truecolor()
    return (red, green, blue)


class KpiChart(Widget):
    """The KPI to date through the current period, the previous period, and the target."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "kpi-chart--current",
        "kpi-chart--previous",
        "kpi-chart--target",
    }

    DEFAULT_CSS = """
    KpiChart {
        height: 1fr;
        min-height: 8;
    }
    KpiChart > .kpi-chart--current { color: $primary; }
    KpiChart > .kpi-chart--previous { color: $secondary; }
    KpiChart > .kpi-chart--target { color: $warning; }
    """

    detail: reactive[KpiDetail | None] = reactive(None)
    """What to draw."""

    def render(self) -> Text:
        detail = self.detail
        width, height = self.size
        if detail is None or width < 20 or height < 5:
            return Text("")
        style = self.get_component_rich_style
        plotext.clear_figure()
        plotext.plotsize(width, height)
        plotext.theme("clear")
        xs = list(range(len(detail.times)))
        for values, label, component in (
            (detail.previous_course, "previous period", "previous"),
            (detail.course, "this period", "current"),
        ):
            points = [(x, v) for x, v in zip(xs, values) if v is not None]
            if points:
                plotext.plot(
                    [x for x, _ in points],
                    [v for _, v in points],
                    marker="braille",
                    color=_plot_color(style(f"kpi-chart--{component}")),
                    label=label,
                )
        target = detail.state.target
        if target is not None:
            plotext.hline(target, _plot_color(style("kpi-chart--target")))
        shown = [v for v in (*detail.course, *detail.previous_course) if v is not None]
        if target is not None:
            shown.append(target)
        if shown:
            low, high = min(shown), max(shown)
            margin = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
            # A chart of values that cannot go negative does not dip below zero.
            low = low - margin if low < 0 else max(0.0, low - margin)
            high += margin
            plotext.ylim(low, high)
            ticks_y = [low + (high - low) * i / 4 for i in range(5)]
            plotext.yticks(ticks_y, [format_value(v, detail.spec.format) for v in ticks_y])
        step = max(1, len(xs) // 6)
        ticks = xs[::step]
        plotext.xticks(ticks, [self._tick(detail, x) for x in ticks])
        return Text.from_ansi(plotext.build(), no_wrap=True)

    @staticmethod
    def _tick(detail: KpiDetail, index: int) -> str:
        moment = detail.times[index]
        period = detail.spec.period
        if period.rolling or period.kind == "day":
            return f"{moment:%H:%M}"
        moment -= timedelta(seconds=1)  # the day a point closes, not the midnight after it
        if period.kind in ("week", "month"):
            return f"{moment:%d %b}"
        return f"{moment:%b %Y}"

    def watch_detail(self) -> None:
        self.refresh()
