"""YAML out: values dumped by ruamel.yaml's round-trip dumper, checked to read back the same.

ruamel's scalar objects keep the quotes and number spellings of the values they were
read from, so `merge` reuses them where a value did not change. Everything is dumped with
the YAML 1.1 resolver, so `yes`, `on` or `1:30` are quoted as PyYAML needs, and each dump
is read back with kputui's loader before it is used.
"""

from __future__ import annotations

import copy
import datetime
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from kputui.config_edit._errors import ConfigEditError

__all__ = ["LOADER", "Indent", "comparable", "merge", "plain", "round_trip", "same", "to_yaml"]

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The loader kputui reads configs with (libyaml when present): new YAML is checked with it."""


@dataclass(frozen=True)
class Indent:
    """How the file indents nested blocks, in ruamel's terms."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2



def round_trip(indent: Indent) -> YAML:
    """ruamel's round-trip YAML set up for kputui configs in the file's indentation."""
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
        round_trip(indent).dump(data, buffer)
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


