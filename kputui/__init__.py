"""kputui: a terminal KPI dashboard.

A KPI is a formula over series, evaluated over a calendar period against a target; kputui
collects the series from many sources, keeps their history and shows whether each KPI is
on track.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
