"""The Textual dashboard. Nothing below this package imports Textual."""

from __future__ import annotations

__all__ = ["KputuiApp"]


def __getattr__(name: str):
    if name == "KputuiApp":
        from kputui.ui.app import KputuiApp

        return KputuiApp
    raise AttributeError(name)
