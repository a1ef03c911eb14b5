"""One KPI on the dashboard: value, change, target and progress, status and sparkline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from kputui.kpi.format import format_value
from kputui.ui.widgets.sparkline import KpiSparkline

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.events import Click

    from kputui.kpi.spec import FormatSpec
    from kputui.kpi.state import KpiState

__all__ = ["KpiPane", "STATUS_LABELS"]

STATUS_LABELS = {
    "on_track": "● on track",
    "at_risk": "▲ at risk",
    "off_track": "✖ off track",
    "no_target": "○ no target",
    "no_data": "○ no data",
    "stale": "◌ stale",
    "error": "✖ error",
}
"""How each status reads on screen: a symbol too, so it survives a terminal without colour."""

TARGET_SIGNS = {"reach": "→", "stay_above": "≥", "stay_below": "≤", "range": "in"}
BAR_WIDTH = 12


def progress_bar(share: float, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells filled to `share` (0..1, clamped), in eighths."""
    share = min(max(share, 0.0), 1.0)
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
    return bar.ljust(width, "░")


class KpiPane(Vertical, can_focus=True):
    """A focusable pane that shows one KPI's state."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "kpi-pane--value",
        "kpi-pane--good",
        "kpi-pane--bad",
        "kpi-pane--warn",
        "kpi-pane--muted",
    }

    DEFAULT_CSS = """
    KpiPane {
        height: 9;
        border: round $panel-lighten-2;
        border-title-color: $foreground;
        border-title-style: bold;
        padding: 0 1;
    }
    KpiPane:focus {
        border: round $accent;
        background: $boost;
    }
    KpiPane > .kpi-pane--value { text-style: bold; color: $foreground; }
    KpiPane > .kpi-pane--good { color: $success; }
    KpiPane > .kpi-pane--bad { color: $error; }
    KpiPane > .kpi-pane--warn { color: $warning; }
    KpiPane > .kpi-pane--muted { color: $foreground-muted; }
    KpiPane.-on_track { border-subtitle-color: $success; }
    KpiPane.-at_risk { border-subtitle-color: $warning; }
    KpiPane.-off_track, KpiPane.-error { border-subtitle-color: $error; }
    KpiPane.-no_target, KpiPane.-no_data, KpiPane.-stale { border-subtitle-color: $foreground-muted; }
    KpiPane .kpi-pane--summary { height: 3; }
    KpiPane .kpi-pane--footer { height: 1; color: $foreground-muted; }
    """

    BINDINGS = [Binding("enter", "select", "Details")]

    state: reactive[KpiState | None] = reactive(None, always_update=False)
    """The KPI's latest state; None until it is first evaluated."""

    @dataclass
    class Selected(Message):
        """The user asked for the details of a KPI."""

        kpi_id: str

    def __init__(self, kpi_id: str, name: str, fmt: FormatSpec, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kpi_id = kpi_id
        """The id of the KPI this pane shows."""
        self._format = fmt
        self.border_title = Content(name)

    def compose(self) -> ComposeResult:
        yield Static(classes="kpi-pane--summary", markup=False)
        yield KpiSparkline()
        yield Static(classes="kpi-pane--footer", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda: self._show(self.state), init=False)

    def on_resize(self) -> None:
        self._show(self.state)

    def watch_state(self, state: KpiState | None) -> None:
        self._show(state)

    def _style(self, name: str):
        return self.get_component_rich_style(f"kpi-pane--{name}")

    def _change_style(self, state: KpiState):
        """Good or bad colour for the change, by the KPI's direction."""
        if not state.change:
            return self._style("muted")
        better = state.change > 0 if state.direction == "up" else state.change < 0
        return self._style("good" if better else "bad")

    def _lines(self, state: KpiState) -> list[Text]:
        """The three summary lines: value and change, target and progress, verdict."""
        value = Text(state.formatted, self._style("value"))
        if state.change is not None:
            arrow = "▲" if state.change > 0 else "▼" if state.change < 0 else "▶"
            value.append(f"  {arrow} {state.formatted_change}", self._change_style(state))
        elif state.value is not None:
            value.append("  no comparison", self._style("muted"))
        if state.target is None and state.target_mode is None:
            target = Text("no target", self._style("muted"))
        else:
            sign = TARGET_SIGNS.get(state.target_mode or "", "")
            target = Text(f"target {sign} {state.formatted_target}")
            if state.progress is not None:
                bar_style = {"on_track": "good", "at_risk": "warn", "off_track": "bad"}.get(state.status, "muted")
                target.append(f"  {progress_bar(state.progress)}", self._style(bar_style))
                target.append(f" {state.progress:.0%}", self._style("muted"))
        if state.projected is not None and state.judged:
            projected = state.projected
            last_day = state.period_end - timedelta(seconds=1)
            verdict = Text(f"projected {format_value(projected, self._format)} by {last_day:%d %b}")
            if state.expected is not None:
                verdict.append(f" · {state.expected:.0%} elapsed", self._style("muted"))
        else:
            verdict = Text(state.reason, self._style("muted"))
        return [value, target, verdict]

    def _summary(self, state: KpiState, width: int) -> Text:
        lines = self._lines(state)
        for line in lines:
            line.truncate(max(width, 1), overflow="ellipsis")
        return Text("\n").join(lines)

    def _footer(self, state: KpiState) -> str:
        updated = f" · updated {state.updated_at:%H:%M:%S}" if state.updated_at else ""
        return state.period_label + updated

    def _show(self, state: KpiState | None) -> None:
        if state is None or not self.is_mounted:
            return
        summary, sparkline, footer = self.children
        assert isinstance(summary, Static) and isinstance(footer, Static)
        summary.update(self._summary(state, summary.size.width or self.size.width - 4))
        footer.update(self._footer(state))
        assert isinstance(sparkline, KpiSparkline)
        sparkline.data = tuple(state.sparkline)
        self.border_subtitle = Content(STATUS_LABELS.get(state.status, state.status))
        self.remove_class(*(f"-{status}" for status in STATUS_LABELS))
        self.add_class(f"-{state.status}")

    def action_select(self) -> None:
        """Ask for this KPI's detail view."""
        self.post_message(self.Selected(self.kpi_id))

    def on_click(self, event: Click) -> None:
        self.focus()
        if event.chain == 2:
            self.action_select()
