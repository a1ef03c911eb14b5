"""KPI formulas: a tokenizer and recursive-descent parser into an immutable tree.

Grammar (nothing else is accepted; Python's `eval` is never involved)::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("-" | "+") unary | power
    power  := atom ("**" unary)?
    atom   := NUMBER | SERIES | FUNC "(" expr ("," expr)* ")" | AGG "(" SERIES ")" | "(" expr ")"

Aggregations (`sum avg min max first last count delta increase`) take one series name;
`min` and `max` with two or more arguments, `abs`, `round` and `clamp` are arithmetic. A
bare series name takes its kind's aggregation: events sum, gauges take the last value.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from kputui.errors import FormulaError
from kputui.kpi.aggregate import AGGREGATIONS
from kputui.kpi.tokens import Token, tokenize
from kputui.series import Kind

__all__ = [
    "MAX_DEPTH", "MAX_EXPONENT", "MAX_LENGTH", "Call", "Formula", "Node", "Number",
    "Operation", "SeriesRef", "parse_formula",
]

MAX_LENGTH = 2000
"""Longest formula accepted, in characters."""
MAX_DEPTH = 32
"""Deepest nesting of parentheses, calls and signs."""
MAX_NODES_DEPTH = 100
"""Deepest expression tree (long chains like `a+b+c+...` count too)."""
MAX_EXPONENT = 100
"""Largest absolute exponent `**` accepts."""

MATH_ARITY = {"abs": (1, 1), "round": (1, 2), "clamp": (3, 3), "min": (2, 64), "max": (2, 64)}
SUM_LIKE = frozenset({"sum", "count", "increase", "delta"})
"""Aggregations whose value over a period is the sum of their values over its parts."""

@dataclass(frozen=True, slots=True)
class Number:
    """A constant."""

    value: float
    offset: int
    end: int


@dataclass(frozen=True, slots=True)
class SeriesRef:
    """A series aggregated over the window: `sum(revenue)`, or a bare `revenue`."""

    name: str
    how: str
    bare: bool
    offset: int
    end: int


@dataclass(frozen=True, slots=True)
class Operation:
    """A binary (`+ - * / **`) or unary (`-`, `+`: right is None) operation."""

    op: str
    left: Node
    right: Node | None
    offset: int
    end: int


@dataclass(frozen=True, slots=True)
class Call:
    """An arithmetic function: abs, round, clamp, min, max."""

    func: str
    args: tuple[Node, ...]
    offset: int
    end: int


Node = Number | SeriesRef | Operation | Call


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: its text, the series it reads and its expression tree."""

    text: str
    series: frozenset[str]
    root: Node = field(compare=False, repr=False)
    additive: bool = False
    """True when the value adds up over time (sums of event-like terms), so a part of a
    period can be projected linearly to the whole."""


def parse_formula(text: str, kinds: Mapping[str, Kind]) -> Formula:
    """Parse `text` into a Formula; raise FormulaError(message, offset) when it is wrong."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text, kinds)
    root = parser.parse()
    if _depth(root) > MAX_NODES_DEPTH:
        raise FormulaError("formula is too complex; split it into fewer terms", 0)
    return Formula(text, frozenset(parser.names), root, _additive(root))


class _Parser:
    def __init__(self, text: str, kinds: Mapping[str, Kind]) -> None:
        self.text = text
        self.kinds = kinds
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.names: set[str] = set()

    def peek(self, ahead: int = 0) -> Token:
        """The token `ahead` of the current one; a character no token takes raises here,
        so that a mistake earlier in the text is reported first."""
        token = self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]
        if token[0] == "bad":
            raise FormulaError(token[1], token[2])
        return token

    def take(self) -> Token:
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, value: str, what: str) -> Token:
        token = self.peek()
        if token[1] != value or token[0] != "op":
            raise FormulaError(f"expected {what}, found {_describe(token)}", token[2])
        return self.take()

    def nest(self, offset: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"formula is nested more than {MAX_DEPTH} levels deep", offset)

    def parse(self) -> Node:
        if self.peek()[0] == "end":
            raise FormulaError("formula is empty", 0)
        node = self.expr()
        token = self.peek()
        if token[0] != "end":
            raise FormulaError(f"unexpected {_describe(token)} after the formula", token[2])
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            op = self.take()[1]
            right = self.term()
            node = Operation(op, node, right, node.offset, right.end)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            node = Operation(op, node, right, node.offset, right.end)
        return node

    def unary(self) -> Node:
        kind, value, offset = self.peek()
        if kind == "op" and value in "+-":
            self.take()
            self.nest(offset)
            operand = self.unary()
            self.depth -= 1
            return Operation(value, operand, None, offset, operand.end)
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.peek()[1] != "**" or self.peek()[0] != "op":
            return base
        self.take()
        self.nest(self.peek()[2])
        exponent = self.unary()
        self.depth -= 1
        constant = _constant(exponent)
        if constant is not None and abs(constant) > MAX_EXPONENT:
            raise FormulaError(f"exponent is too large (at most {MAX_EXPONENT})", exponent.offset)
        return Operation("**", base, exponent, base.offset, exponent.end)

    def atom(self) -> Node:
        kind, value, offset = self.take()
        if kind == "number":
            number = float(value)
            if not math.isfinite(number):
                raise FormulaError("number is too large", offset)
            return Number(number, offset, offset + len(value))
        if kind == "name":
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                return self.call(value, offset)
            return self.series(value, offset, None)
        if kind == "op" and value == "(":
            self.nest(offset)
            node = self.expr()
            self.expect(")", "')'")
            self.depth -= 1
            return node
        raise FormulaError(f"expected a number, a series or '(', found {_describe((kind, value, offset))}", offset)

    def series(self, name: str, offset: int, how: str | None) -> SeriesRef:
        if name not in self.kinds:
            raise FormulaError(_unknown("series", name, self.kinds), offset)
        self.names.add(name)
        bare = how is None
        resolved = how or ("sum" if self.kinds[name] == "event" else "last")
        return SeriesRef(name, resolved, bare, offset, offset + len(name))

    def call(self, func: str, offset: int) -> Node:
        if func not in AGGREGATIONS and func not in MATH_ARITY:
            known = sorted({*AGGREGATIONS, *MATH_ARITY})
            raise FormulaError(_unknown("function", func, known), offset)
        self.nest(offset)
        self.take()
        single_name = self.peek()[0] == "name" and self.peek(1)[1] == ")" and self.peek(1)[0] == "op"
        if func in AGGREGATIONS and (func not in MATH_ARITY or single_name):
            token = self.peek()
            if not single_name:
                after = self.peek(1)
                if token[0] == "name" and after[0] == "end":
                    raise FormulaError(f"missing ')' to close {func}(", after[2])
                raise FormulaError(f"{func}() takes one series name, e.g. {func}(revenue)", token[2])
            self.take()
            close = self.take()
            self.depth -= 1
            ref = self.series(token[1], token[2], func)
            return SeriesRef(ref.name, func, False, offset, close[2] + 1)
        args = [self.expr()]
        while self.peek()[1] == "," and self.peek()[0] == "op":
            self.take()
            args.append(self.expr())
        close = self.expect(")", "',' or ')'")
        self.depth -= 1
        low, high = MATH_ARITY[func]
        if not low <= len(args) <= high:
            raise FormulaError(_arity(func, len(args)), offset)
        return Call(func, tuple(args), offset, close[2] + 1)


def _describe(token: Token) -> str:
    kind, value, _ = token
    return "the end of the formula" if kind == "end" else repr(value)


def _unknown(what: str, name: str, known: Mapping[str, object] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown {what} '{name}'{hint}"


def _arity(func: str, count: int) -> str:
    usage = {
        "abs": "abs(x)", "round": "round(x) or round(x, digits)", "clamp": "clamp(x, low, high)",
        "min": "min(series) or min(a, b, ...)", "max": "max(series) or max(a, b, ...)",
    }
    return f"{func}() got {count} argument{'s' * (count != 1)}; use {usage[func]}"


def _constant(node: Node) -> float | None:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Operation) and node.right is None:
        inner = _constant(node.left)
        return None if inner is None else (-inner if node.op == "-" else inner)
    return None


def _depth(node: Node) -> int:
    stack = [(node, 1)]
    deepest = 0
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(current, Operation):
            stack.append((current.left, level + 1))
            if current.right is not None:
                stack.append((current.right, level + 1))
        elif isinstance(current, Call):
            stack.extend((arg, level + 1) for arg in current.args)
    return deepest


def _additive(node: Node) -> bool:
    """Sums of terms that add up over time (sum, count, increase, delta), maybe scaled."""
    if isinstance(node, SeriesRef):
        return node.how in SUM_LIKE
    if isinstance(node, Operation):
        if node.right is None:
            return _additive(node.left)
        if node.op in "+-":
            return _additive(node.left) and _additive(node.right)
        if node.op == "*":
            return (_additive(node.left) and isinstance(node.right, Number)) or (
                isinstance(node.left, Number) and _additive(node.right))
        if node.op == "/":
            return _additive(node.left) and isinstance(node.right, Number)
    return False
