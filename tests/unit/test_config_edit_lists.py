"""The config write path for lists: add, delete and move KPIs, and add manual series."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_config_edit import doc  # noqa: F401  (the fixture)
from test_config_edit import (ENV, FIXTURE, around, assert_others_unchanged, expected_kpi, kpi_lines, line_of,
                              load, touched)

from kputui.config import load_config_text
from kputui.config_edit import (ConfigDocument, ConfigEditError, EntryNotFound, add_kpi, add_manual_series,
                                delete_kpi, move_kpi, read_document, update_kpi)

NEW_KPI = {"id": "aov", "name": "Average order value", "formula": "sum(revenue) / sum(orders)",
           "period": "week", "format": {"style": "currency", "currency": "EUR", "decimals": 2},
           "direction": "up", "target": {"value": 58, "mode": "stay_above"}, "tags": ["shop"],
           "objective": None, "owner": ""}
NEW_KPI_YAML = """
    - id: aov
      name: Average order value
      formula: sum(revenue) / sum(orders)
      period: week
      format: {style: currency, currency: EUR, decimals: 2}
      direction: up
      target: {value: 58, mode: stay_above}
      tags: [shop]
"""


def write(tmp_path: Path, text: str) -> ConfigDocument:
    path = tmp_path / "other.yaml"
    path.write_text(text, encoding="utf-8")
    return read_document(path)


def without_dashboards() -> str:
    return FIXTURE.read_text(encoding="utf-8").split("\ndashboards:\n")[0] + "\n"


# --- add

def test_add_into_a_block_dashboard_after_a_kpi(doc: ConfigDocument) -> None:
    new = add_kpi(doc, NEW_KPI, "Shop", after="revenue")
    last = max(kpi_lines(doc.text, "deals"))
    assert touched(doc.text, new) == {last + 0.5, line_of(doc.text, "      - revenue") + 0.5}
    config = load(new)
    assert config.kpi("aov") == expected_kpi(NEW_KPI_YAML)
    assert config.kpis[-1].id == "aov"
    assert config.dashboards[0].kpis == ("conversion", "revenue", "aov", "error_ratio")
    assert config.dashboards[1] == load(doc.text).dashboards[1]
    assert_others_unchanged(load(doc.text), config, except_kpis={"aov"}, dashboards=False)
    assert "      - aov\n" in new


def test_add_into_a_flow_dashboard_at_the_end_or_after(doc: ConfigDocument) -> None:
    line = line_of(doc.text, "    kpis: [deals, revenue, conversion]")
    new = add_kpi(doc, NEW_KPI, "Sales")
    assert "    kpis: [deals, revenue, conversion, aov]\n" in new
    assert touched(doc.text, new) == {max(kpi_lines(doc.text, "deals")) + 0.5, line}
    new = add_kpi(doc, NEW_KPI, "Sales", after="deals")
    assert load(new).dashboards[1].kpis == ("deals", "aov", "revenue", "conversion")


def test_add_on_no_dashboard_and_refusals(doc: ConfigDocument) -> None:
    new = add_kpi(doc, NEW_KPI, None)
    assert load(new).dashboards == load(doc.text).dashboards
    assert load(new).kpi("aov") == expected_kpi(NEW_KPI_YAML)
    with pytest.raises(ConfigEditError, match='"revenue" already exists'):
        add_kpi(doc, {**NEW_KPI, "id": "revenue"}, "Shop")
    with pytest.raises(EntryNotFound, match='KPI "deals" is not on dashboard "Shop"'):
        add_kpi(doc, NEW_KPI, "Shop", after="deals")
    with pytest.raises(ConfigEditError, match="needs an id"):
        add_kpi(doc, {"name": "x"}, "Shop")


def test_add_without_dashboards_places_the_kpi_in_file_order(tmp_path: Path) -> None:
    doc = write(tmp_path, without_dashboards())
    new = add_kpi(doc, NEW_KPI, "KPIs", after="conversion")
    config = load(new)
    assert [kpi.id for kpi in config.kpis] == ["conversion", "aov", "revenue", "error_ratio", "deals"]
    assert config.dashboards[0].kpis == tuple(kpi.id for kpi in config.kpis)
    assert "dashboards" not in new
    assert touched(doc.text, new) == {max(kpi_lines(doc.text, "conversion")) + 0.5}


def test_add_to_an_empty_kpis_list(tmp_path: Path) -> None:
    head = FIXTURE.read_text(encoding="utf-8").split("\nkpis:\n")[0]
    for tail in ("\nkpis: []\n", "\n", "\nkpis:\n"):
        doc = write(tmp_path, head + tail)
        new = add_kpi(doc, NEW_KPI, None)
        assert load(new).kpis == (expected_kpi(NEW_KPI_YAML),)
        assert new.startswith(head)


# --- delete

def test_delete_removes_the_item_and_every_listing(doc: ConfigDocument) -> None:
    new = delete_kpi(doc, "revenue")
    assert touched(doc.text, new) == kpi_lines(doc.text, "revenue") | {
        line_of(doc.text, "      - revenue"), line_of(doc.text, "    kpis: [deals, revenue, conversion]")}
    config = load(new)
    assert [kpi.id for kpi in config.kpis] == ["conversion", "error_ratio", "deals"]
    assert [board.kpis for board in config.dashboards] == [("conversion", "error_ratio"),
                                                            ("deals", "conversion")]
    assert "      # ops sits on the shop page too\n" in new
    assert "  # --- Sales ---\n" in new
    assert_others_unchanged(load(doc.text), config, except_kpis={"revenue"}, dashboards=False)


def test_delete_the_first_kpi_keeps_the_section_comment(doc: ConfigDocument) -> None:
    new = delete_kpi(doc, "conversion")
    assert "kpis:\n  # --- Shop ---\n\n  - id: revenue\n" in new
    assert load(new).dashboards[0].kpis == ("revenue", "error_ratio")


def test_deleting_every_kpi_leaves_empty_lists(doc: ConfigDocument, tmp_path: Path) -> None:
    for kpi in ("conversion", "revenue", "error_ratio", "deals"):
        doc = write(tmp_path, delete_kpi(doc, kpi))
    config = load(doc.text)
    assert config.kpis == ()
    assert [board.kpis for board in config.dashboards] == [(), ()]
    assert "kpis: []" in doc.text
    assert "  # --- Sales ---\n" in doc.text and "      # ops sits on the shop page too\n" in doc.text
    assert doc.text.startswith(FIXTURE.read_text(encoding="utf-8").split("\nkpis:")[0])


# --- move

@pytest.mark.parametrize(("offset", "order"), [
    (-1, ("revenue", "conversion", "error_ratio")),
    (1, ("conversion", "error_ratio", "revenue")),
    (-5, ("revenue", "conversion", "error_ratio")),
    (9, ("conversion", "error_ratio", "revenue")),
])
def test_move_in_a_block_list(doc: ConfigDocument, offset: int, order: tuple[str, ...]) -> None:
    new = move_kpi(doc, "Shop", "revenue", offset)
    assert load(new).dashboards[0].kpis == order
    assert load(new).dashboards[1] == load(doc.text).dashboards[1]
    board = set(range(line_of(doc.text, "      - conversion    # the headline"),
                      line_of(doc.text, "      - error_ratio") + 1))
    assert touched(doc.text, new) <= around(board)
    assert "      - conversion    # the headline\n" in new
    assert load(new).kpis == load(doc.text).kpis


@pytest.mark.parametrize(("kpi", "offset", "order"), [
    ("revenue", -1, ("revenue", "deals", "conversion")),
    ("revenue", 1, ("deals", "conversion", "revenue")),
    ("deals", 2, ("revenue", "conversion", "deals")),
    ("conversion", -99, ("conversion", "deals", "revenue")),
])
def test_move_in_a_flow_list(doc: ConfigDocument, kpi: str, offset: int, order: tuple[str, ...]) -> None:
    new = move_kpi(doc, "Sales", kpi, offset)
    assert load(new).dashboards[1].kpis == order
    assert touched(doc.text, new) == {line_of(doc.text, "    kpis: [deals, revenue, conversion]")}


def test_move_past_an_end_changes_nothing(doc: ConfigDocument) -> None:
    assert move_kpi(doc, "Shop", "conversion", -1) == doc.text
    assert move_kpi(doc, "Sales", "conversion", 3) == doc.text
    assert move_kpi(doc, "Shop", "revenue", 0) == doc.text
    with pytest.raises(EntryNotFound, match='KPI "deals" is not on dashboard "Shop"'):
        move_kpi(doc, "Shop", "deals", 1)


def test_move_without_dashboards_moves_the_kpi_item(tmp_path: Path) -> None:
    doc = write(tmp_path, without_dashboards())
    new = move_kpi(doc, "KPIs", "deals", -2)
    config = load(new)
    assert [kpi.id for kpi in config.kpis] == ["conversion", "deals", "revenue", "error_ratio"]
    assert set(config.kpis) == set(load(doc.text).kpis)
    assert sorted(new.splitlines()) == sorted(doc.text.splitlines())


# --- manual series

def test_add_manual_series_creates_a_manual_source(doc: ConfigDocument) -> None:
    new = add_manual_series(doc, "calls", kind="gauge")
    assert touched(doc.text, new) == {line_of(doc.text, "      deals_won: {kind: event}") + 0.5}
    assert "  manual:\n    type: manual\n    series:\n      calls: {kind: gauge}\n" in new
    config = load(new)
    assert config.series["calls"].kind == "gauge" and config.source_of("calls").type == "manual"
    assert config.sources[:-1] == load(doc.text).sources
    assert config.kpis == load(doc.text).kpis and config.dashboards == load(doc.text).dashboards


def test_add_manual_series_to_an_existing_manual_source(doc: ConfigDocument) -> None:
    new = add_manual_series(doc, "calls", source="crm")
    assert touched(doc.text, new) == {line_of(doc.text, "      deals_won: {kind: event}") + 0.5}
    assert "      deals_won: {kind: event}\n      calls: {kind: event}\n" in new
    config = load(new)
    assert [series.name for series in config.source_of("calls").series] == ["deals_won", "calls"]
    with_kpi = update_kpi(read_document_text(doc, new), "deals", {"formula": "deals_won + calls"})
    assert load(with_kpi).kpi("deals").formula.text == "deals_won + calls"


def read_document_text(doc: ConfigDocument, text: str) -> ConfigDocument:
    return ConfigDocument(doc.path, text, doc.mtime_ns, doc.size, doc.digest)


def test_add_manual_series_refusals(doc: ConfigDocument) -> None:
    with pytest.raises(ConfigEditError, match='source "shop" is a demo source, not a manual one'):
        add_manual_series(doc, "calls", source="shop")
    with pytest.raises(ConfigEditError, match='series "orders" already exists'):
        add_manual_series(doc, "orders", source="crm")
    with pytest.raises(ConfigEditError, match="event"):
        add_manual_series(doc, "calls", kind="counter")


def test_add_manual_series_without_sources(tmp_path: Path) -> None:
    doc = write(tmp_path, "version: 1\n# no sources yet\nkpis: []\n")
    new = add_manual_series(doc, "calls")
    config = load_config_text(new, env=ENV)
    assert config.source_of("calls").type == "manual"
    assert new == ("version: 1\n# no sources yet\nsources:\n  manual:\n    type: manual\n    series:\n"
                   "      calls: {kind: event}\n\nkpis: []\n")


# --- any sequence of list edits matches a plain model of the lists

KPI_IDS = ("conversion", "revenue", "error_ratio", "deals", "k1", "k2", "k3")
operations = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(("Shop", "Sales", None)), st.sampled_from(KPI_IDS[4:])),
    st.tuples(st.just("delete"), st.sampled_from(KPI_IDS)),
    st.tuples(st.just("move"), st.sampled_from(("Shop", "Sales")), st.sampled_from(KPI_IDS),
              st.integers(-3, 3)),
), max_size=6)


@settings(max_examples=40, deadline=None)
@given(steps=operations)
def test_any_sequence_of_list_edits_matches_a_model(steps: list[tuple]) -> None:
    base = load(FIXTURE.read_text(encoding="utf-8"))
    kpis = [kpi.id for kpi in base.kpis]
    boards = {board.name: list(board.kpis) for board in base.dashboards}
    doc = ConfigDocument(FIXTURE, FIXTURE.read_text(encoding="utf-8"), 0, 0, "")
    for step in steps:
        if step[0] == "add" and step[2] not in kpis:
            text = add_kpi(doc, {"id": step[2], "formula": "orders", "period": "day"}, step[1])
            kpis.append(step[2])
            if step[1] is not None:
                boards[step[1]].append(step[2])
        elif step[0] == "delete" and step[1] in kpis:
            text = delete_kpi(doc, step[1])
            kpis.remove(step[1])
            for listed in boards.values():
                if step[1] in listed:
                    listed.remove(step[1])
        elif step[0] == "move" and step[2] in boards[step[1]]:
            text = move_kpi(doc, step[1], step[2], step[3])
            listed = boards[step[1]]
            index = listed.index(step[2])
            listed.insert(max(0, min(len(listed) - 1, index + step[3])), listed.pop(index))
        else:
            continue
        doc = ConfigDocument(doc.path, text, 0, 0, "")
        config = load(text)
        assert [kpi.id for kpi in config.kpis] == kpis
        assert {board.name: list(board.kpis) for board in config.dashboards} == boards
        assert config.sources == base.sources
        assert "# ops sits on the shop page too" in text and "# --- Sales ---" in text
