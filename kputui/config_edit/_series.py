"""Series edits: a formula naming a series that does not exist yet can create it as a
`manual` one (entered in the UI or with `kputui push`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode

from kputui.config_edit._edit import TextEdit
from kputui.config_edit._errors import ConfigEditError
from kputui.config_edit._lists import insert_entry, new_map, rewrite_entry
from kputui.config_edit._dump import merge

if TYPE_CHECKING:
    from kputui.config_edit._document import ConfigDocument

__all__ = ["add_manual_series"]


def add_manual_series(doc: ConfigDocument, name: str, kind: str = "event", source: str = "manual") -> str:
    """Add series `name` to the manual source `source`, creating that source if needed."""
    if kind not in ("event", "gauge"):
        raise ConfigEditError(f'a series kind is "event" or "gauge", got "{kind}"')
    edit = TextEdit(doc.text)
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
        value[source]["series"][name] = new_map(series_value, True)
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
    block = series is not None and isinstance(series[1], MappingNode) and not series[1].flow_style
    if block and series is not None and series[1].value:
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

