"""The app's screens: dashboard, detail, editor, dialogs.

Imported lazily: only the dashboard is needed for the first frame.
"""

from __future__ import annotations

import importlib

__all__ = ["ConfirmScreen", "DashboardScreen", "DetailScreen", "HelpScreen", "KpiEditorScreen", "ManualValueScreen"]

_MODULES = {
    "ConfirmScreen": "confirm",
    "DashboardScreen": "dashboard",
    "DetailScreen": "detail",
    "HelpScreen": "help",
    "KpiEditorScreen": "editor",
    "ManualValueScreen": "manual_value",
}


def __getattr__(name: str) -> type:
    if name in _MODULES:
        return getattr(importlib.import_module(f"kputui.ui.screens.{_MODULES[name]}"), name)
    raise AttributeError(name)
