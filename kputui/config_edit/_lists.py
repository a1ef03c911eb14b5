"""Edits to YAML lists and mappings in place: insert, remove and move entries.

Block lists are edited as whole lines (an item's lines move or go; comments between
items stay where they are). Flow lists of plain ids are rewritten inside their brackets
with each kept item spelled as before. Anything else (a flow list of mappings, a null
where a list belongs) is rewritten as a whole entry by the dumper.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kputui.config_edit._errors import ConfigEditError
from kputui.config_edit._dump import merge, to_yaml
from kputui.config_edit._yamltext import Edit, ParsedText

__all__ = ["insert_entry", "list_insert", "list_move", "list_remove", "rewrite_entry", "text_list"]


def _scalar_flow_list(node: Node) -> bool:
    return (isinstance(node, SequenceNode) and bool(node.flow_style)
            and all(isinstance(item, ScalarNode) for item in node.value))


def _block_list(node: Node) -> bool:
    return isinstance(node, SequenceNode) and not node.flow_style and bool(node.value)


def text_list(p: ParsedText, node: SequenceNode, texts: list[str]) -> Edit:
    """Rewrite a flow list of scalars: `texts` are the items as YAML."""
    return node.start_mark.index, node.end_mark.index, "[" + ", ".join(texts) + "]"


def _item_texts(p: ParsedText, node: SequenceNode) -> list[str]:
    return [p.text[item.start_mark.index:item.end_mark.index] for item in node.value]


def rewrite_entry(p: ParsedText, entry: tuple[ScalarNode, Node], value: Any) -> Edit:
    """Replace `key: value` (all of its lines) with `value` dumped anew."""
    key_node, value_node = entry
    return (key_node.start_mark.index, p.end(value_node),
            p.fragment(key_node.value, value, key_node.start_mark.column))


def _rt_items(p: ParsedText, path: tuple[Any, ...]) -> list[Any]:
    node = p.rt
    for step in path:
        node = node[step] if node is not None else None
    return list(node) if isinstance(node, list) else []


def _prefix(p: ParsedText, node: SequenceNode) -> str:
    """What starts a new item's line: indentation, `-` and the gap to the content."""
    dash = node.start_mark.column
    first = node.value[0]
    content = first.start_mark.column if first.start_mark.line == node.start_mark.line else dash + 2
    return " " * dash + "-" + " " * max(1, content - dash - 1)


def list_insert(p: ParsedText, entry: tuple[ScalarNode, Node], index: int, value: Any,
                path: tuple[Any, ...]) -> Edit:
    """Insert `value` as item `index` of the list at `entry`; `path` finds it in p.rt."""
    _, node = entry
    if _scalar_flow_list(node) and not isinstance(value, (dict, list)):
        texts = _item_texts(p, node)
        texts.insert(index, to_yaml(value))
        return text_list(p, node, texts)
    if _block_list(node):
        item = p.item_fragment(value, _prefix(p, node)) + "\n"
        if index == 0:
            at = p.item_start(node.value[0])
            return at, at, item
        at = p.chunk(node.value[index - 1])[1]
        return at, at, item
    items = _rt_items(p, path)
    items.insert(index, value)
    return rewrite_entry(p, entry, _block(items))


def list_remove(p: ParsedText, entry: tuple[ScalarNode, Node], index: int,
                path: tuple[Any, ...]) -> list[Edit]:
    """Remove item `index` of the list at `entry`; an emptied list becomes `[]`."""
    key, node = entry
    if _scalar_flow_list(node):
        texts = _item_texts(p, node)
        del texts[index]
        return [text_list(p, node, texts)]
    if _block_list(node):
        start, end = p.chunk(node.value[index])
        if len(node.value) > 1:
            return [(start, end, "")]
        colon = p.text.index(":", key.end_mark.index) + 1
        return [(colon, colon, " []"), (start, end, "")]
    items = _rt_items(p, path)
    del items[index]
    seq = _block(items)
    if not items:
        seq.fa.set_flow_style()
    return [rewrite_entry(p, entry, seq)]


def list_move(p: ParsedText, entry: tuple[ScalarNode, Node], source: int, target: int,
              path: tuple[Any, ...]) -> list[Edit]:
    """Move item `source` of the list at `entry` so that it becomes item `target`."""
    _, node = entry
    if _scalar_flow_list(node):
        texts = _item_texts(p, node)
        texts.insert(target, texts.pop(source))
        return [text_list(p, node, texts)]
    if _block_list(node):
        start, end = p.chunk(node.value[source])
        lines = p.text[start:end]
        if not lines.endswith("\n"):
            lines += "\n"
        if target < source:
            at = p.item_start(node.value[target])
            return [(at, at, lines), (start, end, "")]
        at = p.chunk(node.value[target])[1]
        return [(start, end, ""), (at, at, lines)]
    items = _rt_items(p, path)
    items.insert(target, items.pop(source))
    return [rewrite_entry(p, entry, _block(items))]


def _block(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_block_style()
    return seq


def insert_entry(p: ParsedText, mapping: MappingNode, key: str, value: Any,
                 before: str | None = None) -> Edit:
    """Add `key: value` to a block mapping: before the entry `before` if given, else last."""
    if not isinstance(mapping, MappingNode) or mapping.flow_style or not mapping.value:
        raise ConfigEditError("internal error: can only add entries to a block mapping")
    if before is not None:
        found = p.entry(mapping, before)
        if found is not None and p.starts_line(found[0]):
            column = found[0].start_mark.column
            at = p.line_start(found[0].start_mark.index)
            gap = "\n" if mapping is p.root else ""
            return at, at, " " * column + p.fragment(key, value, column) + "\n" + gap
    last_key, last_value = mapping.value[-1]
    column = last_key.start_mark.column
    at, newline = p.after_line(last_value)
    gap = "\n" if mapping is p.root else ""
    return at, at, newline + gap + " " * column + p.fragment(key, value, column) + "\n"


def new_map(items: dict[str, Any], flow: bool = False) -> CommentedMap:
    """A ruamel mapping of new values in the given style."""
    out = merge(None, items, flow)
    out.fa.set_flow_style() if flow else out.fa.set_block_style()
    return out
