"""The dashboard's widgets, one per module."""

from __future__ import annotations

from kputui.ui.widgets.kpi_grid import KpiGrid
from kputui.ui.widgets.kpi_pane import KpiPane
from kputui.ui.widgets.sparkline import KpiSparkline
from kputui.ui.widgets.status_bar import StatusBar

__all__ = ["KpiGrid", "KpiPane", "KpiSparkline", "StatusBar"]
