"""SVG snapshots of the dashboard with frozen data: they guard the look.

Regenerate after an intended change with `python -m pytest tests/functional/test_snapshots.py
--snapshot-update` and review the report.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kputui.collector import Collector
from kputui.config import load_config
from kputui.store import Store
from kputui.ui.app import KputuiApp
from kputui.ui.preferences import Preferences

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_796_308_200.0  # Thursday 2026-12-03 15:30 Berlin (14:30 UTC)


@pytest.fixture(scope="module")
def frozen_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = load_config(ROOT / "sample_config.yaml")
    path = tmp_path_factory.mktemp("frozen") / "store"
    store = Store.open(path, writer=True, timezone=config.settings.timezone)
    asyncio.run(Collector(config, store, clock=lambda: NOW).run_once())
    store.close()
    return path


def frozen_app(store_path: Path, theme: str) -> KputuiApp:
    config = load_config(ROOT / "sample_config.yaml")
    store = Store.open(store_path, writer=False, timezone=config.settings.timezone)
    preferences = Preferences(None)
    preferences.set("theme", theme)
    return KputuiApp(config, store, clock=lambda: NOW, preferences=preferences)


@pytest.mark.parametrize("theme", ["kputui-dark", "kputui-ansi"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_dashboard_look(snap_compare, frozen_store: Path, theme: str, size: tuple[int, int]) -> None:
    app = frozen_app(frozen_store, theme)
    try:
        assert snap_compare(app, terminal_size=size)
    finally:
        app.store.close()


def test_detail_look(snap_compare, frozen_store: Path) -> None:
    app = frozen_app(frozen_store, "kputui-dark")

    async def open_revenue(pilot) -> None:
        await pilot.press("right", "enter")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(100, 40), run_before=open_revenue)
    finally:
        app.store.close()
