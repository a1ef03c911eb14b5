"""Saving: validated, atomic, with a `.bak`, and never over a file that changed on disk."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_config_edit import ENV, FIXTURE, doc  # noqa: F401

from kputui.config import load_config
from kputui.config_edit import (ConfigChangedOnDisk, ConfigDocument, add_kpi, delete_kpi, move_kpi,
                                read_document, save_document, update_kpi)
from kputui.errors import ConfigError, KputuiError


def folder_listing(path: Path) -> list[str]:
    return sorted(entry.name for entry in path.parent.iterdir())


def test_read_document_records_what_was_read(doc: ConfigDocument) -> None:
    data = doc.path.read_bytes()
    assert doc.text == data.decode("utf-8")
    assert doc.size == len(data)
    assert doc.mtime_ns == doc.path.stat().st_mtime_ns
    assert len(doc.digest) == 64


def test_save_writes_the_new_text_and_keeps_a_bak(doc: ConfigDocument) -> None:
    new_text = update_kpi(doc, "deals", {"target": {"value": 40}})
    saved = save_document(doc, new_text, env=ENV)
    assert doc.path.read_text(encoding="utf-8") == new_text
    assert Path(str(doc.path) + ".bak").read_text(encoding="utf-8") == doc.text
    assert saved == read_document(doc.path)
    assert load_config(doc.path, env=ENV).kpi("deals").target.value == 40
    assert folder_listing(doc.path) == ["kputui.yaml", "kputui.yaml.bak"]


def test_saves_in_a_row_each_start_from_the_last(doc: ConfigDocument) -> None:
    first = save_document(doc, move_kpi(doc, "Shop", "error_ratio", -2), env=ENV)
    second = save_document(first, delete_kpi(first, "deals"), env=ENV)
    assert Path(str(doc.path) + ".bak").read_text(encoding="utf-8") == first.text
    config = load_config(second.path, env=ENV)
    assert config.dashboards[0].kpis == ("error_ratio", "conversion", "revenue")
    assert [kpi.id for kpi in config.kpis] == ["conversion", "revenue", "error_ratio"]
    with pytest.raises(ConfigChangedOnDisk):
        save_document(doc, doc.text, env=ENV)


def test_save_refuses_a_file_changed_on_disk_and_leaves_it(doc: ConfigDocument) -> None:
    new_text = update_kpi(doc, "deals", {"name": "Deals"})
    theirs = doc.text.replace("Deals won", "Deals closed")
    doc.path.write_text(theirs, encoding="utf-8")
    with pytest.raises(ConfigChangedOnDisk, match="changed on disk") as caught:
        save_document(doc, new_text, env=ENV)
    assert isinstance(caught.value, KputuiError)
    assert doc.path.read_text(encoding="utf-8") == theirs
    assert folder_listing(doc.path) == ["kputui.yaml"]


def test_save_refuses_a_same_size_change_with_the_old_mtime(doc: ConfigDocument) -> None:
    theirs = doc.text.replace("Deals won", "Deals wOn")
    doc.path.write_text(theirs, encoding="utf-8")
    os.utime(doc.path, ns=(doc.mtime_ns, doc.mtime_ns))
    with pytest.raises(ConfigChangedOnDisk):
        save_document(doc, update_kpi(doc, "deals", {"name": "Deals"}), env=ENV)
    assert doc.path.read_text(encoding="utf-8") == theirs


def test_a_touch_without_change_does_not_block_saving(doc: ConfigDocument) -> None:
    os.utime(doc.path, ns=(doc.mtime_ns + 5_000_000_000,) * 2)
    save_document(doc, update_kpi(doc, "deals", {"name": "Deals"}), env=ENV)
    assert "name: Deals\n" in doc.path.read_text(encoding="utf-8")


def test_save_refuses_a_removed_file(doc: ConfigDocument) -> None:
    doc.path.unlink()
    with pytest.raises(ConfigChangedOnDisk, match="removed"):
        save_document(doc, doc.text, env=ENV)
    assert folder_listing(doc.path) == []


@pytest.mark.parametrize("fields", [{"formula": "orders / nowhere"}, {"period": "fortnight"},
                                    {"target": {"value": "ten"}}, {"formula": None}])
def test_an_invalid_edit_raises_config_error_and_writes_nothing(doc: ConfigDocument, fields: dict) -> None:
    before = doc.path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        save_document(doc, update_kpi(doc, "conversion", fields), env=ENV)
    assert str(doc.path) in str(caught.value)
    assert doc.path.read_bytes() == before
    assert folder_listing(doc.path) == ["kputui.yaml"]


def test_save_needs_the_env_the_config_names(doc: ConfigDocument) -> None:
    with pytest.raises(ConfigError, match="KPI_OWNER"):
        save_document(doc, update_kpi(doc, "deals", {"name": "Deals"}), env={})


def test_save_keeps_the_permission_bits(doc: ConfigDocument) -> None:
    os.chmod(doc.path, 0o640)
    doc = read_document(doc.path)
    save_document(doc, update_kpi(doc, "deals", {"name": "Deals"}), env=ENV)
    assert stat.S_IMODE(doc.path.stat().st_mode) == 0o640
    assert stat.S_IMODE(Path(str(doc.path) + ".bak").stat().st_mode) == 0o640


def test_save_through_a_symlink_writes_the_target(doc: ConfigDocument, tmp_path: Path) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(doc.path)
    linked = read_document(link)
    save_document(linked, update_kpi(linked, "deals", {"name": "Deals"}), env=ENV)
    assert link.is_symlink()
    assert "name: Deals\n" in doc.path.read_text(encoding="utf-8")


def test_a_failed_write_leaves_no_temporary_file(doc: ConfigDocument,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    before = doc.path.read_bytes()
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_document(doc, update_kpi(doc, "deals", {"name": "Deals"}), env=ENV)
    monkeypatch.undo()
    assert doc.path.read_bytes() == before
    assert folder_listing(doc.path) == ["kputui.yaml"]


def test_crlf_and_byte_order_mark_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + FIXTURE.read_bytes().replace(b"\n", b"\r\n"))
    doc = read_document(path)
    new_text = add_kpi(doc, {"id": "more", "formula": "orders", "period": "day"}, "Sales", after="deals")
    assert "\n" not in new_text.replace("\r\n", "")
    save_document(doc, new_text, env=ENV)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") == data.count(b"\r\n")
    assert load_config(path, env=ENV).dashboards[1].kpis == ("deals", "more", "revenue", "conversion")


texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=texts, objective=texts)
def test_any_name_and_objective_survive_save_and_load(name: str, objective: str) -> None:
    assume("${" not in name and "${" not in objective)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k.yaml"
        shutil.copy(FIXTURE, path)
        doc = read_document(path)
        save_document(doc, update_kpi(doc, "error_ratio", {"name": name, "objective": objective}), env=ENV)
        kpi = load_config(path, env=ENV).kpi("error_ratio")
        assert (kpi.name, kpi.objective) == (name, objective)
