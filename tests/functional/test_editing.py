"""Adding, editing, reordering and deleting KPIs from the keyboard, saved to the YAML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kputui.config import load_config
from kputui.store import Store
from kputui.ui.app import KputuiApp
from kputui.ui.editing import ConfigEditing
from kputui.ui.screens.confirm import ConfirmScreen
from kputui.ui.screens.editor import KpiEditorScreen
from kputui.ui.widgets.kpi_pane import KpiPane

CONFIG = """\
# The team's KPIs: keep this comment.
version: 1
settings: {timezone: UTC}

sources:
  crm:
    type: manual
    series:
      deals_won: {kind: event}   # closed deals
      calls: {kind: event}

kpis:
  - id: deals
    name: Deals won
    formula: sum(deals_won)
    period: month
    target: {value: 40, mode: reach}   # the sales plan
  - id: calls_per_deal
    name: Calls per deal
    formula: sum(calls) / sum(deals_won)
    period: month
  - id: calls
    name: Calls made
    formula: calls
    period: week

dashboards:
  - name: Sales
    kpis: [deals, calls_per_deal, calls]
"""


@pytest.fixture
def app(tmp_path: Path):
    path = tmp_path / "kpis.yaml"
    path.write_text(CONFIG)
    config = load_config(path)
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    yield KputuiApp(config, store, editing=ConfigEditing(path, copy_to=tmp_path / "copy.yaml"))
    store.close()


def pane_ids(app: KputuiApp) -> list[str]:
    return [pane.kpi_id for pane in app.dashboard.grid.panes]


async def type_into(pilot, app: KputuiApp, field: str, text: str) -> None:
    widget = app.screen.query_one(f"#edit-{field}")
    widget.value = ""
    widget.focus()
    await pilot.press(*text)


async def test_edit_a_target_and_save(app: KputuiApp) -> None:
    path = app.config.path
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, KpiEditorScreen)
        await type_into(pilot, app, "target_value", "55")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, KpiEditorScreen)
        await pilot.pause()
        assert app.config.kpi("deals").target.value == 55
        assert isinstance(app.focused, KpiPane) and app.focused.kpi_id == "deals"
    text = path.read_text()
    assert "target: {value: 55, mode: reach}   # the sales plan" in text
    assert "# The team's KPIs: keep this comment." in text
    assert path.with_suffix(".yaml.bak").read_text() == CONFIG
    assert load_config(path).kpi("deals").target.value == 55


async def test_add_a_kpi_with_a_bad_formula_shows_the_error_then_offers_a_manual_series(app: KputuiApp) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, KpiEditorScreen)
        await type_into(pilot, app, "id", "win_rate")
        await type_into(pilot, app, "name", "Win rate")
        await type_into(pilot, app, "formula", "sum(deals_won) / sum(meetings")
        await pilot.pause()
        check = str(editor.query_one("#editor-formula-check").render())
        assert "missing ')' to close sum(" in check
        await type_into(pilot, app, "formula", "sum(deals_won) / sum(meetings)")
        await pilot.pause()
        assert "unknown series 'meetings'" in str(editor.query_one("#editor-formula-check").render())
        create = editor.query_one("#editor-create-series")
        assert create.display
        await pilot.click("#editor-create-series")
        await pilot.pause()
        assert "✔" in str(editor.query_one("#editor-formula-check").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert not isinstance(app.screen, KpiEditorScreen)
        assert "win_rate" in pane_ids(app)
        assert app.config.series["meetings"].kind == "event"
        assert app.config.source_of("meetings").type == "manual"
    saved = load_config(app.config.path)
    assert saved.kpi("win_rate").formula.text == "sum(deals_won) / sum(meetings)"
    assert saved.dashboards[0].kpis == ("deals", "win_rate", "calls_per_deal", "calls")


async def test_a_config_error_on_save_keeps_the_editor_open_and_writes_nothing(app: KputuiApp) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await type_into(pilot, app, "id", "deals")  # taken
        await type_into(pilot, app, "formula", "calls")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, KpiEditorScreen)
        assert "already exists" in str(app.screen.query_one("#editor-errors").render())
    assert app.config.path.read_text() == CONFIG


async def test_delete_asks_first(app: KputuiApp) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("right", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert pane_ids(app) == ["deals", "calls_per_deal", "calls"]
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert pane_ids(app) == ["deals", "calls"]
    saved = load_config(app.config.path)
    assert [k.id for k in saved.kpis] == ["deals", "calls"]
    assert "# closed deals" in app.config.path.read_text()


async def test_brackets_reorder_and_focus_follows(app: KputuiApp) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.pause()
        await pilot.pause()
        assert pane_ids(app) == ["calls_per_deal", "deals", "calls"]
        assert isinstance(app.focused, KpiPane) and app.focused.kpi_id == "deals"
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        await pilot.pause()
        assert pane_ids(app) == ["calls_per_deal", "calls", "deals"]
        await pilot.press("left_square_bracket")
        await pilot.pause()
        await pilot.pause()
        assert pane_ids(app) == ["calls_per_deal", "deals", "calls"]
    assert load_config(app.config.path).dashboards[0].kpis == ("calls_per_deal", "deals", "calls")


async def test_a_file_changed_on_disk_is_not_overwritten(app: KputuiApp) -> None:
    path = app.config.path
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        changed = CONFIG.replace("name: Calls made", "name: Calls placed")
        path.write_text(changed)
        await type_into(pilot, app, "target_value", "60")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, KpiEditorScreen)
        assert "changed" in str(app.screen.query_one("#editor-errors").render())
    assert path.read_text() == changed


async def test_editing_the_bundled_demo_saves_a_copy(tmp_path: Path) -> None:
    from kputui.ui.editing import BUNDLED_CONFIG

    config = load_config(BUNDLED_CONFIG)
    store = Store.open(tmp_path / "store", writer=True, timezone=config.settings.timezone)
    copy = tmp_path / "user" / "kputui.yaml"
    try:
        app = KputuiApp(config, store, editing=ConfigEditing(BUNDLED_CONFIG, copy_to=copy))
        before = BUNDLED_CONFIG.read_text()
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            await pilot.press("e")
            await pilot.pause()
            await type_into(pilot, app, "name", "Conversion")
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.pause()
            assert app.config.path == copy
        assert BUNDLED_CONFIG.read_text() == before
        assert load_config(copy).kpi("conversion").name == "Conversion"
    finally:
        store.close()


async def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_last_good(app: KputuiApp) -> None:
    path = app.config.path
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        path.write_text(CONFIG.replace("name: Calls made", "name: Calls placed"))
        app.refresh_data()
        await pilot.pause()
        await pilot.pause()
        assert app.config.kpi("calls").name == "Calls placed"
        assert "Calls placed" in "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        path.write_text(CONFIG.replace("period: week", "period: fortnight"))
        app.refresh_data()
        await pilot.pause()
        assert app.config.kpi("calls").name == "Calls placed"  # the last good config runs on
        messages = [str(n.message) for n in app._notifications]
        assert any("kpis.yaml" in m and "fortnight" in m for m in messages), messages
