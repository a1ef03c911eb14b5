"""The storage contract: `OrjsonStorage` behaves as TinyDB's `JSONStorage` does.

Parametrised over both storages the way TinyDB's own tests are, so every case here is
also a statement about what TinyDB's default storage does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tinydb import Query, TinyDB, where
from tinydb.storages import JSONStorage

from kputui.store import OrjsonStorage

STORAGES = {"json": JSONStorage, "orjson": OrjsonStorage}


@pytest.fixture(params=sorted(STORAGES))
def storage_class(request: pytest.FixtureRequest) -> type:
    return STORAGES[request.param]


@pytest.fixture
def db(storage_class: type, tmp_path: Path) -> Iterator[TinyDB]:
    db_ = TinyDB(tmp_path / "db.json", storage=storage_class)
    db_.drop_tables()
    db_.insert_multiple({"int": 1, "char": c} for c in "abc")
    yield db_
    db_.close()


def test_insert_and_search(db: TinyDB) -> None:
    assert len(db) == 3
    assert db.search(where("char") == "b") == [{"int": 1, "char": "b"}]
    assert db.count(where("int") == 1) == 3


def test_insert_ids(db: TinyDB) -> None:
    assert db.insert({"int": 2}) == 4
    assert db.insert_multiple([{"int": 3}, {"int": 4}]) == [5, 6]


def test_update_and_remove(db: TinyDB) -> None:
    db.update({"int": 2}, where("char") == "a")
    assert db.count(where("int") == 2) == 1
    db.remove(where("char") == "b")
    assert sorted(doc["char"] for doc in db) == ["a", "c"]
    db.truncate()
    assert len(db) == 0


def test_upsert(db: TinyDB) -> None:
    db.upsert({"int": 5, "char": "a"}, where("char") == "a")
    db.upsert({"int": 6, "char": "z"}, where("char") == "z")
    assert db.get(where("char") == "a")["int"] == 5
    assert db.get(where("char") == "z")["int"] == 6


def test_tables(db: TinyDB) -> None:
    table = db.table("other")
    table.insert({"x": 1})
    assert db.tables() == {"_default", "other"}
    db.drop_table("other")
    assert db.tables() == {"_default"}


def test_persists_across_reopen(storage_class: type, tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with TinyDB(path, storage=storage_class) as db_:
        db_.insert({"name": "ünïcødé ✓", "nested": {"list": [1, 2.5, None, True]}})
    with TinyDB(path, storage=storage_class) as db_:
        assert db_.all() == [{"name": "ünïcødé ✓", "nested": {"list": [1, 2.5, None, True]}}]
        assert db_.get(doc_id=1) is not None


def test_empty_file_reads_as_empty_db(storage_class: type, tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.touch()
    with TinyDB(path, storage=storage_class) as db_:
        assert db_.all() == []
        db_.insert({"a": 1})
        assert db_.all() == [{"a": 1}]


def test_read_returns_none_then_data(storage_class: type, tmp_path: Path) -> None:
    storage = storage_class(tmp_path / "db.json")
    assert storage.read() is None
    storage.write({"t": {"1": {"a": 1}}})
    assert storage.read() == {"t": {"1": {"a": 1}}}
    storage.close()


def test_read_only_cannot_write(storage_class: type, tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with TinyDB(path, storage=storage_class) as db_:
        db_.insert({"a": 1})
    with TinyDB(path, storage=storage_class, access_mode="r") as db_:
        assert db_.all() == [{"a": 1}]
        with pytest.raises(IOError):
            db_.insert({"a": 2})


def test_query_with_nested_and_any(db: TinyDB) -> None:
    db.insert({"tags": ["x", "y"], "info": {"n": 3}})
    doc = Query()
    assert len(db.search(doc.tags.any(["y"]))) == 1
    assert len(db.search(doc.info.n > 2)) == 1


def test_reader_sees_whole_files_only(tmp_path: Path) -> None:
    """Writes replace the file atomically: the old inode stays whole for a reader."""
    path = tmp_path / "db.json"
    storage = OrjsonStorage(path)
    storage.write({"t": {"1": {"v": "old"}}})
    handle = open(path, "rb")
    storage.write({"t": {"1": {"v": "new" * 1000}}})
    assert handle.read() == b'{"t":{"1":{"v":"old"}}}'
    handle.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_change_detection(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    writer, reader = OrjsonStorage(path), OrjsonStorage(path, access_mode="r")
    assert not reader.changed()
    writer.write({"t": {}})
    assert reader.changed()
    assert reader.read() == {"t": {}}
    assert not reader.changed()
    writer.write({"t": {"1": {}}})
    assert reader.changed()
    assert reader.read() == {"t": {"1": {}}}


def test_non_finite_floats_become_null(tmp_path: Path) -> None:
    storage = OrjsonStorage(tmp_path / "db.json")
    storage.write({"t": {"1": {"a": float("nan"), "b": float("inf")}}})
    assert storage.read() == {"t": {"1": {"a": None, "b": None}}}


def test_garbage_file_raises_value_error(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(b'{"t": {"1": ')
    with pytest.raises(ValueError):
        OrjsonStorage(path).read()
    os.remove(path)
