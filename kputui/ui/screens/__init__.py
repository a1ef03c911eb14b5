"""The app's screens: the dashboard and the keys help."""

from __future__ import annotations

from kputui.ui.screens.dashboard import DashboardScreen
from kputui.ui.screens.help import HelpScreen

__all__ = ["DashboardScreen", "HelpScreen"]
