"""The detail view of one KPI: its course, its last periods, its series and sources."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kputui.detail import KpiDetail, kpi_detail
from kputui.kpi import format_value
from kputui.ui.widgets.chart import KpiChart
from kputui.ui.widgets.kpi_pane import STATUS_LABELS

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from kputui.board import Board

__all__ = ["DetailScreen"]


class DetailScreen(Screen[None]):
    """Everything about one KPI; escape goes back to the dashboard."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, board: Board, kpi_id: str) -> None:
        super().__init__()
        self.board = board
        self.kpi_id = kpi_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="detail-headline", markup=False)
            yield Static(id="detail-objective", markup=False)
            yield KpiChart()
            with Horizontal(id="detail-tables"):
                periods: DataTable[Text] = DataTable(id="detail-periods", cursor_type="row", zebra_stripes=True)
                periods.add_columns("period", "value", "target", "status")
                yield periods
                series: DataTable[Text] = DataTable(id="detail-series", cursor_type="row", zebra_stripes=True)
                series.add_columns("series", "figure", "latest", "at", "source")
                yield series
            yield Static(id="detail-formula", markup=False)
            yield Static(id="detail-sources", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_detail()

    def refresh_detail(self) -> None:
        """Recompute and show the detail (the app calls this when data changes)."""
        self.show(kpi_detail(self.board, self.kpi_id))

    def show(self, detail: KpiDetail) -> None:
        spec, state = detail.spec, detail.state
        self.sub_title = spec.name
        headline = Text(f"{spec.name}  ", style="bold")
        headline.append(state.formatted, style="bold")
        if state.change is not None:
            headline.append(f"  {state.formatted_change} vs previous")
        if state.formatted_target and state.target_mode:
            headline.append(f"  ·  target {state.target_mode.replace('_', ' ')} {state.formatted_target}")
        headline.append(f"  ·  {STATUS_LABELS.get(state.status, state.status)}")
        self.query_one("#detail-headline", Static).update(headline)
        about = [spec.objective, f"period {state.period_label}", state.reason]
        if spec.owner:
            about.append(f"owner {spec.owner}")
        self.query_one("#detail-objective", Static).update(Text(" · ".join(part for part in about if part)))
        self.query_one(KpiChart).detail = detail

        periods = self.query_one("#detail-periods", DataTable)
        periods.clear()
        for row in detail.periods:
            target = "—" if row.target is None else format_value(row.target, spec.format)
            periods.add_row(
                Text(row.label), Text(row.formatted, justify="right"), Text(target, justify="right"),
                Text(STATUS_LABELS.get(row.status, row.status)),
            )
        series = self.query_one("#detail-series", DataTable)
        series.clear()
        for figure in detail.series:
            latest = "—" if figure.latest is None else f"{figure.latest:g}"
            at = "—" if figure.latest_at is None else f"{figure.latest_at:%d %b %H:%M:%S}"
            value = "—" if figure.value is None else f"{figure.value:,.6g}"
            series.add_row(
                Text(figure.name), Text(f"{figure.aggregation} {value}", justify="right"),
                Text(latest, justify="right"), Text(at), Text(figure.source),
            )
        self.query_one("#detail-formula", Static).update(Text(f"formula: {spec.formula.text}"))
        health = []
        for status in detail.sources:
            if status is None:
                continue
            if status.consecutive_failures:
                health.append(f"✖ {status.source}: {status.last_error} ({status.consecutive_failures} failures)")
            elif status.last_success is not None:
                when = datetime.fromtimestamp(status.last_success, ZoneInfo(self.board.config.settings.timezone))
                health.append(f"● {status.source}: ok, last success {when:%H:%M:%S}")
        self.query_one("#detail-sources", Static).update(Text("\n".join(health) or "sources: no status yet"))
