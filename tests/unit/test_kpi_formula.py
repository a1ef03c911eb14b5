"""The formula parser: the grammar, aggregations, hostile input, evaluation edge cases."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kputui.errors import FormulaError
from kputui.kpi.compute import compute
from kputui.kpi.formula import MAX_LENGTH, Call, Operation, SeriesRef, parse_formula

KINDS = {"orders": "event", "visitors": "event", "revenue": "event", "ad_spend": "event",
         "followers": "gauge", "requests": "gauge"}


def value_of(text: str, values: dict[tuple[str, str], float | None]) -> float | None:
    """Evaluate `text` with each (series, aggregation) looked up in `values`."""
    formula = parse_formula(text, KINDS)
    return compute(formula, lambda name, how: values.get((name, how))).value


def test_bare_names_take_their_kinds_aggregation() -> None:
    formula = parse_formula("orders / followers", KINDS)
    assert formula.series == frozenset({"orders", "followers"})
    assert isinstance(formula.root, Operation)
    left, right = formula.root.left, formula.root.right
    assert isinstance(left, SeriesRef) and (left.name, left.how, left.bare) == ("orders", "sum", True)
    assert isinstance(right, SeriesRef) and (right.how, right.bare) == ("last", True)


def test_precedence_and_associativity() -> None:
    # 2 + 3 * 4 = 14; (2 + 3) * 4 = 20; -2 ** 2 = -(2 ** 2) = -4; 2 ** 3 ** 2 = 2 ** 9 = 512
    assert value_of("2 + 3 * 4", {}) == 14
    assert value_of("(2 + 3) * 4", {}) == 20
    assert value_of("-2 ** 2", {}) == -4
    assert value_of("2 ** 3 ** 2", {}) == 512
    assert value_of("10 - 4 - 3", {}) == 3
    assert value_of("12 / 3 / 2", {}) == 2
    assert value_of("1.5e3 + .5", {}) == 1500.5


def test_roas_formula_from_the_design() -> None:
    # revenue 1500, ad spend 1000: (1500 - 1000) / 1000 = 0.5
    values = {("revenue", "sum"): 1500.0, ("ad_spend", "sum"): 1000.0}
    assert value_of("(sum(revenue) - sum(ad_spend)) / sum(ad_spend)", values) == 0.5


def test_min_max_are_aggregations_with_one_series_and_math_with_more() -> None:
    agg = parse_formula("max(followers)", KINDS).root
    assert isinstance(agg, SeriesRef) and agg.how == "max"
    math_call = parse_formula("max(orders, 10)", KINDS).root
    assert isinstance(math_call, Call) and math_call.func == "max"
    assert value_of("max(orders, 10)", {("orders", "sum"): 4.0}) == 10
    assert value_of("min(orders, 10, 2)", {("orders", "sum"): 4.0}) == 2


def test_math_functions() -> None:
    assert value_of("abs(0 - 3)", {}) == 3
    assert value_of("round(2.567, 2)", {}) == 2.57
    assert value_of("round(2.5)", {}) == 2  # banker's rounding, as Python's round
    assert value_of("clamp(15, 0, 10)", {}) == 10
    assert value_of("clamp(-1, 0, 10)", {}) == 0


def test_every_aggregation_parses() -> None:
    for how in ("sum", "avg", "min", "max", "first", "last", "count", "delta", "increase"):
        root = parse_formula(f"{how}(requests)", KINDS).root
        assert isinstance(root, SeriesRef) and root.how == how


def test_additive_formulas_are_recognised() -> None:
    assert parse_formula("orders + visitors", KINDS).additive
    assert parse_formula("sum(revenue) * 0.01 - ad_spend", KINDS).additive
    assert parse_formula("count(requests)", KINDS).additive
    assert parse_formula("delta(followers)", KINDS).additive  # a gauge's growth adds up over time
    assert not parse_formula("orders / visitors", KINDS).additive
    assert not parse_formula("followers", KINDS).additive
    assert not parse_formula("orders + 5", KINDS).additive


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("__import__('os')", 0, "unknown function '__import__'"),
        ("orders.__class__", 6, "attribute access"),
        ("a.b", 1, "attribute access"),
        ("orders.b", 6, "attribute access"),
        ("orders[0]", 6, "subscripts"),
        ("'orders'", 0, "quotes"),
        ("ordrs / visitors", 0, "did you mean 'orders'"),
        ("orders / visitor", 9, "unknown series 'visitor'"),
        ("foo(orders)", 0, "unknown function 'foo'"),
        ("sum(orders, visitors)", 4, "one series name"),
        ("sum(orders + 1)", 4, "one series name"),
        ("sum(3)", 4, "one series name"),
        ("clamp(orders, 1)", 0, "clamp() got 2 arguments"),
        ("round(orders, 1, 2)", 0, "round() got 3"),
        ("abs()", 4, "expected a number"),
        ("orders visitors", 7, "unexpected 'visitors'"),
        ("orders +", 8, "the end of the formula"),
        ("(orders", 7, "expected ')'"),
        ("orders)", 6, "unexpected ')'"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("2**99999999", 3, "exponent is too large"),
        ("2 ** -101", 5, "exponent is too large"),
        ("1e999", 0, "too large"),
        ("orders ^ 2", 7, "write **"),
        ("orders % 2", 7, "'%'"),
        ("lambda: 1", 6, "unexpected character ':'"),
        ("orders; 1", 6, "unexpected character ';'"),
        ("٣ + 1", 0, "unexpected character"),
    ],
)
def test_bad_formulas_are_located(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text, KINDS)
    assert fragment in caught.value.message
    assert caught.value.offset == offset


def test_a_series_named_like_a_function_is_only_a_call_with_parentheses() -> None:
    formula = parse_formula("sum + 1", {"sum": "event"})
    assert formula.series == frozenset({"sum"})


def test_deep_nesting_is_refused_quickly() -> None:
    for text in ("(" * 10_000 + "1" + ")" * 10_000, "-" * 5_000 + "1", "abs(" * 500 + "1" + ")" * 500):
        started = time.perf_counter()
        with pytest.raises(FormulaError):
            parse_formula(text[:MAX_LENGTH], KINDS)
        assert time.perf_counter() - started < 0.5


def test_huge_input_is_refused_at_the_length_cap() -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula("orders + " * 100_000 + "1", KINDS)
    assert caught.value.offset == MAX_LENGTH


def test_long_flat_chains_are_capped() -> None:
    with pytest.raises(FormulaError, match="too complex"):
        parse_formula("+".join(["orders"] * 150), KINDS)
    assert parse_formula("+".join(["orders"] * 50), KINDS).series == {"orders"}


@pytest.mark.parametrize(
    ("text", "values", "reason"),
    [
        ("orders / visitors", {("orders", "sum"): 5.0, ("visitors", "sum"): 0.0},
         "division by zero: visitors is 0"),
        ("orders / visitors", {("visitors", "sum"): 3.0}, "no data for orders"),
        ("10 ** (orders * 100)", {("orders", "sum"): 2.0}, "exponent 200"),
        ("orders ** 100", {("orders", "sum"): 1e300}, "too large"),
        ("orders ** 0.5", {("orders", "sum"): -4.0}, "no real, finite value"),
        ("orders ** -1", {("orders", "sum"): 0.0}, "division by zero"),
        ("orders * 1e308 * 10", {("orders", "sum"): 10.0}, "finite"),
        ("clamp(orders, 5, 1)", {("orders", "sum"): 3.0}, "reversed"),
        ("round(orders, 99)", {("orders", "sum"): 3.0}, "out of range"),
    ],
)
def test_no_value_instead_of_errors(text: str, values: dict, reason: str) -> None:
    formula = parse_formula(text, KINDS)
    outcome = compute(formula, lambda name, how: values.get((name, how)))
    assert outcome.value is None
    assert reason in outcome.reason


def test_formula_is_frozen_and_compares_by_text() -> None:
    one = parse_formula("orders / visitors", KINDS)
    two = parse_formula("orders / visitors", KINDS)
    assert one == two and hash(one) == hash(two)
    with pytest.raises(AttributeError):
        one.text = "x"  # type: ignore[misc]

PIECES = st.sampled_from(["orders", "visitors", "followers", "sum(", "min(", "max(", "round(", "clamp(",
                          "(", ")", ",", "+", "-", "*", "/", "**", "2", "0", "1e308", ".5", " ", "x", "'", "."])


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=30).map("".join)))
def test_any_text_parses_or_raises_a_located_formula_error(text: str) -> None:
    try:
        formula = parse_formula(text, KINDS)
    except FormulaError as error:
        assert 0 <= error.offset <= len(text)
        assert error.message
        return
    outcome = compute(formula, lambda name, how: 3.0)
    assert outcome.value is None or isinstance(outcome.value, float)


def test_an_unclosed_aggregation_says_the_parenthesis_is_missing() -> None:
    with pytest.raises(FormulaError) as raised:
        parse_formula("sum(orders) / sum(visitors", {"orders": "event", "visitors": "event"})
    assert raised.value.message == "missing ')' to close sum("
    assert raised.value.offset == len("sum(orders) / sum(visitors")
