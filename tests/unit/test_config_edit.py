"""The config write path: edits change only their own lines and load back as intended.

Every edit is made on a commented config (fixtures/edit/commented.yaml), loaded back with
kputui's own loader, and compared with a KPI built from hand-written YAML; a diff of the
old and new text must touch only the lines the edit is about.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kputui.config import Config, load_config_text
from kputui.config_edit import (ConfigDocument, ConfigEditError, EntryNotFound, add_kpi,
                                add_manual_series, delete_kpi, kpi_fields, move_kpi, read_document,
                                update_kpi)
from kputui.errors import KputuiError
from kputui.kpi.spec import KpiSpec

FIXTURE = Path(__file__).parent / "fixtures" / "edit" / "commented.yaml"
ENV = {"KPI_OWNER": "Growth"}


@pytest.fixture
def doc(tmp_path: Path) -> ConfigDocument:
    path = tmp_path / "kputui.yaml"
    shutil.copy(FIXTURE, path)
    return read_document(path)


def load(text: str) -> Config:
    return load_config_text(text, "test.yaml", env=ENV)


def expected_kpi(kpi_yaml: str) -> KpiSpec:
    """A KPI as the loader builds it from hand-written YAML, over the fixture's sources."""
    head = FIXTURE.read_text(encoding="utf-8").split("\nkpis:\n")[0]
    config = load(head + "\nkpis:\n" + textwrap.indent(textwrap.dedent(kpi_yaml).strip() + "\n", "  "))
    return config.kpis[0]


def touched(old: str, new: str) -> set[float]:
    """1-based lines of `old` that the change replaced or removed; n + 0.5 for lines
    inserted between old lines n and n + 1."""
    matcher = difflib.SequenceMatcher(None, old.split("\n"), new.split("\n"), autojunk=False)
    lines: set[float] = set()
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "insert":
            lines.add(i1 + 0.5)
        elif tag != "equal":
            lines.update(range(i1 + 1, i2 + 1))
    return lines


def around(lines: set[int]) -> set[float]:
    """The lines and the gaps before and after each of them."""
    return set(lines) | {line + gap for line in lines for gap in (-0.5, 0.5)}


def line_of(text: str, line: str, after: int = 0) -> int:
    """The 1-based number of the first line equal to `line` after line `after`."""
    return text.split("\n").index(line, after) + 1


def kpi_lines(text: str, kpi_id: str) -> set[int]:
    """The lines of a KPI item in the fixture: its `- id:` line and the deeper ones after it."""
    lines = text.split("\n")
    start = lines.index(f"  - id: {kpi_id}")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return set(range(start + 1, end + 1))


def assert_others_unchanged(old: Config, new: Config, *, except_kpis: set[str] = frozenset(),
                            dashboards: bool = True) -> None:
    assert new.settings == old.settings
    assert new.sources == old.sources
    kept = [kpi for kpi in old.kpis if kpi.id not in except_kpis]
    assert [kpi for kpi in new.kpis if kpi.id not in except_kpis] == kept
    if dashboards:
        assert new.dashboards == old.dashboards


# --- reading a KPI for the form

def test_kpi_fields_gives_the_keys_as_written(doc: ConfigDocument) -> None:
    fields = kpi_fields(doc, "conversion")
    assert fields == {
        "id": "conversion", "name": "Shop conversion", "objective": "Turn more visits into orders",
        "formula": "orders / visitors", "period": "week", "format": {"style": "percent", "decimals": 2},
        "direction": "up", "target": {"value": 0.03, "mode": "stay_above"},
        "owner": "${KPI_OWNER}", "tags": ["shop"],
    }


def test_kpi_fields_expands_shorthands_and_reads_block_style(doc: ConfigDocument) -> None:
    assert kpi_fields(doc, "deals")["format"] == {"style": "integer"}
    assert kpi_fields(doc, "deals")["target"] == {"value": 30}
    revenue = kpi_fields(doc, "revenue")
    assert revenue["name"] == "Revenue: this month"
    assert revenue["target"] == {"value": 1300000, "mode": "reach"}
    assert revenue["tags"] == ["shop", "finance"]


def test_unknown_kpi_is_a_key_error_that_names_it(doc: ConfigDocument) -> None:
    for call in (lambda: kpi_fields(doc, "nope"), lambda: update_kpi(doc, "nope", {"name": "x"}),
                 lambda: delete_kpi(doc, "nope"), lambda: move_kpi(doc, "Shop", "nope", 1)):
        with pytest.raises(EntryNotFound) as caught:
            call()
        assert isinstance(caught.value, KeyError) and isinstance(caught.value, KputuiError)
        assert str(caught.value) == 'no KPI with id "nope" in the config' or "nope" in str(caught.value)


def test_unknown_dashboard_is_named(doc: ConfigDocument) -> None:
    with pytest.raises(EntryNotFound, match='no dashboard named "Ops"'):
        move_kpi(doc, "Ops", "conversion", 1)
    with pytest.raises(EntryNotFound, match='"Ops"'):
        add_kpi(doc, {"id": "x", "formula": "orders", "period": "day"}, "Ops")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "# only a comment\n"])
def test_a_top_level_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "k.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigEditError, match="top level is not a mapping"):
        update_kpi(read_document(path), "x", {"name": "y"})


# --- update

def test_update_target_value_touches_only_the_target_line(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "conversion", {"target": {"value": 0.04, "mode": "stay_above"}})
    assert touched(doc.text, new) == {line_of(doc.text, "    target: {value: 0.03, mode: stay_above}")}
    assert "    target: {value: 0.04, mode: stay_above}\n" in new
    old_config, new_config = load(doc.text), load(new)
    assert new_config.kpi("conversion") == expected_kpi("""
        - id: conversion
          name: Shop conversion
          objective: Turn more visits into orders
          formula: orders / visitors
          period: week
          format: {style: percent, decimals: 2}
          direction: up
          target: {value: 0.04, mode: stay_above}
          owner: Growth
          tags: [shop]
    """)
    assert_others_unchanged(old_config, new_config, except_kpis={"conversion"})


def test_update_inside_a_block_mapping_keeps_its_comment(doc: ConfigDocument) -> None:
    fields = kpi_fields(doc, "revenue")
    fields["target"]["value"] = 1500000
    new = update_kpi(doc, "revenue", fields)
    assert touched(doc.text, new) == {line_of(doc.text, "      value: 1300000   # the plan")}
    assert "      value: 1500000   # the plan\n" in new
    assert load(new).kpi("revenue").target.value == 1500000
    assert_others_unchanged(load(doc.text), load(new), except_kpis={"revenue"})


def test_update_formula_keeps_the_inline_comment(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "conversion", {"formula": "sum(orders) / (sum(visitors) + 1)"})
    assert touched(doc.text, new) == {line_of(doc.text, "    formula: orders / visitors          "
                                                        "# bare names: event -> sum, gauge -> last")}
    line = next(line for line in new.splitlines() if line.startswith("    formula:"))
    assert line.endswith("# bare names: event -> sum, gauge -> last")
    config = load(new)
    assert config.kpi("conversion").formula.text == "sum(orders) / (sum(visitors) + 1)"
    assert config.kpi("conversion") == expected_kpi("""
        - id: conversion
          name: Shop conversion
          objective: Turn more visits into orders
          formula: sum(orders) / (sum(visitors) + 1)
          period: week
          format: {style: percent, decimals: 2}
          target: {value: 0.03, mode: stay_above}
          owner: Growth
          tags: [shop]
    """)


def test_update_removes_a_key_set_to_none_or_empty(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "revenue", {"objective": None, "pace": ""})
    assert touched(doc.text, new) == {line_of(doc.text, "    objective: Reach the month's revenue plan"),
                                      line_of(doc.text, "    pace: linear")}
    assert "    # what the month's plan says\n" in new
    assert load(new).kpi("revenue") == expected_kpi("""
        - id: revenue
          name: 'Revenue: this month'
          formula: sum(revenue)
          period: month
          format: {style: currency, currency: EUR, decimals: 1}
          target: {value: 1300000, mode: reach}
          tags: [shop, finance]
    """)


def test_update_with_the_unchanged_form_changes_nothing(doc: ConfigDocument) -> None:
    for kpi in ("conversion", "revenue", "error_ratio", "deals"):
        assert update_kpi(doc, kpi, kpi_fields(doc, kpi)) == doc.text


def test_update_adds_keys_in_their_usual_place(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "deals", {"objective": "Close more", "owner": "Sales", "stale_after": "2d",
                                    "direction": "up"})
    deals = kpi_lines(doc.text, "deals")
    assert touched(doc.text, new) <= around(deals)
    block = new.split("  - id: deals\n")[1].split("\n\n")[0]
    assert block.splitlines() == [
        "    name: Deals won", "    objective: Close more", "    formula: deals_won", "    period: quarter",
        "    format: integer", "    direction: up", "    target: 30", "    stale_after: 2d",
        "    owner: Sales", "    # the last KPI ends here"]
    assert load(new).kpi("deals") == expected_kpi("""
        - id: deals
          name: Deals won
          objective: Close more
          formula: deals_won
          period: quarter
          format: {style: integer}
          target: {value: 30}
          stale_after: 2d
          owner: Sales
    """)


def test_update_renames_the_id_on_every_dashboard(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "revenue", {"id": "monthly_revenue"})
    assert touched(doc.text, new) == {line_of(doc.text, "  - id: revenue"),
                                      line_of(doc.text, "      - revenue"),
                                      line_of(doc.text, "    kpis: [deals, revenue, conversion]")}
    config = load(new)
    assert [board.kpis for board in config.dashboards] == [
        ("conversion", "monthly_revenue", "error_ratio"), ("deals", "monthly_revenue", "conversion")]
    with pytest.raises(ConfigEditError, match='"deals" already exists'):
        update_kpi(doc, "revenue", {"id": "deals"})


def test_update_leaves_env_references_as_written(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "conversion", {"name": "Conversion", "owner": "${KPI_OWNER}"})
    assert '    owner: "${KPI_OWNER}"\n' in new
    new = update_kpi(doc, "revenue", {"owner": "${KPI_OWNER}"})
    assert "${KPI_OWNER}" in new.split("  - id: revenue")[1]
    assert load(new).kpi("revenue").owner == "Growth"


@pytest.mark.parametrize("name", [
    "yes", "no", "on", "off", "true", "null", "~", "1.0", "12", "0x1F", "1:30", "1_000", "2026-12-04",
    "a: b", "a #b", "#hash", "[red]alert[/red]", "{x}", "*star", "&anchor", "!tag", "%percent",
    "@at", "`tick", "'single'", '"double"', "- dash", "? what", "| pipe", "> fold", " padded ",
    "trailing:", "Ümlaut ✓ 中文 🚀", "tab\there", "two\nlines", "back\\slash", "cost $5",
])
def test_tricky_names_are_quoted_and_read_back_exactly(doc: ConfigDocument, name: str) -> None:
    new = update_kpi(doc, "error_ratio", {"name": name, "objective": name})
    kpi = load(new).kpi("error_ratio")
    assert (kpi.name, kpi.objective) == (name, name)
    assert touched(doc.text, new) <= around(kpi_lines(doc.text, "error_ratio"))


@pytest.mark.parametrize("formula", ["-sum(orders)", "(sum(revenue)) / sum(orders)", "orders * -1",
                                     "orders ** 2", "max(orders, visitors) - min(orders, 1)"])
def test_formulas_with_special_characters_survive(doc: ConfigDocument, formula: str) -> None:
    new = update_kpi(doc, "conversion", {"formula": formula})
    assert load(new).kpi("conversion").formula.text == formula


def test_numbers_stay_numbers(doc: ConfigDocument) -> None:
    new = update_kpi(doc, "deals", {"target": {"value": 1e20, "mode": "reach", "at_risk": 0.5}})
    target = load(new).kpi("deals").target
    assert (target.value, target.at_risk) == (1e20, 0.5)
    new = update_kpi(doc, "deals", {"format": {"style": "number", "decimals": 3, "compact": True}})
    assert load(new).kpi("deals").format.decimals == 3
    assert load(new).kpi("deals").format.compact is True


def test_the_write_path_does_not_import_textual() -> None:
    code = ("import sys, kputui.config_edit; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


SAMPLE = Path(__file__).resolve().parents[2] / "sample_config.yaml"


SAMPLE_IDS = [kpi.id for kpi in load_config_text(SAMPLE.read_text(encoding="utf-8")).kpis]


@pytest.mark.parametrize("kpi_id", SAMPLE_IDS)
def test_every_sample_kpi_takes_a_new_target_on_its_own_line(kpi_id: str, tmp_path: Path) -> None:
    path = tmp_path / "kputui.yaml"
    shutil.copy(SAMPLE, path)
    sample = read_document(path)
    assert update_kpi(sample, kpi_id, kpi_fields(sample, kpi_id)) == sample.text
    fields = kpi_fields(sample, kpi_id)
    fields["target"]["value"] *= 2
    new = update_kpi(sample, kpi_id, fields)
    target_lines = [n for n in kpi_lines(sample.text, kpi_id) if "target:" in sample.text.split("\n")[n - 1]]
    assert touched(sample.text, new) == set(target_lines)
    old_config, new_config = load(sample.text), load(new)
    assert new_config.kpi(kpi_id).target.value == old_config.kpi(kpi_id).target.value * 2
    assert_others_unchanged(old_config, new_config, except_kpis={kpi_id})
