"""The edits the KPI editor makes: each takes config text and returns the new text.

Every edit also applies itself to the plain data PyYAML reads from the old text, and
checks that the new text reads back to exactly that; otherwise it raises rather than hand
back text that would load as something the user did not ask for.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kputui.config_edit._errors import ConfigEditError, EntryNotFound
from kputui.config_edit._lists import (insert_entry, list_insert, list_move, list_remove,
                                       new_map, rewrite_entry)
from kputui.config_edit._yamltext import Edit, ParsedText, comparable, merge, plain, same, to_yaml

if TYPE_CHECKING:
    from kputui.config_edit._document import ConfigDocument

__all__ = ["add_kpi", "add_manual_series", "delete_kpi", "kpi_fields", "move_kpi", "update_kpi"]

KPI_KEYS = ("id", "name", "objective", "formula", "period", "format", "direction", "target",
            "compare", "pace", "stale_after", "owner", "tags")
"""The order new keys are written in (the order of DESIGN.md's example)."""
_REMOVE = object()


class _Edit:
    """One edit in progress: the parsed old text, the edits, the data it should read as."""

    def __init__(self, text: str) -> None:
        self.crlf = "\r\n" in text
        normal = text.replace("\r\n", "\n")
        self.final_newline = normal.endswith("\n") or not normal
        self.p = ParsedText.parse(normal if self.final_newline else normal + "\n")
        self.expected = copy.deepcopy(self.p.data)
        self.edits: list[Edit] = []

    def entry(self, key: str) -> tuple[ScalarNode, Node] | None:
        return self.p.entry(self.p.root, key)

    def kpi(self, kpi_id: str) -> tuple[int, MappingNode]:
        entry = self.entry("kpis")
        for index, item in enumerate(_items(entry)):
            found = self.p.entry(item, "id")
            if found is not None and isinstance(found[1], ScalarNode) and found[1].value == kpi_id:
                if not isinstance(item, MappingNode):
                    break
                return index, item
        raise EntryNotFound(f'no KPI with id "{kpi_id}" in the config')

    def boards(self) -> list[tuple[int, str, MappingNode]]:
        return [(index, node.value, item) for index, item in enumerate(_items(self.entry("dashboards")))
                if (node := _scalar(self.p.entry(item, "name"))) is not None]

    def board(self, name: str) -> tuple[int, MappingNode]:
        for index, board_name, item in self.boards():
            if board_name == name:
                return index, item
        known = ", ".join(f'"{board}"' for _, board, _ in self.boards()) or "none"
        raise EntryNotFound(f'no dashboard named "{name}" in the config (dashboards: {known})')

    def finish(self) -> str:
        text = self.p.apply(self.edits)
        try:
            back = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigEditError(f"internal error: the edited config is not valid YAML: {exc}") from None
        if comparable(back) != comparable(self.expected):
            raise ConfigEditError("internal error: the edited config would not read back as intended")
        if not self.final_newline:
            text = text[:-1]
        return text.replace("\n", "\r\n") if self.crlf else text


def _items(entry: tuple[ScalarNode, Node] | None) -> list[Node]:
    return list(entry[1].value) if entry is not None and isinstance(entry[1], SequenceNode) else []


def _scalar(entry: tuple[ScalarNode, Node] | None) -> ScalarNode | None:
    return entry[1] if entry is not None and isinstance(entry[1], ScalarNode) else None


def _ids(entry: tuple[ScalarNode, Node] | None) -> list[str | None]:
    return [item.value if isinstance(item, ScalarNode) else None for item in _items(entry)]


def _clean(value: Any) -> Any:
    """A form value as data to write; None, "" and empty collections mean "remove"."""
    if value is None or (isinstance(value, str) and value == ""):
        return _REMOVE
    if isinstance(value, Mapping):
        kept = {str(key): item for key, item in ((key, _clean(item)) for key, item in value.items())
                if item is not _REMOVE}
        return kept or _REMOVE
    if isinstance(value, (list, tuple)):
        items = [item for item in map(_clean, value) if item is not _REMOVE]
        return items or _REMOVE
    return value


def _normal(key: str, value: Any) -> Any:
    """The mapping a shorthand stands for: `format: percent`, `target: 100`."""
    if key == "format" and isinstance(value, str):
        return {"style": value}
    if key == "target" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value}
    return value


def _prefers_flow(p: ParsedText, key: str) -> bool:
    """Whether the file writes this KPI key's mappings and lists inline, like `{style: percent}`."""
    styles = [entry[1].flow_style for item in _items(p.entry(p.root, "kpis"))
              if (entry := p.entry(item, key)) is not None and isinstance(entry[1], (MappingNode, SequenceNode))]
    return not styles or styles.count(True) >= styles.count(False)


def _new_kpi(p: ParsedText, fields: Mapping[str, Any]) -> Any:
    keys = sorted(fields, key=lambda key: KPI_KEYS.index(key) if key in KPI_KEYS else len(KPI_KEYS))
    out = new_map({})
    for key in keys:
        out[key] = merge(None, fields[key], _prefers_flow(p, key))
    return out


def kpi_fields(doc: ConfigDocument, kpi_id: str) -> dict[str, Any]:
    """The KPI's keys as plain data, as written (`${NAME}` not replaced); shorthands expanded."""
    edit = _Edit(doc.text)
    index, _ = edit.kpi(kpi_id)
    fields = plain(edit.p.data["kpis"][index])
    fields["id"] = kpi_id
    for key in ("format", "target"):
        if key in fields:
            fields[key] = _normal(key, fields[key])
    return fields


def update_kpi(doc: ConfigDocument, kpi_id: str, fields: Mapping[str, Any]) -> str:
    """Replace the given keys of a KPI (None or "" removes one); other keys stay as written."""
    edit = _Edit(doc.text)
    p = edit.p
    index, item = edit.kpi(kpi_id)
    want = copy.deepcopy(edit.expected["kpis"][index])
    changes = {str(key): _clean(value) for key, value in fields.items()}
    for key, value in changes.items():
        if value is _REMOVE:
            want.pop(key, None)
        elif key not in want or not same(_normal(key, want[key]), _normal(key, value)):
            want[key] = value
    new_id = want.get("id")
    if not isinstance(new_id, str) or not new_id:
        raise ConfigEditError("a KPI needs an id")
    if new_id != kpi_id:
        _rename(edit, kpi_id, new_id)
    old = edit.expected["kpis"][index]
    edit.expected["kpis"][index] = want
    if item.flow_style:
        edit.edits.append((item.start_mark.index, item.end_mark.index,
                           _flow_item(p, p.rt["kpis"][index], want)))
        return edit.finish()
    _update_block(edit, item, index, old, want)
    return edit.finish()


def _flow_item(p: ParsedText, old: Any, want: dict[str, Any]) -> str:
    return to_yaml(merge(old, want, True), p.indent)


def _update_block(edit: _Edit, item: MappingNode, index: int, old: dict[str, Any],
                  want: dict[str, Any]) -> None:
    p = edit.p
    pairs = [(key.value, key, value) for key, value in item.value if isinstance(key, ScalarNode)]
    kept = [name for name, _, _ in pairs if name in want]
    if not kept:
        raise ConfigEditError("internal error: a KPI edit cannot remove every key")
    first_name, first_key, _ = pairs[0]
    if first_name not in want and not p.starts_line(first_key):
        # The first key shares the `- ` line: pull the next kept key up onto it.
        next_key = next(key for name, key, _ in pairs if name in want)
        edit.edits.append((first_key.start_mark.index, next_key.start_mark.index, ""))
        gone = {name for name, key, _ in pairs if key.start_mark.index < next_key.start_mark.index}
    else:
        gone = set()
    column = first_key.start_mark.column
    inserts: dict[int, list[str]] = {}
    for name, key, value in pairs:
        if name in gone:
            continue
        if name not in want:
            edit.edits.append((p.line_start(key.start_mark.index), p.line_end(p.end(value)), ""))
        elif not same(_normal(name, old.get(name)), _normal(name, want[name])):
            rt_old = p.rt["kpis"][index].get(name)
            edit.edits.append((key.start_mark.index, p.end(value),
                               p.fragment(name, merge(rt_old, want[name], _prefers_flow(p, name)), column)))
    order = {name: position for position, name in enumerate(KPI_KEYS)}
    for name in sorted((name for name in want if name not in old), key=lambda n: order.get(n, len(order))):
        earlier = [(n, value) for n, _, value in pairs if n in kept and order.get(n, -1) < order.get(name, len(order))]
        anchor = earlier[-1][1] if earlier else [value for n, _, value in pairs if n in kept][-1]
        at, _ = p.after_line(anchor)
        value = merge(None, want[name], _prefers_flow(p, name))
        inserts.setdefault(at, []).append(" " * column + p.fragment(name, value, column) + "\n")
    edit.edits.extend((at, at, "".join(lines)) for at, lines in inserts.items())


def _rename(edit: _Edit, old_id: str, new_id: str) -> None:
    if any(item.get("id") == new_id for item in edit.expected.get("kpis") or () if isinstance(item, dict)):
        raise ConfigEditError(f'a KPI with id "{new_id}" already exists')
    for index, _, board in edit.boards():
        for node in _items(edit.p.entry(board, "kpis")):
            if isinstance(node, ScalarNode) and node.value == old_id:
                edit.edits.append((node.start_mark.index, node.end_mark.index, to_yaml(new_id)))
                listed = edit.expected["dashboards"][index]["kpis"]
                listed[listed.index(old_id)] = new_id


def add_kpi(doc: ConfigDocument, fields: Mapping[str, Any], dashboard: str | None, after: str | None = None) -> str:
    """Append a KPI to `kpis:` and list it on `dashboard` (after `after`, else last)."""
    edit = _Edit(doc.text)
    p = edit.p
    want = {str(key): value for key, value in ((key, _clean(value)) for key, value in fields.items())
            if value is not _REMOVE}
    kpi_id = want.get("id")
    if not isinstance(kpi_id, str):
        raise ConfigEditError("a new KPI needs an id")
    if any(item.value == kpi_id for item in map(lambda n: _scalar(p.entry(n, "id")), _items(edit.entry("kpis")))
           if item is not None):
        raise ConfigEditError(f'a KPI with id "{kpi_id}" already exists')
    kpis = edit.entry("kpis")
    position = len(_items(kpis))
    boards = edit.entry("dashboards")
    if boards is None or not isinstance(boards[1], SequenceNode):
        # No dashboards: every KPI is shown in file order, so `after` places it in `kpis:`.
        if after is not None:
            position = edit.kpi(after)[0] + 1
    elif dashboard is not None:
        board_index, board = edit.board(dashboard)
        _insert_id(edit, board_index, board, kpi_id, after)
    value = _new_kpi(p, want)
    if kpis is None:
        edit.edits.append(insert_entry(p, p.root, "kpis", [value], before="dashboards"))
        edit.expected["kpis"] = [want]
    else:
        edit.edits.append(list_insert(p, kpis, position, value, ("kpis",)))
        if not isinstance(edit.expected.get("kpis"), list):
            edit.expected["kpis"] = []
        edit.expected["kpis"].insert(position, want)
    return edit.finish()


def _insert_id(edit: _Edit, board_index: int, board: MappingNode, kpi_id: str, after: str | None) -> None:
    listed = edit.p.entry(board, "kpis")
    ids = _ids(listed)
    if after is None:
        position = len(ids)
    elif after in ids:
        position = ids.index(after) + 1
    else:
        name = edit.expected["dashboards"][board_index].get("name")
        raise EntryNotFound(f'KPI "{after}" is not on dashboard "{name}"')
    target = edit.expected["dashboards"][board_index]
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
    edit = _Edit(doc.text)
    index, _ = edit.kpi(kpi_id)
    edit.edits.append(list_remove(edit.p, edit.entry("kpis"), index, ("kpis",)))
    del edit.expected["kpis"][index]
    for board_index, _, board in edit.boards():
        listed = edit.p.entry(board, "kpis")
        ids = _ids(listed)
        if kpi_id in ids:
            position = ids.index(kpi_id)
            edit.edits.append(list_remove(edit.p, listed, position, ("dashboards", board_index, "kpis")))
            del edit.expected["dashboards"][board_index]["kpis"][position]
    return edit.finish()


def move_kpi(doc: ConfigDocument, dashboard: str, kpi_id: str, offset: int) -> str:
    """Move a KPI `offset` places within a dashboard's list (clamped to its ends).

    A config without `dashboards:` shows its KPIs in file order: then the KPI moves
    within `kpis:` itself.
    """
    edit = _Edit(doc.text)
    boards = edit.entry("dashboards")
    if boards is None or not isinstance(boards[1], SequenceNode):
        index, _ = edit.kpi(kpi_id)
        _move(edit, edit.entry("kpis"), index, offset, ("kpis",), edit.expected["kpis"])
        return edit.finish()
    board_index, board = edit.board(dashboard)
    listed = edit.p.entry(board, "kpis")
    ids = _ids(listed)
    if kpi_id not in ids:
        raise EntryNotFound(f'KPI "{kpi_id}" is not on dashboard "{dashboard}"')
    _move(edit, listed, ids.index(kpi_id), offset, ("dashboards", board_index, "kpis"),
          edit.expected["dashboards"][board_index]["kpis"])
    return edit.finish()


def _move(edit: _Edit, entry: Any, index: int, offset: int, path: tuple[Any, ...], data: list[Any]) -> None:
    target = max(0, min(len(data) - 1, index + offset))
    if target != index:
        edit.edits.extend(list_move(edit.p, entry, index, target, path))
        data.insert(target, data.pop(index))


def add_manual_series(doc: ConfigDocument, name: str, kind: str = "event", source: str = "manual") -> str:
    """Add series `name` to the manual source `source`, creating that source if needed."""
    if kind not in ("event", "gauge"):
        raise ConfigEditError(f'a series kind is "event" or "gauge", got "{kind}"')
    edit = _Edit(doc.text)
    p = edit.p
    sources = edit.expected.get("sources")
    for source_name, spec in (sources or {}).items() if isinstance(sources, dict) else ():
        if isinstance(spec, dict) and isinstance(spec.get("series"), dict) and name in spec["series"]:
            raise ConfigEditError(f'series "{name}" already exists (source "{source_name}")')
    series_value = {"kind": kind}
    entry = edit.entry("sources")
    if entry is None or not isinstance(entry[1], MappingNode) or entry[1].flow_style or not entry[1].value:
        new = dict(sources) if isinstance(sources, dict) else {}
        new[source] = _manual_source(name, series_value, {})
        edit.expected["sources"] = new
        value = merge(p.rt.get("sources") if entry else None, new, False)
        edit.edits.append(rewrite_entry(p, entry, value) if entry
                          else insert_entry(p, p.root, "sources", value, before="kpis"))
        return edit.finish()
    found = p.entry(entry[1], source)
    if found is None:
        edit.expected["sources"][source] = _manual_source(name, series_value, {})
        spec = new_map({"type": "manual", "series": new_map({name: new_map(series_value, True)})})
        edit.edits.append(insert_entry(p, entry[1], source, spec))
        return edit.finish()
    data = edit.expected["sources"][source]
    if not isinstance(data, dict) or data.get("type") != "manual":
        kind_of = data.get("type") if isinstance(data, dict) else None
        raise ConfigEditError(f'source "{source}" is a {kind_of} source, not a manual one')
    series = p.entry(found[1], "series")
    flow_items = True
    if series is not None and isinstance(series[1], MappingNode) and not series[1].flow_style and series[1].value:
        last = series[1].value[-1][1]
        flow_items = not isinstance(last, MappingNode) or bool(last.flow_style)
        edit.edits.append(insert_entry(p, series[1], name, new_map(series_value, flow_items)))
    elif series is not None:
        old = data.get("series") if isinstance(data.get("series"), dict) else {}
        edit.edits.append(rewrite_entry(p, series, merge(p.rt["sources"][source].get("series"),
                                                         {**old, name: series_value}, True)))
    elif isinstance(found[1], MappingNode) and not found[1].flow_style:
        edit.edits.append(insert_entry(p, found[1], "series", new_map({name: new_map(series_value, True)})))
    else:
        edit.edits.append(rewrite_entry(p, found, merge(p.rt["sources"][source],
                                                        _manual_source(name, series_value, data), False)))
    data.setdefault("series", {})
    if not isinstance(data["series"], dict):
        data["series"] = {}
    data["series"][name] = series_value
    return edit.finish()


def _manual_source(name: str, series: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    spec = dict(old) or {"type": "manual"}
    spec["series"] = {**(spec.get("series") or {}), name: series}
    return spec

