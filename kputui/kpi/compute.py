"""Evaluating a parsed formula over one window, with "no value" instead of errors.

Anything that has no sensible number (an empty window, a division by zero, a power
that overflows or is not real) yields `Outcome(None, reason)`; nothing raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from kputui.kpi.formula import MAX_EXPONENT, Call, Formula, Node, Number, Operation, SeriesRef

__all__ = ["Lookup", "Outcome", "compute"]

Lookup = Callable[[str, str], "float | None"]
"""(series, aggregation) -> the aggregate over the window, or None without samples."""


class Outcome(NamedTuple):
    """A formula's value over a window, or None and the reason why not."""

    value: float | None
    reason: str = ""


class _NoValue(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compute(formula: Formula, lookup: Lookup) -> Outcome:
    """Evaluate `formula`, reading each series' aggregate through `lookup`."""
    try:
        value = _Evaluator(formula.text, lookup).eval(formula.root)
    except _NoValue as missing:
        return Outcome(None, missing.reason)
    return Outcome(value)


class _Evaluator:
    def __init__(self, text: str, lookup: Lookup) -> None:
        self.text = text
        self.lookup = lookup

    def quote(self, node: Node) -> str:
        return self.text[node.offset:node.end].strip() or "?"

    def eval(self, node: Node) -> float:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, SeriesRef):
            value = self.lookup(node.name, node.how)
            if value is None:
                return self.missing(node)
            return value
        if isinstance(node, Operation):
            return self.finite(self.operation(node), node)
        return self.finite(self.call(node), node)

    def missing(self, node: SeriesRef) -> float:
        raise _NoValue(f"no data for {node.name}")

    def finite(self, value: float, node: Node) -> float:
        if isinstance(value, complex) or not math.isfinite(value):
            raise _NoValue(f"{self.quote(node)} has no real, finite value")
        return value

    def operation(self, node: Operation) -> float:
        left = self.eval(node.left)
        if node.right is None:
            return -left if node.op == "-" else left
        right = self.eval(node.right)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if node.op == "/":
            if right == 0:
                raise _NoValue(f"division by zero: {self.quote(node.right)} is 0")
            return left / right
        if abs(right) > MAX_EXPONENT:
            raise _NoValue(f"exponent {right:g} is larger than {MAX_EXPONENT}")
        if left == 0 and right < 0:
            raise _NoValue(f"division by zero: 0 to a negative power in {self.quote(node)}")
        try:
            return left**right
        except OverflowError:
            raise _NoValue(f"{self.quote(node)} is too large") from None

    def call(self, node: Call) -> float:
        args = [self.eval(arg) for arg in node.args]
        if node.func == "abs":
            return abs(args[0])
        if node.func == "min":
            return min(args)
        if node.func == "max":
            return max(args)
        if node.func == "clamp":
            value, low, high = args
            if low > high:
                raise _NoValue(f"clamp() bounds are reversed in {self.quote(node)}")
            return min(max(value, low), high)
        digits = int(args[1]) if len(args) > 1 else 0
        if not -15 <= digits <= 15:
            raise _NoValue(f"round() to {digits} digits is out of range")
        return float(round(args[0], digits))
