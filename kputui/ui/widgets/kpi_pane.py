"""One KPI on the dashboard: value, change, target and progress, status and sparkline.

A pane is a single widget that renders its own lines: a dashboard holds hundreds of
them, and one widget per pane keeps styling and layout cheap. It draws line by line
(Textual's line API) and repaints only the lines a new state changed: a KPI whose
value moves every second repaints one or two lines of nine, not the pane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from kputui.kpi.format import format_value
from kputui.ui.widgets.sparkline import SparklineCache

if TYPE_CHECKING:
    from textual.events import Click

    from kputui.kpi.spec import FormatSpec
    from kputui.kpi.state import KpiState

__all__ = ["KpiPane", "STATUS_LABELS", "progress_bar"]

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

STATUS_COLOURS = {"on_track": "$success", "at_risk": "$warning", "off_track": "$error", "error": "$error"}
"""Theme colours of the statuses that carry a verdict; the others are muted."""

TARGET_SIGNS = {"reach": "→", "stay_above": "≥", "stay_below": "≤", "range": "in"}
BAR_STYLES = {"on_track": "good", "at_risk": "warn", "off_track": "bad"}
BAR_WIDTH = 12
SPARKLINE_ROWS = 3


def progress_bar(share: float, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells filled to `share` (0..1, clamped), in eighths."""
    share = min(max(share, 0.0), 1.0)
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
    return bar.ljust(width, "░")


class KpiPane(Widget, can_focus=True):
    """A focusable pane that shows one KPI's state."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "kpi-pane--value",
        "kpi-pane--good",
        "kpi-pane--bad",
        "kpi-pane--warn",
        "kpi-pane--muted",
        "kpi-pane--sparkline",
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
    KpiPane > .kpi-pane--sparkline { color: $primary; }
    """

    BINDINGS = [Binding("enter", "select", "Details")]

    state: reactive[KpiState | None] = reactive(None, repaint=False)
    """The KPI's latest state; None until it is first evaluated (repainted line by line)."""

    @dataclass
    class Selected(Message):
        """The user asked for the details of a KPI."""

        kpi_id: str

    def __init__(
        self, kpi_id: str, name: str, fmt: FormatSpec, *, state: KpiState | None = None, id: str | None = None
    ) -> None:
        self._lines: list[Text] | None = None
        """The lines on screen, None when all must be drawn afresh."""
        self._strips: dict[int, Strip] = {}
        self._made: dict[str, tuple[tuple, Text]] = {}
        self._width = 0
        self._size_drawn: Size | None = None
        self._held = False
        super().__init__(id=id)
        self.kpi_id = kpi_id
        """The id of the KPI this pane shows."""
        self.border_title = Content(name)
        self.sparkline = SparklineCache()
        """The pane's chart, rebuilt only when its points or size change."""
        self._format = fmt
        self._status: str | None = None
        self._styles: dict[str, Style] = {}
        if state is not None:
            self._show_status(state.status)
            self.set_reactive(KpiPane.state, state)

    def watch_state(self, state: KpiState | None) -> None:
        if state is not None:
            self._show_status(state.status)
        self._repaint_changed_lines()

    def _repaint_changed_lines(self) -> None:
        """Work the lines out again and repaint those that differ from the ones shown."""
        old = self._lines
        if old is None or not self.is_mounted or self.size != self._size_drawn:
            self.refresh()
            return
        new = self._render_lines(self._width)
        width = self._width
        if len(new) != len(old):
            self.refresh()
            return
        self._lines = new
        changed = [y for y, (before, after) in enumerate(zip(old, new)) if before is not after and before != after]
        for y in changed:
            self._strips.pop(y, None)
        # One region per run of changed lines: Textual renders each region on its own.
        start = 0
        for i in range(1, len(changed) + 1):
            if i == len(changed) or changed[i] != changed[i - 1] + 1:
                super().refresh(Region(0, changed[start], width, changed[i - 1] - changed[start] + 1))
                start = i

    def hold(self, state: KpiState) -> None:
        """Take `state` without drawing it yet: a pane out of view draws it afresh when
        it comes into view. (Refreshing a widget out of view makes Textual lay out and
        paint the whole screen again.)"""
        if state != self.state:
            self.set_reactive(KpiPane.state, state)
            self._held = True

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._held:  # in view again, with a state taken while out of view
            self._held = False
            if self.state is not None:
                self._show_status(self.state.status)
            self.refresh()  # draw it all afresh, now
        return super().render_lines(crop)

    def _forget_lines(self) -> None:
        """Draw every line afresh at the next paint, looking the styles up again."""
        self._lines = None
        self._strips.clear()
        self._styles = {}
        self._made.clear()

    def notify_style_update(self) -> None:
        self._forget_lines()  # a new theme, focus or CSS
        super().notify_style_update()

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False):
        if repaint and not regions:
            self._forget_lines()  # a new size, or the whole pane asked for
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _show_status(self, status: str) -> None:
        if status == self._status:
            return
        # The colour travels with the subtitle: changing a CSS class instead would make
        # Textual restyle the pane, which costs more than the whole render.
        colour = STATUS_COLOURS.get(status, "$foreground-muted")
        self.border_subtitle = Content(STATUS_LABELS.get(status, status)).stylize(colour)
        self._status = status

    def _style(self, name: str) -> Style:
        """A component style, looked up once per render."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"kpi-pane--{name}")
        return style

    def _change_style(self, state: KpiState) -> Style:
        """Good or bad colour for the change, by the KPI's direction."""
        if not state.change:
            return self._style("muted")
        better = state.change > 0 if state.direction == "up" else state.change < 0
        return self._style("good" if better else "bad")

    def _value_line(self, state: KpiState) -> Text:
        line = Text(state.formatted, self._style("value"))
        if state.change is not None:
            arrow = "▲" if state.change > 0 else "▼" if state.change < 0 else "▶"
            line.append(f"  {arrow} {state.formatted_change}", self._change_style(state))
        elif state.value is not None:
            line.append("  no comparison", self._style("muted"))
        return line

    def _target_line(self, state: KpiState) -> Text:
        if state.target is None and state.target_mode is None:
            return Text("no target", self._style("muted"))
        sign = TARGET_SIGNS.get(state.target_mode or "", "")
        line = Text(f"target {sign} {state.formatted_target}")
        if state.progress is not None:
            line.append(f"  {progress_bar(state.progress)}", self._style(BAR_STYLES.get(state.status, "muted")))
            line.append(f" {state.progress:.0%}", self._style("muted"))
        return line

    def _verdict_line(self, state: KpiState) -> Text:
        if state.projected is None or not state.judged:
            # Under the value itself: "above the floor of 1.00", which stays put while
            # the value ticks.
            return Text(state.verdict or state.reason, self._style("muted"))
        last_day = state.period_end - timedelta(seconds=1)
        line = Text(f"projected {format_value(state.projected, self._format)} by {last_day:%d %b}")
        if state.expected is not None:
            line.append(f" · {state.expected:.0%} elapsed", self._style("muted"))
        return line

    def _render_lines(self, width: int | None = None) -> list[Text]:
        """The pane's content, one `Text` per line, cut to the content width."""
        state = self.state
        if width is None:
            width = self.content_region.width
        if state is None:
            return [Text("…", self._style("muted"))]
        # To the minute: the status bar has the seconds, and thirty panes ticking every
        # second would be noise to read and to repaint.
        updated = f" · updated {state.updated_at:%H:%M}" if state.updated_at else ""
        chart = self.sparkline.lines(state.sparkline, width, SPARKLINE_ROWS)
        s = state
        # Each line is built again only when what it shows changed (most ticks change
        # one or two of them); the key holds everything the line is made of.
        return [
            self._line("value", (width, s.formatted, s.change, s.formatted_change, s.value is None,
                                 s.direction), self._value_line),
            self._line("target", (width, s.target, s.target_mode, s.formatted_target, s.progress,
                                  s.status), self._target_line),
            self._line("verdict", (width, s.projected, s.judged, s.verdict, s.reason, s.period_end,
                                   s.expected), self._verdict_line),
            *(self._line(f"chart{i}", (width, row), lambda _, row=row: Text(row, self._style("sparkline")))
              for i, row in enumerate(chart)),
            self._line("footer", (width, s.period_label + updated),
                       lambda _: Text(s.period_label + updated, self._style("muted"))),
        ]

    def _line(self, name: str, key: tuple, build: Callable[[KpiState], Text]) -> Text:
        """Line `name` of the pane, built by `build` unless `key` is what it was last time."""
        made = self._made.get(name)
        if made is not None and made[0] == key:
            return made[1]
        line = build(self.state)
        line.truncate(max(key[0], 1), overflow="ellipsis")
        self._made[name] = (key, line)
        return line

    def redraw_due(self) -> None:
        """Draw a sparkline point held back earlier, if it is due by now. The dashboard
        asks on its ticks, so the drawing joins the frame of the tick's other changes."""
        due_at = self.sparkline.due_at
        if due_at is not None and due_at <= self.sparkline.clock():
            self._repaint_changed_lines()

    def render(self) -> Text:
        """The whole content as one `Text` (what text selection and tests read)."""
        return Text("\n", no_wrap=True).join(self._render_lines())

    def render_line(self, y: int) -> Strip:
        if self._lines is None or self.size != self._size_drawn:
            self._forget_lines()
            self._size_drawn = self.size  # a cheap check; the content width is not
            self._width = width = self.content_region.width
            self._lines = self._render_lines(width)
        width = self._width
        strip = self._strips.get(y)
        if strip is None:
            base = self._styles.get("")
            if base is None:  # the pane's own style, looked up once per full redraw
                base = self._styles[""] = self.rich_style
                self._styles["pad"] = Style.from_color(bgcolor=base.bgcolor)
            if y < len(self._lines):
                line = self._lines[y]
                # Text.render drops a line's own style when it has no spans: add it here.
                style = base + line.style if isinstance(line.style, Style) else base
                strip = Strip(line.render(self.app.console), line.cell_len).apply_style(style)
                strip = strip.extend_cell_length(width, self._styles["pad"])
            else:
                strip = Strip.blank(width, base)
            self._strips[y] = strip
        return strip

    def action_select(self) -> None:
        """Ask for this KPI's detail view."""
        self.post_message(self.Selected(self.kpi_id))

    def on_click(self, event: Click) -> None:
        self.focus()
        if event.chain == 2:
            self.action_select()
