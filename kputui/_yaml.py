"""Reading YAML nodes with their positions: the part of config loading that knows YAML.

`compose` turns text into a node tree (safe loader, size and depth capped) or a located
issue. A `Reader` walks that tree: it substitutes `${NAME}` from the environment, reads
typed values and records every problem as a `ConfigIssue` instead of raising, so one run
reports all of them. Messages quote the raw YAML text, never a substituted value, so a
secret from the environment cannot leak into an error.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kputui.durations import parse_duration

__all__ = ["ConfigIssue", "Fields", "Reader", "compose", "did_you_mean", "join"]

MAX_NODES = 100_000
"""Values a config may expand to, aliases counted every time they are used."""
MAX_DEPTH = 64
"""Nesting a config may have."""

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"

_ENV = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file, located.

    `line` and `col` are 1-based; both are 0 when the problem has no place in the text
    (the file cannot be read at all).
    """

    file: str
    line: int
    col: int
    path: str
    """The key path, e.g. `kpis[2].target.value`; empty for problems of the whole file."""
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "x"?)` for the closest of `choices`, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def join(path: str, key: str | int) -> str:
    """The key path of `key` inside `path`: `a.b`, `a[2]`, `a["2026-12"]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        key_text = key.replace("\\", "\\\\").replace('"', '\\"')
        return f'{path}["{key_text}"]'
    return f"{path}.{key}" if path else key


def quote(text: str, limit: int = 40) -> str:
    """`text` in double quotes, shortened to about `limit` characters."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return '"' + text.replace("\n", "\\n") + '"'


def compose(text: str, file: str) -> tuple[Node | None, list[ConfigIssue]]:
    """Parse `text` into a node tree, or return the issue that stops it."""
    try:
        root = _compose(yaml.parse(text, Loader=_LOADER))
    except _Limit as limit:
        return None, [ConfigIssue(file, limit.mark.line + 1, limit.mark.column + 1, "", limit.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            message += f" ({exc.context}"
            if exc.context_mark is not None and exc.context_mark is not mark:
                message += f" at line {exc.context_mark.line + 1}"
            message += ")"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [ConfigIssue(file, line, col, "", message)]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return None, [ConfigIssue(file, line, col, "", f"invalid YAML: {exc.reason} "
                                  f"(character {exc.character!r})")]
    except yaml.YAMLError as exc:
        return None, [ConfigIssue(file, 1, 1, "", f"invalid YAML: {exc}")]
    if root is None:
        return None, []
    problem = _measure(root)
    if problem:
        return None, [ConfigIssue(file, problem.mark.line + 1, problem.mark.column + 1, "", problem.message)]
    return root, []


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (about 15 times faster); the events are the same."""


def _compose(events: Iterable[yaml.Event]) -> Node | None:
    """Build the node tree from parser events, without recursion, as PyYAML's composer does.

    Scalars and collections get their implicit tags from the safe resolver; aliases share
    the anchored node (expansion is checked afterwards by `_measure`).
    """
    resolver = yaml.resolver.Resolver()
    anchors: dict[str, Node] = {}
    stack: list[list[Any]] = []  # [collection node, pending mapping key or None]
    root: Node | None = None
    documents = 0

    def add(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        entry = stack[-1]
        parent = entry[0]
        if isinstance(parent, SequenceNode):
            parent.value.append(node)
        elif entry[1] is None:
            entry[1] = node
        else:
            parent.value.append((entry[1], node))
            entry[1] = None

    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Limit(event.start_mark, "expected one YAML document, found a second one")
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _Limit(event.start_mark, f'the alias "*{event.anchor}" names no anchor')
            add(anchors[event.anchor])
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolver.resolve(ScalarNode, event.value, event.implicit)
            node: Node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style or None)
            if event.anchor is not None:
                anchors[event.anchor] = node
            add(node)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise _Limit(event.start_mark, f"the YAML is nested too deeply (limit {MAX_DEPTH} levels)")
            kind = SequenceNode if isinstance(event, yaml.SequenceStartEvent) else MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolver.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = node
            add(node)
            stack.append([node, None])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()[0].end_mark = event.end_mark
    return root


def _measure(root: Node) -> _Limit | None:
    """Check that the tree is acyclic, shallow enough and not an alias bomb."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def visit(node: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Limit(node.start_mark, f"the YAML is nested too deeply (limit {MAX_DEPTH} levels)")
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Limit(node.start_mark, "an alias refers to the value that contains it")
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            for item in node.value:
                total += visit(item, depth + 1)
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                total += visit(key_node, depth + 1) + visit(value_node, depth + 1)
        if total > MAX_NODES:
            raise _Limit(node.start_mark, f"the YAML expands to more than {MAX_NODES} values (too many aliases?)")
        active.discard(key)
        sizes[key] = total
        return total

    try:
        visit(root, 0)
    except _Limit as limit:
        return limit
    return None


class _Limit(Exception):
    """A YAML text beyond what a config may be: too deep, too big, or not one document."""

    def __init__(self, mark: Any, message: str) -> None:
        self.mark = mark
        self.message = message


class _Bad:
    """The value of a node that was wrong; its issue is already recorded."""

    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()


class Reader:
    """Walks a node tree, reads typed values and collects issues."""

    def __init__(self, file: str, text: str, env: Mapping[str, str], base_dir: Path) -> None:
        self.file = file
        self.text = text
        self.env = env
        self.base_dir = base_dir
        self.issues: list[ConfigIssue] = []
        self._constructor = yaml.SafeLoader("")
        self._resolver = yaml.resolver.Resolver()

    # --- issues

    def error(self, node: Node, path: str, message: str, offset: int | None = None) -> None:
        """Record `message` at `node` (or `offset` characters into a scalar's value)."""
        if offset is None or not isinstance(node, ScalarNode):
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
        else:
            line, col = self.position(node, offset)
        self.issues.append(ConfigIssue(self.file, line, col, path, message))

    def expected(self, node: Node, path: str, what: str, hint: str = "") -> Any:
        """Record `expected <what>, got <node>` and return BAD."""
        self.error(node, path, f"expected {what}, got {self.got(node)}{hint}")
        return BAD

    @staticmethod
    def got(node: Node) -> str:
        """How a node is described after "got": a quoted raw text, "a list", ..."""
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        if node.tag == NULL_TAG:
            return "nothing (null)"
        return quote(node.value)

    def position(self, node: Node, offset: int) -> tuple[int, int]:
        """1-based line and column of character `offset` of a scalar's value.

        The value's characters are matched in order against the scalar's source text,
        which accounts for quotes, most escapes and folded lines.
        """
        start = node.start_mark.index
        source = self.text[start : node.end_mark.index]
        value = str(node.value)
        offset = max(0, min(offset, len(value)))
        at = 0
        for char in value[:offset]:
            found = _find(source, char, at)
            if found >= 0:  # not found: the character came from an escape such as \t
                at = found + 1
        if offset < len(value):
            found = _find(source, value[offset], at)
            at = found if found >= 0 else at
        absolute = start + at
        line = self.text.count("\n", 0, absolute)
        col = absolute - (self.text.rfind("\n", 0, absolute) + 1)
        return line + 1, col + 1

    # --- scalars

    def interpolate(self, node: ScalarNode, path: str) -> str | Any:
        """The scalar's text with `${NAME}` replaced from the environment."""
        raw = node.value
        if "$" not in raw:
            return raw
        parts: list[str] = []
        position = 0
        bad = False
        for match in _ENV.finditer(raw):
            parts.append(raw[position : match.start()])
            position = match.end()
            token, name = match.group(0), match.group(1)
            if token == "$${":
                parts.append("${")
            elif name is None:
                self.error(node, path, "expected ${NAME} with NAME made of letters, digits and _ "
                           "(write $${ for a literal ${)", offset=match.start())
                bad = True
            elif name not in self.env:
                self.error(node, path, f"environment variable {name} is not set", offset=match.start())
                bad = True
            else:
                parts.append(self.env[name])
        parts.append(raw[position:])
        return BAD if bad else "".join(parts)

    def scalar(self, node: Node, path: str) -> Any:
        """The Python value of a scalar node (strings interpolated), or BAD."""
        if not isinstance(node, ScalarNode):
            return BAD
        if node.tag == STR_TAG:
            text = self.interpolate(node, path)
            if text is BAD or node.style is not None or text == node.value:
                return text
            node = ScalarNode(self._resolver.resolve(ScalarNode, text, (True, False)), text,
                              node.start_mark, node.end_mark)
            if node.tag == STR_TAG:
                return text
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self.error(node, path, f"cannot read {quote(str(node.value))} ({exc})")
            return BAD

    def plain(self, node: Node, path: str) -> Any:
        """Any YAML value as plain Python data (dicts, lists, scalars), interpolated."""
        if isinstance(node, MappingNode):
            fields = self.mapping(node, path)
            if fields is None:
                return BAD
            return {key: self.plain(value, join(path, key)) for key, (_, value) in fields.items.items()}
        if isinstance(node, SequenceNode):
            return [self.plain(item, join(path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    # --- collections

    def mapping(self, node: Node | None, path: str, what: str = "a mapping") -> Fields | None:
        """The entries of a mapping node, with duplicate keys reported, or None."""
        if node is None:
            return None
        if not isinstance(node, MappingNode):
            self.expected(node, path, what)
            return None
        items: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                self._merge(value_node, path, merged)
                continue
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, path, f"expected a text key, got {self.got(key_node)}")
                continue
            key = key_node.value
            if key in items:
                first = items[key][0].start_mark
                self.error(key_node, join(path, key),
                           f'duplicate key "{key}" (first at line {first.line + 1})')
                continue
            items[key] = (key_node, value_node)
        for key, entry in merged.items():
            items.setdefault(key, entry)
        return Fields(self, node, path, items)

    def _merge(self, node: Node, path: str, into: dict[str, tuple[Node, Node]]) -> None:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            fields = self.mapping(source, join(path, "<<"), "a mapping to merge")
            if fields is not None:
                for key, entry in fields.items.items():
                    into.setdefault(key, entry)

    def sequence(self, node: Node | None, path: str, what: str = "a list") -> list[Node] | None:
        """The items of a sequence node, or None (reported) when it is not a list."""
        if node is None:
            return None
        if not isinstance(node, SequenceNode):
            self.expected(node, path, what)
            return None
        return list(node.value)


class Fields:
    """The entries of one YAML mapping, read key by key into typed values.

    Each reader returns the default when the key is missing or null, and BAD (with the
    issue recorded) when the value is wrong.
    """

    def __init__(self, reader: Reader, node: MappingNode, path: str,
                 items: dict[str, tuple[Node, Node]]) -> None:
        self.reader = reader
        self.node = node
        self.path = path
        self.items = items

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def at(self, key: str) -> str:
        """The key path of `key`."""
        return join(self.path, key)

    def key_node(self, key: str) -> Node:
        """The node of `key` itself (where errors about the key point)."""
        return self.items[key][0]

    def node_of(self, key: str) -> Node | None:
        """The value node of `key`; None when the key is missing or its value is null."""
        entry = self.items.get(key)
        if entry is None or (isinstance(entry[1], ScalarNode) and entry[1].tag == NULL_TAG):
            return None
        return entry[1]

    def check_keys(self, allowed: Iterable[str], required: Iterable[str] = (),
                   why: Mapping[str, str] | None = None) -> None:
        """Report unknown keys (with a suggestion) and missing or null required keys."""
        allowed = list(allowed)
        for key, (key_node, _) in self.items.items():
            if key not in allowed:
                reason = (why or {}).get(key) or f"unknown key \"{key}\"{did_you_mean(key, allowed)}"
                self.reader.error(key_node, self.at(key), reason)
        for key in required:
            if key not in self.items:
                self.reader.error(self.node, self.path, f'missing required key "{key}"')
            elif self.node_of(key) is None:
                self.reader.expected(self.items[key][1], self.at(key), "a value")

    # --- typed readers

    def value(self, key: str, default: Any, read: Callable[[Node, str], Any]) -> Any:
        node = self.node_of(key)
        return default if node is None else read(node, self.at(key))

    def str(self, key: str, default: Any = None) -> Any:
        return self.value(key, default, self.reader_str)

    def reader_str(self, node: Node, path: str) -> Any:
        """A scalar as text: strings interpolated, other scalars as written (`2024`)."""
        if not isinstance(node, ScalarNode) or node.tag == NULL_TAG:
            return self.reader.expected(node, path, "a text")
        if node.tag == STR_TAG:
            return self.reader.interpolate(node, path)
        return node.value

    def number(self, key: str, default: Any = None, *, low: float | None = None,
               high: float | None = None, open_low: bool = False, open_high: bool = False) -> Any:
        def read(node: Node, path: str) -> Any:
            value = self.reader.scalar(node, path)
            what = _range_text("a number", low, high, open_low, open_high)
            if value is BAD:
                return BAD
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return self.reader.expected(node, path, what)
            if ((low is not None and (value < low or (open_low and value == low)))
                    or (high is not None and (value > high or (open_high and value == high)))):
                return self.reader.expected(node, path, what)
            return float(value)
        return self.value(key, default, read)

    def int(self, key: str, default: Any = None, *, low: int | None = None,
            high: int | None = None) -> Any:
        def read(node: Node, path: str) -> Any:
            value = self.reader.scalar(node, path)
            what = _range_text("a whole number", low, high, False, False)
            if value is BAD:
                return BAD
            if isinstance(value, bool) or not isinstance(value, int):
                return self.reader.expected(node, path, what)
            if (low is not None and value < low) or (high is not None and value > high):
                return self.reader.expected(node, path, what)
            return value
        return self.value(key, default, read)

    def bool(self, key: str, default: Any = None) -> Any:
        def read(node: Node, path: str) -> Any:
            value = self.reader.scalar(node, path)
            if value is BAD or isinstance(value, bool):
                return value
            return self.reader.expected(node, path, "true or false")
        return self.value(key, default, read)

    def choice(self, key: str, choices: Iterable[str], default: Any = None) -> Any:
        choices = list(choices)

        def read(node: Node, path: str) -> Any:
            text = self.reader_str(node, path) if isinstance(node, ScalarNode) else None
            if text is BAD:
                return BAD
            if text in choices:
                return text
            hint = did_you_mean(text, choices) if isinstance(text, str) else ""
            return self.reader.expected(node, path, _one_of(choices), hint)
        return self.value(key, default, read)

    def duration(self, key: str, default: Any = None) -> Any:
        def read(node: Node, path: str) -> Any:
            value = self.reader.scalar(node, path)
            if value is BAD:
                return BAD
            try:
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    return parse_duration(value)
            except ValueError:
                pass
            return self.reader.expected(node, path, "a duration greater than 0 like 500ms, 30s, "
                                        "5m, 1h30m, 2d or 1w")
        return self.value(key, default, read)

    def path_value(self, key: str, default: Any = None) -> Any:
        """A file system path: `~` expanded, relative to the config file's folder."""
        def read(node: Node, path: str) -> Any:
            text = self.reader_str(node, path)
            if text is BAD:
                return BAD
            if not text:
                return self.reader.expected(node, path, "a path")
            return self.reader.base_dir / Path(text).expanduser()
        return self.value(key, default, read)

    def str_list(self, key: str, default: Any = ()) -> Any:
        def read(node: Node, path: str) -> Any:
            items = self.reader.sequence(node, path, "a list of texts")
            if items is None:
                return BAD
            values = tuple(self.reader_str(item, join(path, i)) for i, item in enumerate(items))
            return BAD if BAD in values else values
        return self.value(key, default, read)

    def str_map(self, key: str, *, numbers: bool = False) -> Any:
        """A mapping of text to text (or numbers, with `numbers`), read-only."""
        def read(node: Node, path: str) -> Any:
            fields = self.reader.mapping(node, path, "a mapping of names to texts")
            if fields is None:
                return BAD
            result: dict[str, Any] = {}
            for name in fields:
                item = fields.items[name][1]
                if numbers:
                    value = self.reader.scalar(item, fields.at(name))
                    if value is BAD or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
                        result[name] = value
                        continue
                    result[name] = self.reader.expected(item, fields.at(name), "a text or a number")
                else:
                    result[name] = fields.reader_str(item, fields.at(name))
            return result
        value = self.value(key, {}, read)
        return value if value is BAD else MappingProxyType(value)


def _find(source: str, char: str, start: int) -> int:
    """Index of `char` in `source` from `start`; a space also matches a line break."""
    for index in range(start, len(source)):
        if source[index] == char or (char == " " and source[index] == "\n"):
            return index
    return -1


def _range_text(what: str, low: float | None, high: float | None, open_low: bool,
                open_high: bool) -> str:
    def show(number: float) -> str:
        return f"{number:g}"
    if low is not None and high is not None:
        if open_low and open_high:
            return f"{what} between {show(low)} and {show(high)} (exclusive)"
        return f"{what} from {show(low)} to {show(high)}"
    if low is not None:
        return f"{what} greater than {show(low)}" if open_low else f"{what} of at least {show(low)}"
    if high is not None:
        return f"{what} less than {show(high)}" if open_high else f"{what} of at most {show(high)}"
    return what


def _one_of(choices: list[str]) -> str:
    quoted = [f'"{choice}"' if choice.strip() != choice else choice for choice in choices]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
