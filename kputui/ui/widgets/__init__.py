"""The dashboard's widgets, one per module."""

from __future__ import annotations

from kputui.ui.widgets.kpi_grid import KpiGrid
from kputui.ui.widgets.kpi_pane import KpiPane
from kputui.ui.widgets.chart import KpiChart
from kputui.ui.widgets.sparkline import SparklineCache
from kputui.ui.widgets.status_bar import StatusBar

__all__ = ["KpiChart", "KpiGrid", "KpiPane", "SparklineCache", "StatusBar"]
