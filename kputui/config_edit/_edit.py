"""One edit in progress: the old text parsed, the splices made so far, and the data the
new text must read back as."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kputui.config_edit._dump import LOADER, comparable
from kputui.config_edit._errors import ConfigEditError, EntryNotFound
from kputui.config_edit._yamltext import Edit, ParsedText

__all__ = ["REMOVE", "TextEdit", "clean", "ids", "items", "prefers_flow", "scalar"]

REMOVE = object()
"""What `clean` turns an empty form value into: the key goes."""

Entry = tuple[ScalarNode, Node]


class TextEdit:
    """Splices into one config text, checked on `finish` against the intended data.

    Line endings are made `\\n` (and a final newline added) while editing, and put back
    as they were in the text returned.
    """

    def __init__(self, text: str) -> None:
        self.crlf = "\r\n" in text
        normal = text.replace("\r\n", "\n")
        self.final_newline = normal.endswith("\n") or not normal
        self.p = ParsedText.parse(normal if self.final_newline else normal + "\n")
        self.expected: dict[str, Any] = copy.deepcopy(self.p.data)
        """PyYAML's reading of the old text, changed as each edit is planned."""
        self.edits: list[Edit] = []

    def entry(self, key: str) -> Entry | None:
        """A top-level `key: value`."""
        return self.p.entry(self.p.root, key)

    def kpi(self, kpi_id: str) -> tuple[int, MappingNode]:
        """The position in `kpis:` and the node of the KPI with this id."""
        for index, item in enumerate(items(self.entry("kpis"))):
            found = scalar(self.p.entry(item, "id"))
            if found is not None and found.value == kpi_id and isinstance(item, MappingNode):
                return index, item
        raise EntryNotFound(f'no KPI with id "{kpi_id}" in the config')

    def boards(self) -> list[tuple[int, str, MappingNode]]:
        """Every dashboard: its position, name and node."""
        return [(index, node.value, item) for index, item in enumerate(items(self.entry("dashboards")))
                if (node := scalar(self.p.entry(item, "name"))) is not None]

    def board(self, name: str) -> tuple[int, MappingNode]:
        for index, board_name, item in self.boards():
            if board_name == name:
                return index, item
        known = ", ".join(f'"{board}"' for _, board, _ in self.boards()) or "none"
        raise EntryNotFound(f'no dashboard named "{name}" in the config (dashboards: {known})')

    def finish(self) -> str:
        """The new text, once PyYAML reads it as `expected`."""
        text = self.p.apply(self.edits)
        try:
            back = yaml.load(text, Loader=LOADER)
        except yaml.YAMLError as exc:
            raise ConfigEditError(f"internal error: the edited config is not valid YAML: {exc}") from None
        if comparable(back) != comparable(self.expected):
            raise ConfigEditError("internal error: the edited config would not read back as intended")
        if not self.final_newline:
            text = text[:-1]
        return text.replace("\n", "\r\n") if self.crlf else text


def items(entry: Entry | None) -> list[Node]:
    """The items of a list entry; none for anything else."""
    return list(entry[1].value) if entry is not None and isinstance(entry[1], SequenceNode) else []


def scalar(entry: Entry | None) -> ScalarNode | None:
    return entry[1] if entry is not None and isinstance(entry[1], ScalarNode) else None


def ids(entry: Entry | None) -> list[str | None]:
    """The texts of a list of scalars (None for an item that is not one)."""
    return [item.value if isinstance(item, ScalarNode) else None for item in items(entry)]


def clean(value: Any) -> Any:
    """A form value as data to write; None, "" and empty collections become REMOVE."""
    if value is None or (isinstance(value, str) and value == ""):
        return REMOVE
    if isinstance(value, Mapping):
        kept = {str(key): item for key, item in ((key, clean(item)) for key, item in value.items())
                if item is not REMOVE}
        return kept or REMOVE
    if isinstance(value, (list, tuple)):
        kept_items = [item for item in map(clean, value) if item is not REMOVE]
        return kept_items or REMOVE
    return value


def prefers_flow(p: ParsedText, key: str) -> bool:
    """Whether the file writes this KPI key's mappings and lists inline (`{style: percent}`)."""
    entries = (p.entry(item, key) for item in items(p.entry(p.root, "kpis")))
    values = [entry[1] for entry in entries if entry is not None]
    styles = [value.flow_style for value in values if isinstance(value, (MappingNode, SequenceNode))]
    return not styles or styles.count(True) >= styles.count(False)
