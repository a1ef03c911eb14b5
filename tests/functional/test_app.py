"""The dashboard driven as a person would, with Pilot, at fixed terminal sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kputui.collector import Collector
from kputui.config import load_config
from kputui.store import Store
from kputui.ui.app import KputuiApp
from kputui.ui.screens.help import HelpScreen
from kputui.ui.widgets.kpi_grid import KpiGrid
from kputui.ui.widgets.kpi_pane import STATUS_LABELS, KpiPane


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, sample_config_path_module: Path) -> Path:
    """A store holding the demo's backfilled history."""
    import asyncio

    path = tmp_path_factory.mktemp("demo") / "store"
    config = load_config(sample_config_path_module)
    store = Store.open(path, writer=True, timezone=config.settings.timezone)
    asyncio.run(Collector(config, store).run_once())
    store.close()
    return path


@pytest.fixture(scope="module")
def sample_config_path_module() -> Path:
    return Path(__file__).resolve().parents[2] / "sample_config.yaml"


@pytest.fixture
def app_factory(demo_store: Path, sample_config_path_module: Path):
    """Builds dashboard apps on the demo store (after the test has set its environment)."""
    config = load_config(sample_config_path_module)
    stores: list[Store] = []

    def build(**options) -> KputuiApp:
        stores.append(Store.open(demo_store, writer=False, timezone=config.settings.timezone))
        return KputuiApp(config, stores[-1], **options)

    yield build
    for store in stores:
        store.close()


@pytest.fixture
def app(app_factory) -> KputuiApp:
    return app_factory()


def visible_text(app: KputuiApp) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_kpi_of_the_first_dashboard_is_shown_with_a_value(app: KputuiApp, size: tuple[int, int]) -> None:
    first = app.config.dashboards[0]
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        grid = app.screen.grid
        panes = grid.panes
        assert [pane.kpi_id for pane in panes] == list(first.kpis)
        seen_names: set[str] = set()
        for pane in panes:
            pane.focus()
            pane.scroll_visible(animate=False)
            await pilot.pause()
            state = pane.state
            assert state is not None and state.value is not None, pane.kpi_id
            screen = visible_text(app)
            name = app.config.kpi(pane.kpi_id).name
            assert name in screen
            assert state.formatted in screen
            assert STATUS_LABELS[state.status] in screen
            seen_names.add(name)
        assert len(seen_names) == len(first.kpis)


async def test_grid_uses_as_many_columns_as_fit(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.grid.columns == 2
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert app.screen.grid.columns == 4


async def test_arrow_keys_and_hjkl_move_between_panes(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panes = app.screen.grid.panes
        assert app.focused is panes[0]
        await pilot.press("right")
        assert app.focused is panes[1]
        await pilot.press("down")
        assert app.focused is panes[3]
        await pilot.press("h")
        assert app.focused is panes[2]
        await pilot.press("k")
        assert app.focused is panes[0]
        for _ in range(10):
            await pilot.press("j")
        assert app.focused is panes[-1]
        await pilot.pause()
        grid = app.screen.grid
        assert grid.scroll_y > 0  # the last pane was scrolled into view


async def test_number_keys_and_tab_switch_dashboards(app: KputuiApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        marketing = app.config.dashboards[1]
        assert [p.kpi_id for p in app.screen.grid.panes] == list(marketing.kpis)
        assert isinstance(app.focused, KpiPane) and app.focused.kpi_id == marketing.kpis[0]
        await pilot.press("tab")
        await pilot.pause()
        assert [p.kpi_id for p in app.screen.grid.panes] == list(app.config.dashboards[0].kpis)


async def test_question_mark_lists_the_keys_and_escape_closes(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "move between KPIs" in visible_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_hostile_names_are_shown_as_plain_text(tmp_path: Path) -> None:
    config_path = tmp_path / "hostile.yaml"
    config_path.write_text(
        "version: 1\n"
        "sources:\n"
        "  crm: {type: manual, series: {deals: {kind: event}}}\n"
        "kpis:\n"
        "  - id: deals\n"
        "    name: '[red]Deals[/] [@click=app.quit]'\n"
        "    formula: deals\n"
        "    period: day\n"
    )
    config = load_config(config_path)
    store = Store.open(tmp_path / "store", writer=True, timezone=config.settings.timezone)
    try:
        app = KputuiApp(config, store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert "[red]Deals[/] [@click=app.quit]" in visible_text(app)
    finally:
        store.close()


async def test_enter_opens_the_detail_view_and_escape_goes_back(app: KputuiApp) -> None:
    from kputui.ui.screens.detail import DetailScreen
    from kputui.ui.widgets.chart import KpiChart

    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("right", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        kpi = app.config.kpi(app.config.dashboards[0].kpis[1])
        text = visible_text(app)
        assert kpi.name in text and kpi.objective in text
        assert f"formula: {kpi.formula.text}" in text
        chart = app.screen.query_one(KpiChart)
        assert chart.detail is not None and chart.detail.course[-1] == pytest.approx(app.board.states[kpi.id].value)
        periods = app.screen.query_one("#detail-periods")
        assert periods.row_count == 8
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)
        assert isinstance(app.focused, KpiPane) and app.focused.kpi_id == kpi.id


async def test_t_cycles_themes_and_the_choice_is_remembered(demo_store: Path, sample_config_path_module: Path,
                                                            tmp_path: Path) -> None:
    from kputui.ui.preferences import Preferences

    config = load_config(sample_config_path_module)
    store = Store.open(demo_store, writer=False, timezone=config.settings.timezone)
    try:
        app = KputuiApp(config, store, preferences=Preferences(tmp_path / "prefs.json"))
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.theme == "kputui-dark"
            assert {"kputui-dark", "kputui-light", "kputui-high-contrast", "kputui-ansi"} <= set(app.kputui_themes)
            await pilot.press("t")
            chosen = app.theme
            assert chosen != "kputui-dark"
        again = KputuiApp(config, store, preferences=Preferences(tmp_path / "prefs.json"))
        async with again.run_test(size=(80, 24)):
            assert again.theme == chosen
    finally:
        store.close()


async def test_a_broken_theme_file_is_reported_and_skipped(demo_store: Path, sample_config_path_module: Path,
                                                            tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\nprimary: not-a-colour\n")
    (tmp_path / "mine.yaml").write_text("name: mine\nprimary: '#ff8800'\ndark: true\n")
    config = load_config(sample_config_path_module)
    store = Store.open(demo_store, writer=False, timezone=config.settings.timezone)
    try:
        app = KputuiApp(config, store, theme_folders=[tmp_path])
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "mine" in app.kputui_themes and "broken" not in app.kputui_themes
            assert app.theme == "kputui-dark"
            assert any("broken.yaml" in str(n.message) and "not a colour" in str(n.message)
                       for n in app._notifications)
    finally:
        store.close()


async def test_a_tiny_terminal_says_it_is_too_small(app: KputuiApp) -> None:
    async with app.run_test(size=(30, 8)) as pilot:
        await pilot.pause()
        assert "too small" in visible_text(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "too small" not in visible_text(app)
        assert app.config.kpi(app.config.dashboards[0].kpis[0]).name in visible_text(app)


async def test_a_dashboards_columns_caps_the_grid(tmp_path: Path) -> None:
    path = tmp_path / "cols.yaml"
    path.write_text(
        "version: 1\n"
        "sources: {crm: {type: manual, series: {x: {kind: event}}}}\n"
        "kpis:\n"
        + "".join(f"  - {{id: k{i}, formula: x, period: day}}\n" for i in range(4))
        + "dashboards:\n  - {name: Two, columns: 2, kpis: [k0, k1, k2, k3]}\n"
    )
    config = load_config(path)
    store = Store.open(tmp_path / "store", writer=True)
    try:
        app = KputuiApp(config, store)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            grid = app.screen.grid
            assert grid.columns == 2
            panes = grid.panes
            assert panes[2].region.y > panes[0].region.y  # the third pane starts a new row
    finally:
        store.close()


async def test_kpis_off_screen_catch_up_at_the_next_full_refresh(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        visible = dashboard.visible_kpis()
        first = app.config.dashboards[0].kpis
        assert visible == list(first[: len(visible)]) and len(visible) < len(first)
        seen: list[tuple[list[str] | None, list[str] | None]] = []
        update = app.board.update

        def spy(changed=None, only=None):
            seen.append((None if changed is None else sorted(changed), None if only is None else list(only)))
            return update(changed, only)

        app.board.update = spy
        app.refresh_data()  # a tick: only what is on screen follows new data
        assert seen[-1][1] == visible and seen[-1][0] is not None
        seen.clear()
        app._full_refresh_at -= 10  # ten seconds later: what is on screen, even without new data
        app.refresh_data()
        await pilot.pause()
        assert seen == [(None, visible)]
        seen.clear()
        app._full_refresh_at -= 60  # a minute later: everything, on screen first
        app._off_screen_at -= 60
        app.refresh_data()
        await pilot.pause()
        assert seen[0] == (None, visible)
        evaluated = [kpi for _, only in seen for kpi in only]
        assert sorted(evaluated) == sorted(spec.id for spec in app.config.kpis)


async def test_switching_dashboards_evaluates_the_kpis_that_come_into_view(app: KputuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        seen: list[list[str] | None] = []
        update = app.board.update
        app.board.update = lambda changed=None, only=None: seen.append(only and list(only)) or update(changed, only)
        await pilot.press("2")
        await pilot.pause()
        second = app.dashboard.visible_kpis()
        assert second and second[0] == app.config.dashboards[1].kpis[0]
        assert second in seen


@pytest.mark.parametrize("terminal", ["no_color", "standard"])
async def test_statuses_read_without_colour(app_factory, monkeypatch: pytest.MonkeyPatch, terminal: str) -> None:
    """With NO_COLOR or 16 colours every status still reads: it has a word and a symbol."""
    from textual import constants

    if terminal == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        # Textual reads TEXTUAL_COLOR_SYSTEM once, at import: set what it read.
        monkeypatch.setattr(constants, "COLOR_SYSTEM", "standard")
    app = app_factory()
    assert app.no_color == (terminal == "no_color")
    assert terminal == "no_color" or app.console.color_system == "standard"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = visible_text(app)
        shown = [app.board.states[pane.kpi_id].status for pane in app.screen.grid.panes[:4]]
        for status in shown:
            assert STATUS_LABELS[status] in text


async def test_scrolling_brings_the_kpis_in_view_up_to_date(app_factory) -> None:
    app = app_factory(refresh_interval=3600)  # no timer tick: only scrolling can refresh
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        seen: list[list[str] | None] = []
        update = app.board.update

        def spy(changed=None, only=None):
            seen.append(None if only is None else list(only))
            return update(changed, only)

        app.board.update = spy
        for _ in range(3):
            await pilot.press("j")
        await pilot.pause(0.3)
        assert seen, "no refresh after scrolling"
        assert app.dashboard.grid.panes[-1].kpi_id in seen[-1]  # the last pane is in view now


async def test_a_new_state_repaints_only_the_lines_it_changed(app: KputuiApp) -> None:
    import dataclasses

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.query(KpiPane).first()
        painted: list[int] = []
        render_line = pane.render_line
        pane.render_line = lambda y: painted.append(y) or render_line(y)
        state = pane.state
        pane.state = dataclasses.replace(state, formatted="123,456,789",
                                         reason=state.reason.replace(state.formatted, "123,456,789"))
        await pilot.pause()
        assert painted == [0]  # the value line, nothing else of the pane
        assert "123,456,789" in visible_text(app)
        assert state.period_label in visible_text(app)  # the other lines are still there
        painted.clear()
        muted = next(iter(pane.render_line(6))).style.color  # the footer, in the muted colour
        painted.clear()
        app.use_theme("kputui-light")
        await pilot.pause()
        assert sorted(set(painted)) == list(range(pane.content_region.height))  # all of it, in new colours
        assert next(iter(pane.render_line(6))).style.color != muted


async def test_a_held_back_sparkline_is_drawn_at_the_first_tick_it_is_due(app: KputuiApp, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import dataclasses

    from kputui.ui.widgets.sparkline import SparklineCache

    monkeypatch.setattr(SparklineCache, "LAST_POINT_EVERY", 0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.query(KpiPane).first()
        points = [p for p in pane.state.sparkline if p is not None]
        chart = [str(line) for line in pane._lines[3:6]]
        rising = (*pane.state.sparkline[:-1], max(points) * 0.999)  # only the current slice moves
        pane.sparkline._built_at = pane.sparkline.clock()  # as if it had just been drawn
        pane.state = dataclasses.replace(pane.state, sparkline=rising)
        await pilot.pause()
        assert [str(line) for line in pane._lines[3:6]] == chart  # held back
        app.dashboard.show_states(app.board.states, [])  # a tick with nothing new
        assert [str(line) for line in pane._lines[3:6]] == chart  # not due yet
        await asyncio.sleep(0.5)
        app.dashboard.show_states(app.board.states, [])  # the next tick
        await pilot.pause()
        assert [str(line) for line in pane._lines[3:6]] != chart  # drawn once due


async def test_a_pane_out_of_view_shows_its_newest_state_when_scrolled_into_view(app: KputuiApp) -> None:
    import dataclasses

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        hidden = app.query(KpiPane).first()  # drawn once, then scrolled out of view
        dashboard.grid.scroll_end(animate=False)
        await pilot.pause()
        assert hidden.kpi_id not in dashboard.visible_kpis()
        new = dataclasses.replace(hidden.state, formatted="987,654,321", status="off_track")
        dashboard.show_states({**app.board.states, hidden.kpi_id: new}, [hidden.kpi_id])
        await pilot.pause()
        assert "987,654,321" not in visible_text(app)
        dashboard.grid.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert hidden.kpi_id in dashboard.visible_kpis()
        assert "987,654,321" in visible_text(app)
        assert STATUS_LABELS["off_track"] in str(hidden.border_subtitle)
