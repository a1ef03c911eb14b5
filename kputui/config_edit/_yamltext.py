"""Config text as spans: where each YAML node sits, and how to splice new YAML in.

Edits replace character ranges of the original text, so everything outside them stays
byte for byte. Node positions come from PyYAML's composer (the parser kputui loads with);
new YAML comes from ruamel.yaml's round-trip dumper, whose scalar objects keep the quotes
and number spellings of the values they were read from. Everything is dumped with the
YAML 1.1 resolver, so `yes`, `on` or `1:30` are quoted as PyYAML needs, and each fragment
is read back with PyYAML before it is used.
"""

from __future__ import annotations

import copy
import datetime
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kputui.config_edit._errors import ConfigEditError

__all__ = ["LOADER", "Edit", "Indent", "ParsedText", "comparable", "merge", "plain", "same", "to_yaml"]

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The loader kputui reads configs with (libyaml when present): new text is checked with it."""

Edit = tuple[int, int, str]
"""Replace text[start:end] with the string."""


@dataclass(frozen=True)
class Indent:
    """How the file indents nested blocks, in ruamel's terms."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2


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
            self._rt = _yaml(self.indent).load(self.text)
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
        """The start of the line holding the `-` of a block sequence item."""
        index = node.start_mark.index
        while index > 0 and self.text[index - 1] in " \t\r\n":
            index -= 1
        if index > 0 and self.text[index - 1] == "-":
            index -= 1
        return self.line_start(index)

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


def _yaml(indent: Indent) -> YAML:
    dumper = YAML(typ="rt")
    dumper.version = (1, 1)
    dumper.preserve_quotes = True
    dumper.width = 1_000_000
    dumper.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    return dumper


def to_yaml(value: Any, indent: Indent = Indent()) -> str:
    """A value as block YAML at column 0, checked to read back the same with PyYAML."""
    for quote_all in (False, True):
        data = _double_quoted(value) if quote_all else value
        buffer = io.StringIO()
        _yaml(indent).dump(data, buffer)
        text = _body(buffer.getvalue())
        try:
            if comparable(yaml.load(text, Loader=LOADER)) == comparable(value):
                return text
        except yaml.YAMLError:
            pass
    raise ConfigEditError(f"cannot write {value!r} as YAML that reads back the same")


def _body(text: str) -> str:
    """The dumped document without its `%YAML` directive, `---` and `...` markers."""
    lines = text.rstrip("\n").split("\n")
    while lines and lines[0].startswith("%"):
        lines.pop(0)
    if lines and lines[0].startswith("---"):
        rest = lines.pop(0)[3:].lstrip(" ")
        if rest:
            lines.insert(0, rest)
    if lines and lines[-1] == "...":
        lines.pop()
    return "\n".join(lines).rstrip("\n")


def _double_quoted(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = CommentedMap((key, _double_quoted(item)) for key, item in value.items())
        _copy_style(value, out)
        return out
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_double_quoted(item) for item in value)
        _copy_style(value, seq)
        return seq
    if isinstance(value, str):
        return DoubleQuotedScalarString(value)
    return value


def _copy_style(source: Any, target: Any) -> None:
    if isinstance(source, (CommentedMap, CommentedSeq)) and source.fa.flow_style():
        target.fa.set_flow_style()


def comparable(value: Any) -> Any:
    """Plain data to compare as PyYAML reads it: dates as ISO text, tuples as lists."""
    if isinstance(value, Mapping):
        return {comparable(key): comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [comparable(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, str):
        return str(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Whether two values read the same (1 == 1.0, but True is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return comparable(a) == comparable(b)


def plain(value: Any) -> Any:
    """A deep copy as plain dicts, lists and scalars (dates as ISO text)."""
    return copy.deepcopy(comparable(value))


def merge(old: Any, new: Any, flow: bool) -> Any:
    """`new` as ruamel objects, reusing `old`'s scalars (their spelling) and style where equal."""
    if isinstance(new, Mapping):
        out = CommentedMap()
        for key, item in new.items():
            before = old[key] if isinstance(old, Mapping) and key in old else None
            out[key] = merge(before, item, flow)
        flow = _style(old, CommentedMap, _style(new, CommentedMap, flow))
        out.fa.set_flow_style() if flow else out.fa.set_block_style()
        return out
    if isinstance(new, Sequence) and not isinstance(new, str):
        olds = list(old) if isinstance(old, Sequence) and not isinstance(old, str) else []
        seq = CommentedSeq(merge(olds[i] if i < len(olds) else None, item, flow)
                           for i, item in enumerate(new))
        flow = _style(old, CommentedSeq, _style(new, CommentedSeq, flow))
        seq.fa.set_flow_style() if flow else seq.fa.set_block_style()
        return seq
    if old is not None and not isinstance(old, (Mapping, list)) and same(old, new):
        return old
    return new


def _style(value: Any, kind: type, default: bool) -> bool:
    """Whether a ruamel collection is written in flow style; `default` for anything else."""
    if isinstance(value, kind) and value.fa.flow_style() is not None:
        return bool(value.fa.flow_style())
    return default


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
