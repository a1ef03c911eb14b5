"""The config loader: one test per kind of mistake, each with its line and column.

Every fixture is a literal YAML string that starts on line 1 right after the opening
quotes, so the expected positions can be counted by eye.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from textwrap import dedent

import pytest

from kputui.config import (
    Config,
    ConfigIssue,
    DashboardSpec,
    SeriesSpec,
    Settings,
    SourceSpec,
    load_config,
    load_config_text,
)
from kputui.errors import ConfigError
from kputui.kpi.spec import FormatSpec, TargetSpec

FIXTURES = Path(__file__).parent / "fixtures" / "config"


def issues_of(text: str, env: dict[str, str] | None = None) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as info:
        load_config_text(dedent(text), "t.yaml", env=env or {})
    return info.value.issues


def only_issue(text: str, env: dict[str, str] | None = None) -> ConfigIssue:
    issues = issues_of(text, env)
    assert len(issues) == 1, "\n".join(map(str, issues))
    return issues[0]


def load(text: str, env: dict[str, str] | None = None, **kwargs) -> Config:
    return load_config_text(dedent(text), "t.yaml", env=env or {}, **kwargs)


def at(issue: ConfigIssue) -> tuple[int, int, str]:
    return issue.line, issue.col, issue.path


# --- one test per kind of mistake


def test_yaml_syntax_error_is_one_located_issue():
    issue = only_issue("""\
        version: 1
        settings:
          theme: dark: blue
        """)
    assert (issue.line, issue.col) == (3, 14)
    assert "mapping values are not allowed" in issue.message
    assert str(issue).startswith("t.yaml:3:14: invalid YAML: ")


def test_duplicate_key_is_reported_at_the_second():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
              a: {kind: gauge}
        """)
    assert at(issue) == (6, 7, "sources.s.series.a")
    assert issue.message == 'duplicate key "a" (first at line 5)'


def test_unknown_key_suggests_the_closest():
    issue = only_issue("""\
        sources:
          s:
            type: demo
            intervall: 5m
            series:
              a: {kind: event, base: 1}
        """)
    assert at(issue) == (4, 5, "sources.s.intervall")
    assert issue.message == 'unknown key "intervall" (did you mean "interval"?)'


def test_wrong_type_quotes_what_was_got():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - id: k
            formula: a
            period: week
            target:
              value: ten
        """)
    assert str(issue) == 't.yaml:11:14: kpis[0].target.value: expected a number, got "ten"'


def test_missing_required_key_points_at_the_mapping():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - id: k
            period: week
        """)
    assert at(issue) == (7, 5, "kpis[0]")
    assert issue.message == 'missing required key "formula"'


def test_unknown_series_in_formula_points_at_the_name():
    issues = issues_of("""\
        sources:
          s:
            type: manual
            series:
              orders: {kind: event}
              visitors: {kind: event}
        kpis:
          - id: plain
            formula: orders / visitrs
            period: week
          - id: quoted
            formula: "orders / visitrs"
            period: week
        """)
    assert [at(issue) for issue in issues] == [
        (9, 23, "kpis[0].formula"),
        (12, 24, "kpis[1].formula"),
    ]
    assert all("visitrs" in issue.message for issue in issues)


def test_formula_syntax_error_points_into_the_formula():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - id: k
            formula: (a + ) * 2
            period: week
        """)
    assert at(issue) == (8, 19, "kpis[0].formula")


def test_dashboard_naming_an_unknown_kpi():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - {id: orders, formula: a, period: week}
        dashboards:
          - name: Main
            kpis: [orders, ordrs]
        """)
    assert at(issue) == (10, 20, "dashboards[0].kpis[1]")
    assert issue.message == 'unknown KPI "ordrs" (did you mean "orders"?)'


def test_duplicate_kpi_id_is_reported_at_the_second():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - id: k
            formula: a
            period: week
          - id: k
            formula: a * 2
            period: month
        """)
    assert at(issue) == (10, 9, "kpis[1].id")
    assert issue.message == 'duplicate KPI id "k" (first at line 7)'


def test_duplicate_series_across_sources_is_reported_at_the_second():
    issue = only_issue("""\
        sources:
          one:
            type: manual
            series:
              orders: {kind: event}
          two:
            type: demo
            series:
              orders: {kind: event, base: 5}
        """)
    assert at(issue) == (9, 7, "sources.two.series.orders")
    assert issue.message == 'series "orders" is already defined in source "one" (line 5)'


def test_unset_environment_variable_is_named_and_located():
    issue = only_issue("""\
        sources:
          shop:
            type: http
            url: https://shop.example.com/api
            headers: {Authorization: "Bearer ${SHOP_TOKEN}"}
            series:
              orders: {path: data.orders, kind: event}
        """)
    assert at(issue) == (5, 38, "sources.shop.headers.Authorization")
    assert issue.message == "environment variable SHOP_TOKEN is not set"


def test_bad_duration():
    issue = only_issue("""\
        sources:
          s:
            type: demo
            interval: 5 minutes
            series:
              a: {kind: event, base: 1}
        """)
    assert at(issue) == (4, 15, "sources.s.interval")
    assert 'got "5 minutes"' in issue.message
    assert "duration" in issue.message


def test_bad_timezone_suggests_the_closest():
    issue = only_issue("""\
        settings:
          timezone: Europe/Berln
        """)
    assert at(issue) == (2, 13, "settings.timezone")
    assert issue.message.endswith('got "Europe/Berln" (did you mean "Europe/Berlin"?)')


def test_bad_regex_points_at_the_problem():
    issue = only_issue("""\
        sources:
          disk:
            type: command
            command: [df, /]
            series:
              used: {regex: 'x(\\d+%', kind: gauge}
        """)
    assert at(issue) == (6, 23, "sources.disk.series.used.regex")
    assert issue.message.startswith("invalid regular expression: ")


def test_regex_with_two_groups_is_refused():
    issue = only_issue("""\
        sources:
          disk:
            type: command
            command: [df, /]
            series:
              used: {regex: '(\\d+)(%)', kind: gauge}
        """)
    assert at(issue) == (6, 21, "sources.disk.series.used.regex")
    assert "at most one capture group" in issue.message


def test_bad_jmespath_points_at_the_problem():
    issue = only_issue("""\
        sources:
          shop:
            type: http
            url: https://shop.example.com/api
            series:
              orders:
                path: data.orders]
                kind: event
        """)
    assert at(issue) == (7, 26, "sources.shop.series.orders.path")
    assert issue.message.startswith("invalid JMESPath: ")


# --- many at once, and nothing but ConfigError


def test_every_error_is_reported_at_once_in_file_order():
    issues = issues_of("""\
        version: 2
        settings:
          week_start: mondy
        sources:
          s:
            type: demo
            series:
              a: {kind: evnt, base: 1}
        kpis:
          - id: k
            formula: b
            period: fortnight
        dashboards:
          - name: Main
            kpis: [x]
        """)
    assert [at(issue) for issue in issues] == [
        (1, 10, "version"),
        (3, 15, "settings.week_start"),
        (8, 17, "sources.s.series.a.kind"),
        (11, 14, "kpis[0].formula"),
        (12, 13, "kpis[0].period"),
        (15, 12, "dashboards[0].kpis[0]"),
    ]
    text = "\n".join(map(str, issues))
    assert '(did you mean "monday"?)' in text
    assert '(did you mean "event"?)' in text


def test_unreadable_file_is_one_issue(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    [issue] = info.value.issues
    assert issue.file == str(missing)
    assert "cannot read" in issue.message


def test_file_that_is_not_utf8_is_located(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"version: 1\nsettings:\n  theme: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    [issue] = info.value.issues
    assert (issue.line, issue.col) == (3, 13)


def test_empty_config_is_an_issue():
    assert "empty" in only_issue("").message


def test_top_level_must_be_a_mapping():
    issue = only_issue("""\
        - 1
        - 2
        """)
    assert (issue.line, issue.col) == (1, 1)
    assert issue.message.endswith("got a list")


def test_alias_bomb_is_refused_quickly():
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for index in range(1, 9):
        previous = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    issue = only_issue("\n".join(rows) + "\n")
    assert "too many aliases" in issue.message


def test_recursive_alias_is_refused():
    issue = only_issue("""\
        settings: &s
          theme: [*s]
        """)
    assert "refers to the value that contains it" in issue.message


def test_deep_nesting_is_refused_without_a_traceback():
    issues = issues_of("x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert len(issues) == 1
    assert "nested too deeply" in issues[0].message


def test_manual_source_takes_no_interval():
    issue = only_issue("""\
        sources:
          crm:
            type: manual
            interval: 1m
            series:
              deals: {kind: event}
        """)
    assert at(issue) == (4, 5, "sources.crm.interval")
    assert "manual" in issue.message


def test_command_as_text_needs_shell():
    issue = only_issue("""\
        sources:
          disk:
            type: command
            command: df -h
            series:
              used: {regex: '(\\d+)%', kind: gauge}
        """)
    assert at(issue) == (4, 14, "sources.disk.command")
    assert "shell: true" in issue.message
    config = load("""\
        sources:
          disk:
            type: command
            command: df -h | tail -1
            shell: true
            series:
              used: {regex: '(\\d+)%', kind: gauge}
        """)
    assert config.sources[0].options["command"] == "df -h | tail -1"


def test_command_series_needs_exactly_one_of_regex_or_path():
    issue = only_issue("""\
        sources:
          disk:
            type: command
            command: [df]
            series:
              used: {regex: '(\\d+)%', path: used, kind: gauge}
        """)
    assert at(issue) == (6, 13, "sources.disk.series.used")
    assert "exactly one of regex or path" in issue.message


def test_series_name_must_be_an_identifier_and_not_a_function():
    issues = issues_of("""\
        sources:
          s:
            type: manual
            series:
              ad-spend: {kind: event}
              sum: {kind: event}
        """)
    assert [at(issue) for issue in issues] == [
        (5, 7, "sources.s.series.ad-spend"),
        (6, 7, "sources.s.series.sum"),
    ]


def test_currency_style_needs_an_iso_code():
    issues = issues_of("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - {id: one, formula: a, period: week, format: {style: currency}}
          - {id: two, formula: a, period: week, format: {style: currency, currency: euro}}
        """)
    assert [at(issue) for issue in issues] == [
        (7, 49, "kpis[0].format"),
        (8, 77, "kpis[1].format.currency"),
    ]


def test_target_needs_exactly_one_kind_and_a_share_for_at_risk():
    issues = issues_of("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - id: k
            formula: a
            period: week
            target: {value: 3, growth: 0.1, at_risk: 1.5}
        """)
    assert [at(issue) for issue in issues] == [
        (10, 13, "kpis[0].target"),
        (10, 46, "kpis[0].target.at_risk"),
    ]
    assert issues[0].message == "expected exactly one of value, schedule, growth or low/high, got value and growth"


def test_long_values_are_shortened_in_messages():
    issue = only_issue("settings:\n  refresh: " + "x" * 200 + "\n")
    assert len(issue.message) < 150
    assert "…" in issue.message


# --- environment


def test_environment_values_are_substituted_and_escapes_kept():
    config = load(
        """\
        sources:
          shop:
            type: http
            url: https://${HOST}/api
            headers: {Authorization: "Bearer ${TOKEN}", X-Literal: "$${NOT_ENV}"}
            max_redirects: ${REDIRECTS}
            series:
              orders: {path: data.orders, kind: event}
        """,
        env={"HOST": "shop.example.com", "TOKEN": "s3cret", "REDIRECTS": "3"},
    )
    options = config.sources[0].options
    assert options["url"] == "https://shop.example.com/api"
    assert dict(options["headers"]) == {"Authorization": "Bearer s3cret", "X-Literal": "${NOT_ENV}"}
    assert options["max_redirects"] == 3


def test_secrets_never_appear_in_messages():
    issues = issues_of(
        """\
        sources:
          shop:
            type: http
            url: https://shop.example.com/api
            timeout: ${SECRET}
            max_bytes: ${SECRET}
            series:
              orders: {path: data.orders, kind: event}
        """,
        env={"SECRET": "hunter2"},
    )
    assert [at(issue) for issue in issues] == [
        (5, 14, "sources.shop.timeout"),
        (6, 16, "sources.shop.max_bytes"),
    ]
    assert all("hunter2" not in str(issue) for issue in issues)
    assert 'got "${SECRET}"' in issues[0].message


def test_bad_placeholder_is_an_error():
    issue = only_issue("""\
        settings:
          theme: ${not-a-name}
        """)
    assert at(issue) == (2, 10, "settings.theme")


# --- what a valid config becomes


def test_design_example_loads():
    config = load_config(FIXTURES / "design_example.yaml", env={"SHOP_TOKEN": "t0k3n"})
    assert config.path == FIXTURES / "design_example.yaml"
    assert config.settings == Settings(
        timezone="Europe/Berlin",
        week_start=0,
        fiscal_year_start=(4, 1),
        store=Path.home() / "kpi" / "store",
        theme="kputui-dark",
        refresh=1.0,
    )
    assert config.settings.calendar.fiscal_year_start == (4, 1)
    assert [(s.name, s.type, s.interval, s.timeout) for s in config.sources] == [
        ("shop", "http", 300.0, 10.0),
        ("prom", "prometheus", 30.0, 10.0),
        ("disk", "command", 60.0, 10.0),
        ("ads", "file", 60.0, 10.0),
        ("crm", "manual", math.inf, 10.0),
    ]
    shop = config.source_of("revenue")
    assert shop.options["headers"]["Authorization"] == "Bearer t0k3n"
    revenue = config.series["revenue"]
    assert (revenue.kind, revenue.unit, revenue.scale, revenue.source) == ("event", "EUR", 0.01, "shop")
    assert revenue.options["path"].search({"data": {"revenue_cents": 1234}}) == 1234
    assert config.source_of("error_ratio").options["backfill"] == 7 * 86400
    assert config.source_of("disk_used").options["command"] == ("df", "--output=pcent", "/")
    assert config.series["disk_used"].options["regex"].search("Use%\n 42%\n").group(1) == "42"
    assert config.source_of("ad_spend").options["path"] == FIXTURES / "finance" / "ads.csv"
    assert config.source_of("ad_spend").options["format"] == "csv"
    assert dict(config.kinds) == {
        "orders": "event", "visitors": "event", "revenue": "event", "error_ratio": "gauge",
        "disk_used": "gauge", "ad_spend": "event", "deals_won": "event",
    }
    assert [kpi.id for kpi in config.kpis] == ["conversion", "roas", "errors"]
    conversion = config.kpi("conversion")
    assert conversion.name == "Shop conversion"
    assert conversion.objective == "Turn more visits into orders"
    assert conversion.formula.series == frozenset({"orders", "visitors"})
    assert conversion.format == FormatSpec(style="percent", decimals=2)
    assert conversion.target == TargetSpec(mode="stay_above", value=0.03)
    assert (conversion.owner, conversion.tags) == ("Growth", ("shop",))
    roas = config.kpi("roas")
    assert (roas.pace, roas.stale_after, roas.target) == ("linear", 2 * 86400.0, TargetSpec(value=0.5))
    errors = config.kpi("errors")
    assert errors.direction == "down"
    assert errors.target == TargetSpec(mode="stay_below", value=0.001, at_risk=0.8)
    assert config.dashboards == (DashboardSpec("Shop", ("conversion", "roas", "errors")),)
    with pytest.raises(KeyError):
        config.kpi("nope")


def test_defaults(tmp_path):
    config = load(
        """\
        sources:
          play:
            type: demo
            series:
              sales: {kind: event, base: 100}
        kpis:
          - id: sales
            formula: sales
            period: day
        """,
        base_dir=tmp_path,
    )
    assert config.path is None
    settings = config.settings
    assert (settings.week_start, settings.fiscal_year_start, settings.store) == (0, (1, 1), None)
    assert (settings.theme, settings.refresh) == ("kputui-dark", 1.0)
    assert settings.timezone
    [source] = config.sources
    assert (source.interval, source.timeout) == (60.0, 10.0)
    assert dict(source.options) == {"seed": 0, "backfill": 35 * 86400.0}
    assert config.series["sales"] == SeriesSpec(
        "sales", "event", None, 1.0, "play",
        {"base": 100.0, "trend": 0.0, "weekly": 0.0, "daily": 0.0, "noise": 0.1},
    )
    kpi = config.kpi("sales")
    assert (kpi.name, kpi.objective, kpi.direction, kpi.target) == ("sales", "", "up", None)
    assert (kpi.compare, kpi.pace, kpi.stale_after, kpi.tags) == ("previous_period", "none", None, ())
    assert kpi.format == FormatSpec()
    assert config.dashboards == (DashboardSpec("KPIs", ("sales",)),)


def test_timezone_default_follows_tz(monkeypatch):
    from kputui import config as config_module

    config_module.machine_timezone.cache_clear()
    monkeypatch.setenv("TZ", "America/Chicago")
    try:
        assert load("version: 1\n").settings.timezone == "America/Chicago"
    finally:
        config_module.machine_timezone.cache_clear()


def test_store_path_is_resolved_against_the_config_folder(tmp_path):
    path = tmp_path / "conf" / "kputui.yaml"
    path.parent.mkdir()
    path.write_text("settings:\n  store: data/store\n")
    assert load_config(path).settings.store == tmp_path / "conf" / "data" / "store"


def test_targets_in_every_form():
    config = load("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - {id: bare, formula: a, period: month, target: 10}
          - id: schedule
            formula: a
            period: month
            target:
              schedule: {"2026-11": 5, 2026-12: 7, default: 4}
          - {id: growth, formula: a, period: month, target: {growth: 0.1, vs: same_period_last_year}}
          - {id: band, formula: a, period: month, target: {low: 1, high: 2}}
        """)
    assert config.kpi("bare").target == TargetSpec(value=10.0)
    assert config.kpi("schedule").target == TargetSpec(
        schedule=(("2026-11", 5.0), ("2026-12", 7.0)), default=4.0
    )
    assert config.kpi("growth").target == TargetSpec(growth=0.1, vs="same_period_last_year")
    assert config.kpi("band").target == TargetSpec(mode="range", low=1.0, high=2.0)


def test_dashboards_with_columns_and_merge_keys():
    config = load("""\
        sources:
          base: &base
            type: demo
            interval: 5m
            series:
              a: {kind: event, base: 1}
          other:
            <<: *base
            series:
              b: {kind: gauge, base: 2}
        kpis:
          - {id: a, formula: a, period: week}
          - {id: b, formula: b, period: week}
        dashboards:
          - {name: One, kpis: [b, a], columns: 2}
        """)
    assert config.source_of("b") == SourceSpec(
        "other", "demo", 300.0, 10.0, (config.series["b"],), {"seed": 0, "backfill": 35 * 86400.0}
    )
    assert config.dashboards == (DashboardSpec("One", ("b", "a"), 2),)


def test_issue_text_format():
    issue = ConfigIssue("sales.yaml", 14, 12, "kpis[2].target.value", 'expected a number, got "ten"')
    assert str(issue) == 'sales.yaml:14:12: kpis[2].target.value: expected a number, got "ten"'
    assert str(ConfigIssue("x.yaml", 0, 0, "", "cannot read")) == "x.yaml: cannot read"
    assert re.fullmatch(r"x:1:2: bad", str(ConfigIssue("x", 1, 2, "", "bad")))


def test_schedule_mistakes_are_reported_once():
    issues = issues_of("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - id: k
            formula: a
            period: month
            target:
              schedule:
                2026-12: 5
                2026-12: 6
                2026-13: 7
        """)
    assert [at(issue) for issue in issues] == [
        (13, 9, 'kpis[0].target.schedule["2026-12"]'),
        (14, 9, 'kpis[0].target.schedule["2026-13"]'),
    ]


def test_http_keys_are_checked():
    issues = issues_of("""\
        sources:
          shop:
            type: http
            url: shop.example.com/api
            method: PUT
            auth: {bearer: x, basic: {username: u, password: p}}
            max_bytes: -1
            series:
              orders: {path: data.orders, kind: event, time_path: "data.time"}
        """)
    assert [at(issue) for issue in issues] == [
        (4, 10, "sources.shop.url"),
        (5, 13, "sources.shop.method"),
        (6, 11, "sources.shop.auth"),
        (7, 16, "sources.shop.max_bytes"),
    ]
    assert issues[1].message == 'expected GET or POST, got "PUT"'


def test_file_format_comes_from_the_extension_or_must_be_given():
    issue = only_issue("""\
        sources:
          ads:
            type: file
            path: finance/ads.txt
            series:
              spend: {time_column: date, value_column: spend, kind: event}
        """)
    assert at(issue) == (4, 11, "sources.ads.path")
    assert "format" in issue.message


def test_kpi_id_must_be_lower_case():
    issue = only_issue("""\
        sources:
          s:
            type: manual
            series:
              a: {kind: event}
        kpis:
          - {id: Orders, formula: a, period: week}
        """)
    assert at(issue) == (7, 10, "kpis[0].id")
    assert 'got "Orders"' in issue.message


@pytest.mark.parametrize("loader", ["SafeLoader", "CSafeLoader"])
def test_both_yaml_parsers_give_the_same_config(monkeypatch, loader):
    import yaml

    from kputui import _yaml

    if not hasattr(yaml, loader):
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(_yaml, "_LOADER", getattr(yaml, loader))
    config = load_config(FIXTURES / "design_example.yaml", env={"SHOP_TOKEN": "t"})
    assert [kpi.id for kpi in config.kpis] == ["conversion", "roas", "errors"]
    issue = only_issue("""\
        version: 1
        settings:
          theme: dark: blue
        """)
    assert (issue.line, issue.col) == (3, 14)
    issue = only_issue("""\
        a: &x [1]
        b: *y
        """)
    assert (issue.line, issue.col) == (2, 4)


def test_formula_positions_in_folded_and_escaped_scalars():
    issues = issues_of("""\
        sources:
          s:
            type: manual
            series:
              orders: {kind: event}
        kpis:
          - id: folded
            formula: >
              orders /
                visitrs
            period: week
          - id: plain
            formula: orders
              / visitrs
            period: week
          - id: escaped
            formula: "orders \\t/ visitrs"
            period: week
        """)
    assert [at(issue) for issue in issues] == [
        (10, 9, "kpis[0].formula"),
        (14, 9, "kpis[1].formula"),
        (17, 26, "kpis[2].formula"),
    ]
