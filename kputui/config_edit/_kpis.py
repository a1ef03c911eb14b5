"""KPI edits: read one for a form, update, add, delete and reorder, as new config text.

Each edit also applies itself to PyYAML's reading of the old text, and `TextEdit.finish`
checks that the new text reads back to exactly that, so a wrong splice raises instead of
handing back text that loads as something the user did not ask for.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kputui.config_edit._edit import REMOVE, TextEdit, clean, ids, items, prefers_flow, scalar
from kputui.config_edit._errors import ConfigEditError, EntryNotFound
from kputui.config_edit._lists import insert_entry, list_insert, list_move, list_remove, new_map
from kputui.config_edit._dump import merge, plain, same, to_yaml

if TYPE_CHECKING:
    from kputui.config_edit._document import ConfigDocument

__all__ = ["KPI_KEYS", "add_kpi", "delete_kpi", "kpi_fields", "move_kpi", "update_kpi"]

KPI_KEYS = ("id", "name", "objective", "formula", "period", "format", "direction", "target",
            "compare", "pace", "stale_after", "owner", "tags")
"""A KPI's keys in the order new ones are written (DESIGN.md's)."""
_NESTED_KEYS = {
    "format": ("style", "decimals", "currency", "compact", "unit"),
    "target": ("value", "schedule", "default", "growth", "vs", "low", "high", "mode", "at_risk"),
}


def _normal(key: str, value: Any) -> Any:
    """The mapping a shorthand stands for: `format: percent`, `target: 100`."""
    if key == "format" and isinstance(value, str):
        return {"style": value}
    if key == "target" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value}
    return value


def kpi_fields(doc: ConfigDocument, kpi_id: str) -> dict[str, Any]:
    """The KPI's keys as plain data, as written (`${NAME}` kept); shorthands as mappings."""
    edit = TextEdit(doc.text)
    index, _ = edit.kpi(kpi_id)
    fields = plain(edit.p.data["kpis"][index])
    fields["id"] = kpi_id
    for key in ("format", "target"):
        if key in fields:
            fields[key] = _normal(key, fields[key])
    return fields


def update_kpi(doc: ConfigDocument, kpi_id: str, fields: Mapping[str, Any]) -> str:
    """Set the given keys of a KPI (None or "" removes one); keys not given stay as written.

    A new `id` is also changed in every dashboard that lists the KPI.
    """
    edit = TextEdit(doc.text)
    index, item = edit.kpi(kpi_id)
    old = edit.expected["kpis"][index]
    want = copy.deepcopy(old)
    for key, value in ((str(key), clean(value)) for key, value in fields.items()):
        if value is REMOVE:
            want.pop(key, None)
        elif key not in want or not same(_normal(key, want[key]), _normal(key, value)):
            want[key] = value
    new_id = want.get("id")
    if not isinstance(new_id, str):
        raise ConfigEditError("a KPI needs an id")
    if new_id != kpi_id:
        _rename(edit, kpi_id, new_id)
    edit.expected["kpis"][index] = want
    rt_item = edit.p.rt["kpis"][index]
    if item.flow_style and want != old:
        edit.edits.append((item.start_mark.index, item.end_mark.index,
                           to_yaml(merge(rt_item, want, True), edit.p.indent)))
    elif not item.flow_style:
        _update_mapping(edit, item, old, want, rt_item, KPI_KEYS)
    return edit.finish()


def _update_mapping(edit: TextEdit, node: MappingNode, old: dict[str, Any], want: dict[str, Any],
                    rt_old: Any, order: tuple[str, ...]) -> None:
    """Splice the keys that differ between `old` and `want` into a block mapping."""
    p = edit.p
    pairs = [(key.value, key, value) for key, value in node.value if isinstance(key, ScalarNode)]
    kept = [name for name, _, _ in pairs if name in want]
    first_name, first_key, _ = pairs[0]
    gone: set[str] = set()
    if first_name not in want and not p.starts_line(first_key):
        # The first key shares the `- ` line: the next kept key moves up onto it.
        next_key = next(key for name, key, _ in pairs if name in want)
        edit.edits.append((first_key.start_mark.index, next_key.start_mark.index, ""))
        gone = {name for name, key, _ in pairs if key.start_mark.index < next_key.start_mark.index}
    column = first_key.start_mark.column
    for name, key, value in pairs:
        if name in gone:
            continue
        if name not in want:
            edit.edits.append((p.line_start(key.start_mark.index), p.line_end(p.end(value)), ""))
            continue
        before, after = old.get(name), want[name]
        if same(_normal(name, before), _normal(name, after)):
            continue
        rt_value = rt_old.get(name) if isinstance(rt_old, Mapping) else None
        if (name in _NESTED_KEYS and isinstance(value, MappingNode) and not value.flow_style
                and isinstance(before, dict) and isinstance(after, dict) and set(before) & set(after)):
            _update_mapping(edit, value, before, after, rt_value, _NESTED_KEYS[name])
        else:
            new = merge(rt_value, after, prefers_flow(p, name))
            edit.edits.append((key.start_mark.index, p.end(value), p.fragment(name, new, column)))
    rank = {name: position for position, name in enumerate(order)}
    inserts: dict[int, list[str]] = {}
    for name in sorted((n for n in want if n not in old), key=lambda n: rank.get(n, len(rank))):
        place = rank.get(name, len(rank))
        earlier = [value for n, _, value in pairs if n in kept and rank.get(n, -1) < place]
        anchor = earlier[-1] if earlier else [value for n, _, value in pairs if n in kept][-1]
        at, _ = p.after_line(anchor)
        new = merge(None, want[name], prefers_flow(p, name))
        inserts.setdefault(at, []).append(" " * column + p.fragment(name, new, column) + "\n")
    edit.edits.extend((at, at, "".join(lines)) for at, lines in inserts.items())


def _rename(edit: TextEdit, old_id: str, new_id: str) -> None:
    if any(isinstance(item, dict) and item.get("id") == new_id for item in edit.expected.get("kpis") or ()):
        raise ConfigEditError(f'a KPI with id "{new_id}" already exists')
    for board_index, _, board in edit.boards():
        for node in items(edit.p.entry(board, "kpis")):
            if isinstance(node, ScalarNode) and node.value == old_id:
                edit.edits.append((node.start_mark.index, node.end_mark.index, to_yaml(new_id)))
                listed = edit.expected["dashboards"][board_index]["kpis"]
                listed[listed.index(old_id)] = new_id


def add_kpi(doc: ConfigDocument, fields: Mapping[str, Any], dashboard: str | None,
            after: str | None = None) -> str:
    """Append a KPI to `kpis:` and list it on `dashboard` after `after` (else last).

    With `dashboard` None it goes on no dashboard. A config without `dashboards:` shows
    every KPI in file order: then `dashboard` is not needed and `after` places the KPI
    in `kpis:` itself.
    """
    edit = TextEdit(doc.text)
    p = edit.p
    want = {str(key): value for key, value in ((key, clean(value)) for key, value in fields.items())
            if value is not REMOVE}
    kpi_id = want.get("id")
    if not isinstance(kpi_id, str):
        raise ConfigEditError("a new KPI needs an id")
    if any(node is not None and node.value == kpi_id
           for node in (scalar(p.entry(item, "id")) for item in items(edit.entry("kpis")))):
        raise ConfigEditError(f'a KPI with id "{kpi_id}" already exists')
    kpis = edit.entry("kpis")
    position = len(items(kpis))
    boards = edit.entry("dashboards")
    if boards is None or not isinstance(boards[1], SequenceNode):
        if after is not None:
            position = edit.kpi(after)[0] + 1
    elif dashboard is not None:
        _list_on_board(edit, *edit.board(dashboard), kpi_id, after)
    rank = {name: place for place, name in enumerate(KPI_KEYS)}
    value = new_map({})
    for key in sorted(want, key=lambda key: rank.get(key, len(rank))):
        value[key] = merge(None, want[key], prefers_flow(p, key))
    if kpis is None:
        edit.edits.append(insert_entry(p, p.root, "kpis", [value], before="dashboards"))
        edit.expected["kpis"] = [want]
    else:
        edit.edits.append(list_insert(p, kpis, position, value, ("kpis",)))
        if not isinstance(edit.expected.get("kpis"), list):
            edit.expected["kpis"] = []
        edit.expected["kpis"].insert(position, want)
    return edit.finish()


def _list_on_board(edit: TextEdit, board_index: int, board: MappingNode, kpi_id: str,
                   after: str | None) -> None:
    listed = edit.p.entry(board, "kpis")
    on_board = ids(listed)
    target = edit.expected["dashboards"][board_index]
    if after is None:
        position = len(on_board)
    elif after in on_board:
        position = on_board.index(after) + 1
    else:
        raise EntryNotFound(f'KPI "{after}" is not on dashboard "{target.get("name")}"')
    if listed is None:
        edit.edits.append(insert_entry(edit.p, board, "kpis", [kpi_id]))
        target["kpis"] = [kpi_id]
        return
    edit.edits.append(list_insert(edit.p, listed, position, kpi_id, ("dashboards", board_index, "kpis")))
    if not isinstance(target.get("kpis"), list):
        target["kpis"] = []
    target["kpis"].insert(position, kpi_id)


def delete_kpi(doc: ConfigDocument, kpi_id: str) -> str:
    """Remove a KPI from `kpis:` and from every dashboard that lists it."""
    edit = TextEdit(doc.text)
    index, _ = edit.kpi(kpi_id)
    edit.edits.extend(list_remove(edit.p, edit.entry("kpis"), index, ("kpis",)))
    del edit.expected["kpis"][index]
    for board_index, _, board in edit.boards():
        listed = edit.p.entry(board, "kpis")
        on_board = ids(listed)
        if kpi_id in on_board:
            position = on_board.index(kpi_id)
            edit.edits.extend(list_remove(edit.p, listed, position, ("dashboards", board_index, "kpis")))
            del edit.expected["dashboards"][board_index]["kpis"][position]
    return edit.finish()


def move_kpi(doc: ConfigDocument, dashboard: str, kpi_id: str, offset: int) -> str:
    """Move a KPI `offset` places within a dashboard's list (clamped to its ends).

    A config without `dashboards:` shows its KPIs in file order: then the KPI moves
    within `kpis:` itself, whatever `dashboard` says.
    """
    edit = TextEdit(doc.text)
    boards = edit.entry("dashboards")
    if boards is None or not isinstance(boards[1], SequenceNode):
        index, _ = edit.kpi(kpi_id)
        _move(edit, edit.entry("kpis"), index, offset, ("kpis",), edit.expected["kpis"])
        return edit.finish()
    board_index, board = edit.board(dashboard)
    listed = edit.p.entry(board, "kpis")
    on_board = ids(listed)
    if kpi_id not in on_board:
        raise EntryNotFound(f'KPI "{kpi_id}" is not on dashboard "{dashboard}"')
    _move(edit, listed, on_board.index(kpi_id), offset, ("dashboards", board_index, "kpis"),
          edit.expected["dashboards"][board_index]["kpis"])
    return edit.finish()


def _move(edit: TextEdit, entry: Any, index: int, offset: int, path: tuple[Any, ...],
          data: list[Any]) -> None:
    target = max(0, min(len(data) - 1, index + offset))
    if target != index:
        edit.edits.extend(list_move(edit.p, entry, index, target, path))
        data.insert(target, data.pop(index))
