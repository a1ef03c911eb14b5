"""Config text as spans: where each YAML node sits, and how to splice new YAML in.

Edits replace character ranges of the original text, so everything outside them stays
byte for byte. Node positions come from PyYAML's composer (the parser kputui loads with);
new YAML comes from `_dump`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kputui.config_edit._dump import LOADER, Indent, round_trip, to_yaml
from kputui.config_edit._errors import ConfigEditError

__all__ = ["Edit", "ParsedText"]

Edit = tuple[int, int, str]
"""Replace text[start:end] with the string."""


@dataclass
class ParsedText:
    """One config text, parsed for positions (nodes) and for values (data)."""

    text: str
    root: MappingNode
    data: dict[str, Any]
    indent: Indent = field(default_factory=Indent)
    _rt: Any = None

    @classmethod
    def parse(cls, text: str) -> ParsedText:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.load(text, Loader=LOADER)
        except yaml.YAMLError as exc:
            raise ConfigEditError(f"the config is not valid YAML: {exc}") from None
        if not isinstance(root, MappingNode) or not isinstance(data, dict):
            raise ConfigEditError("the config's top level is not a mapping "
                                  "(expected version, settings, sources, kpis and dashboards)")
        return cls(text, root, data, _detect_indent(root))

    @property
    def rt(self) -> Any:
        """The document as ruamel round-trip objects (original quoting and number styles)."""
        if self._rt is None:
            self._rt = round_trip(self.indent).load(self.text)
        return self._rt

    # --- positions

    @staticmethod
    def entry(mapping: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
        """The (key node, value node) of `key` in a mapping node; the last one wins."""
        if not isinstance(mapping, MappingNode):
            return None
        found = None
        for key_node, value_node in mapping.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                found = (key_node, value_node)
        return found

    def end(self, node: Node) -> int:
        """Where the node's content ends: no trailing blank lines or comments."""
        while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
            last = node.value[-1]
            node = last[1] if isinstance(node, MappingNode) else last
        start, end = node.start_mark.index, node.end_mark.index
        while end > start and self.text[end - 1] in " \t\r\n":
            end -= 1
        return end

    def line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def line_end(self, index: int) -> int:
        """Just after the newline of the line holding `index` (or the end of the text)."""
        found = self.text.find("\n", index)
        return len(self.text) if found < 0 else found + 1

    def starts_line(self, node: Node) -> bool:
        """Whether only indentation comes before the node on its line."""
        index = node.start_mark.index
        return not self.text[self.line_start(index):index].strip()

    def item_start(self, node: Node) -> int:
        """The start of the line holding the `-` of a block sequence item (which may stand
        above the item, with blank or comment lines between)."""
        start = self.line_start(node.start_mark.index)
        if self.text[start:node.start_mark.index].lstrip().startswith("-"):
            return start
        line = start
        while line > 0:
            line = self.line_start(line - 1)
            text = self.text[line:self.line_end(line)].strip()
            if text.startswith("-"):
                return line
            if text and not text.startswith("#"):
                break
        return start

    def chunk(self, item: Node) -> tuple[int, int]:
        """The whole lines of one block sequence item, with the comment lines right after
        it that are indented deeper than its `-` (they are about it)."""
        start = self.item_start(item)
        dash = len(self.text[start:].split("-", 1)[0])
        end = self.line_end(self.end(item))
        while end < len(self.text):
            line = self.text[end:self.line_end(end)]
            if not line.lstrip().startswith("#") or len(line) - len(line.lstrip()) <= dash:
                break
            end = self.line_end(end)
        return start, end

    def after_line(self, node: Node) -> tuple[int, str]:
        """Where to insert new lines after the node, and the newline needed first."""
        at = self.line_end(self.end(node))
        return at, "" if self.text[:at].endswith("\n") else "\n"

    # --- output

    def apply(self, edits: list[Edit]) -> str:
        """The text with every edit made; edits must not overlap."""
        out: list[str] = []
        position = 0
        for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
            if start < position:
                raise ConfigEditError("internal error: overlapping edits")
            out.append(self.text[position:start])
            out.append(replacement)
            position = end
        out.append(self.text[position:])
        return "".join(out)

    def fragment(self, key: str, value: Any, column: int) -> str:
        """`key: value` as YAML, continuation lines indented to `column`, no final newline."""
        return _shift(to_yaml({key: value}, self.indent), column)

    def item_fragment(self, value: Any, prefix: str) -> str:
        """A block sequence item: `prefix` (like "  - ") then the value, lines aligned under it."""
        return prefix + _shift(to_yaml(value, self.indent), len(prefix))


def _shift(text: str, column: int) -> str:
    return ("\n" + " " * column).join(text.split("\n"))


def _detect_indent(root: MappingNode) -> Indent:
    """The first nested block mapping and block sequence tell the file's indentation."""
    mapping = sequence = offset = None
    stack: list[Node] = [root]
    while stack and (mapping is None or sequence is None):
        node = stack.pop()
        if not isinstance(node, MappingNode) or node.flow_style:
            if isinstance(node, SequenceNode):
                stack.extend(reversed(node.value))
            continue
        for key_node, value_node in node.value:
            col = key_node.start_mark.column
            if isinstance(value_node, MappingNode) and not value_node.flow_style and value_node.value:
                inner = value_node.value[0][0].start_mark.column - col
                if mapping is None and inner > 0:
                    mapping = inner
            elif (isinstance(value_node, SequenceNode) and not value_node.flow_style and value_node.value
                  and sequence is None):
                dash = value_node.start_mark.column - col
                first = value_node.value[0]
                if first.start_mark.line == value_node.start_mark.line:
                    offset, sequence = dash, first.start_mark.column - col
            stack.append(value_node)
    if sequence is not None and (offset is None or offset < 0 or sequence - offset < 2):
        sequence = offset = None
    return Indent(mapping or 2, sequence if sequence is not None else 4,
                  offset if offset is not None else 2)
