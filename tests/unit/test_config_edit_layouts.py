"""Edits on other layouts: 4-space indents, dashes at the key's column, a dash alone on its
line, flow-style KPIs, and a KPI whose first key is not its id."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config_edit import around, line_of, touched

from kputui.config import Config, load_config_text
from kputui.config_edit import (ConfigDocument, add_kpi, add_manual_series, delete_kpi, move_kpi,
                                read_document, update_kpi)

COMPACT = Path(__file__).parent / "fixtures" / "edit" / "compact.yaml"


@pytest.fixture
def compact() -> ConfigDocument:
    return read_document(COMPACT)


def load(text: str) -> Config:
    return load_config_text(text, "compact.yaml")


def lines_between(text: str, first: str, last: str) -> set[int]:
    return set(range(line_of(text, first), line_of(text, last) + 1))


def test_update_in_a_four_space_layout(compact: ConfigDocument) -> None:
    target = {"value": 35, "mode": "reach", "at_risk": 0.8}
    new = update_kpi(compact, "deals", {"name": "Deals", "target": target})
    deals = lines_between(compact.text, "-   id: deals", "        mode: reach")
    assert touched(compact.text, new) <= around(deals)
    assert "-   id: deals\n    name: Deals\n" in new
    assert "        value: 35\n        mode: reach\n        at_risk: 0.8\n" in new
    target = load(new).kpi("deals").target
    assert (target.value, target.mode, target.at_risk) == (35, "reach", 0.8)


def test_delete_and_move_an_item_whose_dash_stands_alone(compact: ConfigDocument) -> None:
    new = delete_kpi(compact, "calls")
    assert touched(compact.text, new) == lines_between(compact.text, "-", "    period: day") | {
        line_of(compact.text, "    - calls")}
    assert [kpi.id for kpi in load(new).kpis] == ["deals", "flowing"]
    moved = move_kpi(compact, "Main", "calls", -1)
    assert load(moved).dashboards[0].kpis == ("calls", "deals", "flowing")


def test_add_follows_the_file_style(compact: ConfigDocument) -> None:
    new = add_kpi(compact, {"id": "emails", "formula": "calls", "period": "day",
                            "target": {"value": 3, "mode": "reach"}}, "Main", after="deals")
    assert "-   id: emails\n    formula: calls\n    period: day\n    target:\n        value: 3\n" in new
    assert "    - deals\n    - emails\n    - calls\n" in new
    assert load(new).kpi("emails").target.value == 3


def test_update_a_flow_style_kpi(compact: ConfigDocument) -> None:
    assert update_kpi(compact, "flowing", {"period": "week", "tags": ["a"]}) == compact.text
    new = update_kpi(compact, "flowing", {"name": "Flow", "tags": None, "id": "flow"})
    assert touched(compact.text, new) == {line_of(compact.text, "    - flowing"), line_of(
        compact.text, "- {id: flowing, formula: deals_won + calls, period: week, tags: [a]}")}
    kpi = load(new).kpi("flow")
    assert (kpi.name, kpi.tags) == ("Flow", ())


def test_removing_the_key_on_the_dash_line_pulls_the_next_one_up(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    named_first = "-   name: Deals   # shown on the pane\n    id: deals\n    formula"
    text = COMPACT.read_text(encoding="utf-8")
    path.write_text(text.replace("-   id: deals\n    formula", named_first), "utf-8")
    doc = read_document(path)
    new = update_kpi(doc, "deals", {"name": None})
    assert "-   id: deals\n    formula: deals_won\n" in new
    assert load(new).kpi("deals").name == "deals"


def test_add_a_series_in_block_style(compact: ConfigDocument) -> None:
    new = add_manual_series(compact, "emails", source="crm")
    assert "                kind: gauge\n            emails:\n                kind: event\nkpis:\n" in new
    assert load(new).series["emails"].source == "crm"
