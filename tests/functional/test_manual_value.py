"""Typing a value for a manual series with `v`, as a person would."""

from __future__ import annotations

from pathlib import Path

import pytest

from kputui.config import load_config
from kputui.store import Store
from kputui.ui.app import KputuiApp
from kputui.ui.screens.manual_value import ManualValueScreen, parse_entry

CONFIG = """\
version: 1
settings: {timezone: UTC}
sources:
  crm:
    type: manual
    series:
      deals_won: {kind: event}
      pipeline: {kind: gauge}
kpis:
  - id: deals
    name: Deals won
    formula: sum(deals_won)
    period: year
    target: {value: 40, mode: reach}
  - id: coverage
    name: Pipeline per deal
    formula: last(pipeline) / sum(deals_won)
    period: year
"""
NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z


@pytest.fixture
def app(tmp_path: Path):
    path = tmp_path / "crm.yaml"
    path.write_text(CONFIG)
    config = load_config(path)
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    yield KputuiApp(config, store, clock=lambda: NOW)
    store.close()


async def test_v_records_a_value_and_the_kpi_shows_it(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.board.states["deals"].value is None
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ManualValueScreen)
        await pilot.press(*"12", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ManualValueScreen)
        latest = app.store.latest("deals_won")
        assert latest is not None and latest.value == 12.0 and latest.time == NOW
        assert app.board.states["deals"].value == 12.0


async def test_a_bad_value_is_explained_and_nothing_is_recorded(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press(*"twelve", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ManualValueScreen)
        assert "expected a number" in str(app.screen.query_one("#manual-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.store.latest("deals_won") is None


async def test_a_kpi_with_two_manual_series_asks_which(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ManualValueScreen)
        assert screen.series == ["deals_won", "pipeline"]


def test_parse_entry_reads_numbers_and_times() -> None:
    entry = parse_entry("deals_won", " 1,250.5 ", "2026-09-20T10:00:00+00:00", NOW)
    assert entry.value == 1250.5
    assert entry.time == 1_789_898_400.0
    assert parse_entry("deals_won", "3", "", NOW).time == NOW
    for value in ("", "nan", "inf", "1e999", "abc"):
        with pytest.raises(ValueError, match="value"):
            parse_entry("deals_won", value, "", NOW)
    with pytest.raises(ValueError, match="future"):
        parse_entry("deals_won", "1", "2027-01-01T00:00:00+00:00", NOW)
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_entry("deals_won", "1", "yesterday", NOW)
