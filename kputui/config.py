"""The config file: YAML in, typed and frozen `Config` out, or every mistake located.

`load_config` reads a file, `load_config_text` a string. Both raise
`kputui.errors.ConfigError` whose `issues` are `ConfigIssue`s printed as
`file:line:col: key.path: message`; nothing else escapes for a bad config. The format is
the one in DESIGN.md ("Config (YAML)"). Reading YAML nodes lives in `kputui._yaml`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import jmespath
from yaml.nodes import ScalarNode

from kputui._yaml import BAD, ConfigIssue, Fields, Reader, compose, did_you_mean, join
from kputui.alerts import CONDITIONS, NOTIFIER_TYPES, AlertRule, NotifierSpec
from kputui.durations import parse_duration
from kputui.errors import ConfigError, FormulaError
from kputui.kpi.aggregate import AGGREGATIONS
from kputui.kpi.formula import MATH_ARITY, parse_formula
from kputui.kpi.periods import parse_period
from kputui.kpi.spec import Calendar, FormatSpec, KpiSpec, TargetSpec
from kputui.series import Kind

if TYPE_CHECKING:
    from yaml.nodes import Node

__all__ = [
    "Config",
    "ConfigIssue",
    "DashboardSpec",
    "SeriesSpec",
    "Settings",
    "SourceSpec",
    "load_config",
    "load_config_text",
    "machine_timezone",
    "parse_duration",
]

MAX_BYTES = 2_000_000
"""Largest config file read."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FORMULA_FUNCTIONS = frozenset(AGGREGATIONS) | frozenset(MATH_ARITY)
"""Names a series may not take because formulas use them as functions."""
_SERIES_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_KPI_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SCHEDULE_LABEL = re.compile(
    r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?|-Q[1-4]|-W(0[1-9]|[1-4]\d|5[0-3]))?|FY\d{4}(-Q[1-4])?"
)


@dataclass(frozen=True, slots=True)
class Settings:
    """How the whole dashboard behaves: calendar, store, theme, refresh."""

    timezone: str
    """IANA zone name the calendar periods are cut in."""
    week_start: int = 0
    """0 is Monday ... 6 is Sunday."""
    fiscal_year_start: tuple[int, int] = (1, 1)
    """(month, day) on which the fiscal year starts."""
    store: Path | None = None
    """Where the history lives; None leaves the choice to the caller (a platform folder)."""
    theme: str = "kputui-dark"
    refresh: float = 1.0
    """Seconds between the UI's looks for new data."""

    @property
    def calendar(self) -> Calendar:
        """The calendar the KPI engine cuts periods with."""
        return Calendar(self.timezone, self.week_start, self.fiscal_year_start)


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """One series a source delivers."""

    name: str
    """Unique across the config; formulas name it."""
    kind: Kind
    unit: str | None
    scale: float
    """Factor applied to every raw value (0.01 turns cents into euros)."""
    source: str
    """The name of the source that delivers it."""
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """The source type's series keys, validated, with defaults filled in. A `regex` is a
    compiled `re.Pattern`, a JMESPath `path`/`time_path` a compiled jmespath expression."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source: where samples come from and how often."""

    name: str
    type: str
    """demo, http, prometheus, command, file, sqlite or manual."""
    interval: float
    """Seconds between fetches; infinite for a manual source (never fetched)."""
    timeout: float
    """Seconds one fetch may take."""
    series: tuple[SeriesSpec, ...]
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """The type's own keys, validated, defaults filled in, paths resolved."""


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    """A named page of KPI panes."""

    name: str
    kpis: tuple[str, ...]
    """KPI ids in display order."""
    columns: int | None = None
    """Panes per row; None fits them to the terminal."""


@dataclass(frozen=True, slots=True)
class Config:
    """A whole validated config."""

    path: Path | None
    """The file it was read from; None for text."""
    settings: Settings
    sources: tuple[SourceSpec, ...]
    kpis: tuple[KpiSpec, ...]
    dashboards: tuple[DashboardSpec, ...]
    text: str
    """The YAML text as read, for editing and re-saving."""
    alerts: tuple[AlertRule, ...] = ()
    """Every KPI's alert rules, in config order."""
    notifiers: Mapping[str, NotifierSpec] = field(default_factory=lambda: MappingProxyType({}))
    """The top-level `notifiers:` by name."""
    _series: Mapping[str, SeriesSpec] = field(init=False, repr=False, compare=False)
    _sources: Mapping[str, SourceSpec] = field(init=False, repr=False, compare=False)
    _kinds: Mapping[str, Kind] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        every = {series.name: series for source in self.sources for series in source.series}
        object.__setattr__(self, "_series", MappingProxyType(every))
        object.__setattr__(self, "_sources", MappingProxyType({s.name: s for s in self.sources}))
        object.__setattr__(self, "_kinds", MappingProxyType({name: s.kind for name, s in every.items()}))

    @property
    def series(self) -> Mapping[str, SeriesSpec]:
        """Every series of every source, by name."""
        return self._series

    @property
    def kinds(self) -> Mapping[str, Kind]:
        """Every series' kind, by name (what the formula parser needs)."""
        return self._kinds

    def kpi(self, kpi_id: str) -> KpiSpec:
        """The KPI with id `kpi_id`; KeyError when there is none."""
        for kpi in self.kpis:
            if kpi.id == kpi_id:
                return kpi
        raise KeyError(kpi_id)

    def source_of(self, series_name: str) -> SourceSpec:
        """The source that delivers `series_name`; KeyError when there is none."""
        return self._sources[self._series[series_name].source]


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file at `path`.

    Raises:
        ConfigError: the file cannot be read or is wrong; `issues` lists every problem.
    """
    name = str(path)
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError([ConfigIssue(name, 0, 0, "", f"cannot read the file: {exc.strerror or exc}")]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([ConfigIssue(name, 0, 0, "", f"the file is larger than {MAX_BYTES} bytes")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError([ConfigIssue(name, line, col, "", "the file is not UTF-8 text")]) from None
    return _load(text, name, env, path.resolve().parent, path)


def load_config_text(text: str, name: str = "<config>", env: Mapping[str, str] | None = None,
                     base_dir: str | Path | None = None) -> Config:
    """Validate config `text`; `name` stands for the file in messages.

    Relative paths in the config are resolved against `base_dir` (default: the current
    folder). `env` replaces `os.environ` for `${NAME}`.
    """
    folder = Path(base_dir).expanduser().resolve() if base_dir is not None else Path.cwd()
    return _load(text, name, env, folder, None)


def _load(text: str, name: str, env: Mapping[str, str] | None, base_dir: Path,
          path: Path | None) -> Config:
    root, issues = compose(text, name)
    if issues:
        raise ConfigError(issues)
    reader = Reader(name, text, os.environ if env is None else env, base_dir)
    if root is None:
        raise ConfigError([ConfigIssue(name, 1, 1, "", "the config is empty: expected a mapping "
                                       "with version, settings, sources, kpis and dashboards")])
    config = _read_config(reader, root, text, path)
    if reader.issues or config is None:
        unique: dict[tuple[int, int, str], ConfigIssue] = {}
        for issue in reader.issues:
            unique.setdefault((issue.line, issue.col, issue.message), issue)
        raise ConfigError(sorted(unique.values(), key=lambda issue: (issue.line, issue.col)))
    return config


def _read_config(r: Reader, root: Any, text: str, path: Path | None) -> Config | None:
    top = r.mapping(root, "", "a mapping with version, settings, sources, kpis and dashboards")
    if top is None:
        return None
    top.check_keys(("version", "settings", "sources", "kpis", "dashboards", "notifiers"))
    version_node = top.node_of("version")
    if version_node is not None and r.scalar(version_node, "version") != 1:
        r.error(version_node, "version", f"unsupported version {r.got(version_node)}: "
                "this kputui reads version 1")
    settings = _read_settings(r, top.node_of("settings"))
    kinds: dict[str, Kind] = {}
    sources = _read_sources(r, top.node_of("sources"), kinds)
    notifiers = _read_notifiers(r, top.node_of("notifiers"))
    alerts: list[AlertRule] = []
    kpis, kpi_ids = _read_kpis(r, top.node_of("kpis"), kinds, notifiers, alerts)
    dashboards = _read_dashboards(r, top, kpi_ids, kpis)
    if r.issues:
        return None
    return Config(path, settings, sources, kpis, dashboards, text, tuple(alerts), MappingProxyType(notifiers))


# --- settings

@lru_cache(maxsize=1)
def machine_timezone() -> str:
    """The IANA name of this machine's time zone, or "UTC" when it cannot be told."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for candidate in candidates:
        if candidate and _zone_exists(candidate):
            return candidate
    return "UTC"


def _zone_exists(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return False
    return True


def _read_settings(r: Reader, node: Any) -> Settings:
    f = r.mapping(node, "settings")
    if f is None:
        return Settings(machine_timezone())
    f.check_keys(("timezone", "week_start", "fiscal_year_start", "store", "theme", "refresh"))

    def timezone(node: Any, path: str) -> Any:
        name = f.reader_str(node, path)
        if name is BAD or _zone_exists(name):
            return name
        from zoneinfo import available_timezones

        hint = did_you_mean(name, available_timezones())
        return r.expected(node, path, "an IANA time zone name like Europe/Berlin or UTC", hint)

    def fiscal(node: Any, path: str) -> Any:
        text = f.reader_str(node, path)
        match = re.fullmatch(r"(\d\d)-(\d\d)", text) if text is not BAD else None
        if match:
            month, day = int(match[1]), int(match[2])
            if 1 <= month <= 12 and 1 <= day <= (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]:
                return (month, day)
        return BAD if text is BAD else r.expected(node, path, 'a month-day like "04-01"')

    week_start = f.choice("week_start", WEEKDAYS, "monday")
    return Settings(
        timezone=f.value("timezone", None, timezone) or machine_timezone(),
        week_start=WEEKDAYS.index(week_start) if week_start in WEEKDAYS else 0,
        fiscal_year_start=f.value("fiscal_year_start", (1, 1), fiscal),
        store=f.path_value("store"),
        theme=f.str("theme", "kputui-dark"),
        refresh=f.duration("refresh", 1.0),
    )


# --- sources and series

def _read_sources(r: Reader, node: Any, kinds: dict[str, Kind]) -> tuple[SourceSpec, ...]:
    f = r.mapping(node, "sources", "a mapping of source names to sources")
    if f is None:
        return ()
    owners: dict[str, tuple[str, int]] = {}
    sources = []
    for name in f:
        if not _SOURCE_NAME.fullmatch(name):
            r.error(f.key_node(name), f.at(name), f'expected a source name made of letters, digits, '
                    f'_ . and -, got "{name}"')
        source = _read_source(r, name, f.items[name][1], f.at(name), kinds, owners)
        if source is not None:
            sources.append(source)
    return tuple(sources)


def _read_source(r: Reader, name: str, node: Any, path: str, kinds: dict[str, Kind],
                 owners: dict[str, tuple[str, int]]) -> SourceSpec | None:
    f = r.mapping(node, path, f"a mapping with type and series (one of {', '.join(SOURCE_TYPES)})")
    if f is None:
        return None
    kind = f.choice("type", SOURCE_TYPES)
    common = ("type", "series", "timeout") if kind == "manual" else ("type", "interval", "timeout", "series")
    options: dict[str, Any] = {}
    if kind in SOURCE_TYPES:
        options = read_source_options(kind, f, common)
    elif "type" not in f:
        f.check_keys(f.items, required=("type",))
    interval = math.inf if kind == "manual" else f.duration("interval", 60.0)
    timeout = f.duration("timeout", 10.0)
    series_fields = r.mapping(f.node_of("series"), f.at("series"), "a mapping of series names to series")
    series = []
    if series_fields is not None and not series_fields.items:
        r.error(series_fields.node, f.at("series"), "expected at least one series, got none")
    for series_name in series_fields or ():
        spec = _read_series(r, name, kind, series_fields, series_name, kinds, owners)
        if spec is not None:
            series.append(spec)
    return SourceSpec(name, kind, interval, timeout, tuple(series), MappingProxyType(options))


def _read_series(r: Reader, source: str, source_type: str, parent: Fields, name: str,
                 kinds: dict[str, Kind], owners: dict[str, tuple[str, int]]) -> SeriesSpec | None:
    key_node = parent.key_node(name)
    path = parent.at(name)
    if not _SERIES_NAME.fullmatch(name):
        r.error(key_node, path, f'expected a series name made of letters, digits and _ '
                f'(not starting with a digit), got "{name}"')
    elif name in FORMULA_FUNCTIONS:
        r.error(key_node, path, f'"{name}" is a formula function and cannot name a series')
    elif name in owners:
        other, line = owners[name]
        r.error(key_node, path, f'series "{name}" is already defined in source "{other}" (line {line})')
        return None
    owners.setdefault(name, (source, key_node.start_mark.line + 1))
    f = r.mapping(parent.items[name][1], path, "a mapping with kind and the series' keys")
    kinds.setdefault(name, "event")
    if f is None:
        return None
    kind = f.choice("kind", ("event", "gauge"))
    if kind in ("event", "gauge"):
        kinds[name] = kind
    options = read_series_options(source_type, f, ("kind", "unit", "scale", "description"))
    if source_type not in SOURCE_TYPES:
        f.check_keys(f.items, required=("kind",))
    return SeriesSpec(name, kind, f.str("unit"), f.number("scale", 1.0), source,
                      MappingProxyType(options), f.str("description", ""))


# --- KPIs

_KPI_KEYS = ("id", "name", "objective", "formula", "period", "format", "direction", "target",
             "compare", "pace", "stale_after", "owner", "tags", "alerts")
_COMPARES = ("previous_period", "same_period_last_year")


def _read_kpis(r: Reader, node: Any, kinds: Mapping[str, Kind], notifiers: Mapping[str, NotifierSpec],
               alerts: list[AlertRule]) -> tuple[tuple[KpiSpec, ...], dict[str, Any]]:
    items = r.sequence(node, "kpis", "a list of KPIs")
    kpis: list[KpiSpec] = []
    ids: dict[str, Any] = {}
    for index, item in enumerate(items or ()):
        kpi = _read_kpi(r, item, join("kpis", index), kinds, ids)
        if kpi is not None:
            kpis.append(kpi)
            fields = r.mapping(item, join("kpis", index))
            if fields is not None and isinstance(kpi.id, str):
                alerts += read_alerts(fields, kpi.id, notifiers)
    return tuple(kpis), ids


def _read_kpi(r: Reader, node: Any, path: str, kinds: Mapping[str, Kind],
              ids: dict[str, Any]) -> KpiSpec | None:
    f = r.mapping(node, path, "a mapping with id, formula and period")
    if f is None:
        return None
    f.check_keys(_KPI_KEYS, required=("id", "formula", "period"))
    kpi_id = f.str("id")
    id_node = f.node_of("id")
    if isinstance(kpi_id, str):
        if not _KPI_ID.fullmatch(kpi_id):
            kpi_id = r.expected(id_node, f.at("id"), "an id of lower-case letters, digits, _ and - "
                                "(starting with a letter or digit)")
        elif kpi_id in ids:
            first = ids[kpi_id].start_mark.line + 1
            r.error(id_node, f.at("id"), f'duplicate KPI id "{kpi_id}" (first at line {first})')
            kpi_id = BAD
        else:
            ids[kpi_id] = id_node
    formula = f.value("formula", None, lambda n, p: _read_formula(r, f, n, p, kinds))
    period = f.value("period", None, lambda n, p: _read_period(r, f, n, p))
    spec = KpiSpec(
        id=kpi_id,
        name=f.str("name", kpi_id),
        formula=formula,
        period=period,
        objective=f.str("objective", ""),
        format=f.value("format", FormatSpec(), lambda n, p: _read_format(r, n, p)),
        direction=f.choice("direction", ("up", "down"), "up"),
        target=f.value("target", None, lambda n, p: _read_target(r, n, p)),
        compare=f.choice("compare", _COMPARES, "previous_period"),
        pace=f.choice("pace", ("linear", "none"), "none"),
        stale_after=f.duration("stale_after"),
        owner=f.str("owner", ""),
        tags=f.str_list("tags"),
    )
    return spec


def _read_formula(r: Reader, f: Fields, node: Any, path: str, kinds: Mapping[str, Kind]) -> Any:
    text = f.reader_str(node, path)
    if text is BAD:
        return BAD
    try:
        return parse_formula(text, kinds)
    except FormulaError as exc:
        r.error(node, path, exc.message, offset=exc.offset if text == node.value else None)
        return BAD


def _read_period(r: Reader, f: Fields, node: Any, path: str) -> Any:
    text = f.reader_str(node, path)
    if text is BAD:
        return BAD
    try:
        return parse_period(text)
    except ValueError as exc:
        if text == node.value:
            r.error(node, path, str(exc))
            return BAD
        return r.expected(node, path, "a period: day, week, month, quarter, year, fiscal_quarter, "
                          "fiscal_year or rolling:<N>m|h|d")


_STYLES = ("number", "integer", "percent", "currency", "duration", "bytes")


def _read_format(r: Reader, node: Any, path: str) -> Any:
    if isinstance(node, ScalarNode):
        text = r.interpolate(node, path)
        if text in _STYLES:
            return FormatSpec(style=text)
        return BAD if text is BAD else r.expected(
            node, path, f"a format mapping or a style ({', '.join(_STYLES)})", did_you_mean(text, _STYLES))
    f = r.mapping(node, path, "a format mapping")
    if f is None:
        return BAD
    f.check_keys(("style", "decimals", "currency", "compact", "unit"))
    style = f.choice("style", _STYLES, "number")
    currency = f.str("currency")
    if isinstance(currency, str):
        if re.fullmatch(r"[A-Za-z]{3}", currency):
            currency = currency.upper()
        else:
            currency = r.expected(f.node_of("currency"), f.at("currency"),
                                  "a 3-letter ISO 4217 currency code like EUR or USD")
    elif currency is None and style == "currency":
        r.error(f.node, path, 'style currency needs "currency": a 3-letter code like EUR')
    return FormatSpec(style=style, decimals=f.int("decimals", None, low=0, high=12),
                      currency=currency, compact=f.bool("compact", False), unit=f.str("unit"))


_TARGET_KEYS = ("value", "schedule", "default", "growth", "vs", "low", "high", "mode", "at_risk")
_MODES = ("reach", "stay_above", "stay_below", "range")


def _read_target(r: Reader, node: Any, path: str) -> Any:
    if isinstance(node, ScalarNode):
        value = r.scalar(node, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return TargetSpec(value=float(value))
        return BAD if value is BAD else r.expected(node, path, "a number or a target mapping")
    f = r.mapping(node, path, "a number or a target mapping")
    if f is None:
        return BAD
    f.check_keys(_TARGET_KEYS)
    chosen = [key for key in ("value", "schedule", "growth") if key in f]
    ranged = "low" in f or "high" in f
    if ranged:
        chosen.append("low/high")
    if len(chosen) != 1:
        found = "none" if not chosen else " and ".join(chosen)
        r.error(f.node, path, f"expected exactly one of value, schedule, growth or low/high, got {found}")
    mode = f.choice("mode", _MODES, "range" if ranged else "reach")
    low, high = f.number("low"), f.number("high")
    if ranged and mode != "range" and mode is not BAD:
        r.error(f.node_of("mode") or f.node, f.at("mode"), f'low/high need mode range, got "{mode}"')
    if mode == "range":
        for key, bound in (("low", low), ("high", high)):
            if bound is None:
                r.error(f.node, path, f'missing required key "{key}" (mode range)')
        if isinstance(low, float) and isinstance(high, float) and low > high:
            r.error(f.node_of("low"), f.at("low"), f"low ({low:g}) is greater than high ({high:g})")
    for key, needs in (("default", "schedule"), ("vs", "growth")):
        if key in f and needs not in f:
            r.error(f.key_node(key), f.at(key), f'"{key}" only goes with "{needs}"')
    schedule, default = f.value("schedule", ((), None), lambda n, p: _schedule(r, n, p))
    if "default" in f:
        default = f.number("default")
    return TargetSpec(
        mode=mode, value=f.number("value"), schedule=schedule, default=default,
        growth=f.number("growth"), vs=f.choice("vs", _COMPARES, "previous_period"), low=low, high=high,
        at_risk=f.number("at_risk", None, low=0, high=1, open_low=True, open_high=True),
    )


def _schedule(r: Reader, node: Any, path: str) -> tuple[Any, Any]:
    """Per-period targets and the `default` among them."""
    f = r.mapping(node, path, 'a mapping of periods to targets, like "2026-12": 100')
    if f is None:
        return BAD, BAD
    entries = []
    for label in f:
        if label == "default":
            continue
        if not _SCHEDULE_LABEL.fullmatch(label) or not _valid_day(label):
            r.error(f.key_node(label), f.at(label), f'expected a period label like 2026, 2026-Q4, '
                    f'2026-12, 2026-W49 or 2026-12-04, got "{label}"')
        entries.append((label, f.number(label)))
    if not entries:
        r.error(f.node, path, 'expected at least one period target, like "2026-12": 100')
    return tuple(entries), f.number("default")


def _valid_day(label: str) -> bool:
    if len(label) != 10:
        return True
    from datetime import date

    try:
        date.fromisoformat(label)
    except ValueError:
        return False
    return True


# --- alerts and notifiers

def _read_notifiers(r: Reader, node: Any) -> dict[str, NotifierSpec]:
    f = r.mapping(node, "notifiers", "a mapping of notifier names to notifiers")
    notifiers: dict[str, NotifierSpec] = {}
    for name in f or ():
        path = f.at(name)  # type: ignore[union-attr]
        if not _SOURCE_NAME.fullmatch(name):
            r.error(f.key_node(name), path, f'expected a notifier name made of letters, digits, '  # type: ignore[union-attr]
                    f'_ . and -, got "{name}"')
        spec = _read_notifier(r, name, f.items[name][1], path)  # type: ignore[union-attr]
        if spec is not None:
            notifiers[name] = spec
    return notifiers


def _read_notifier(r: Reader, name: str, node: Any, path: str) -> NotifierSpec | None:
    f = r.mapping(node, path, f"a mapping with type ({', '.join(NOTIFIER_TYPES)})")
    if f is None:
        return None
    kind = f.choice("type", NOTIFIER_TYPES)
    options: dict[str, Any] = {}
    if kind == "webhook":
        f.check_keys(("type", "url", "headers", "timeout", "retries", "backoff"), required=("type", "url"))
        options = {"url": _url(f), "headers": f.str_map("headers"), "timeout": f.duration("timeout", 10.0),
                   "retries": f.int("retries", 3, low=0, high=10), "backoff": f.duration("backoff", 1.0)}
    elif kind == "command":
        f.check_keys(("type", "command", "timeout"), required=("type", "command"))
        options = {"command": _argv(f), "timeout": f.duration("timeout", 10.0)}
    elif kind == "bell":
        f.check_keys(("type",))
    else:
        f.check_keys(("type", "url", "headers", "timeout", "retries", "backoff", "command"), required=("type",))
    if kind is BAD or kind is None:  # reported; named still, so alerts naming it are not errors too
        return NotifierSpec(name, "")
    return NotifierSpec(name, kind, MappingProxyType(options))


def _argv(f: Fields) -> Any:
    def read(node: Node, path: str) -> Any:
        items = f.reader.sequence(node, path, "a list like [notify-send, KPI] (no shell)")
        if items is None:
            return BAD
        if not items:
            return f.reader.expected(node, path, "a non-empty list of texts")
        argv = tuple(f.reader_str(item, join(path, i)) for i, item in enumerate(items))
        return BAD if BAD in argv else argv
    return f.value("command", None, read)


def _hold(r: Reader, node: Any, path: str) -> Any:
    """`for`: a duration, or 0 for at once."""
    value = r.scalar(node, path)
    if value is BAD:
        return BAD
    if value == 0 and not isinstance(value, bool) or value in ("0", "0s"):
        return 0.0
    try:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return parse_duration(value)
    except ValueError:
        pass
    return r.expected(node, path, "a duration like 30s, 10m or 1h (or 0 for at once)")


def read_alerts(kpi: Fields, kpi_id: str, notifiers: Mapping[str, NotifierSpec]) -> list[AlertRule]:
    """The `alerts:` of one KPI mapping, checked against the notifiers defined."""
    r = kpi.reader
    items = r.sequence(kpi.node_of("alerts"), kpi.at("alerts"), "a list of alerts")
    rules = []
    for index, item in enumerate(items or ()):
        path = join(kpi.at("alerts"), index)
        f = r.mapping(item, path, "an alert mapping like {when: off_track, for: 10m, notify: [team]}")
        if f is None:
            continue
        f.check_keys(("when", "above", "below", "for", "notify"))
        given = [key for key in ("when", "above", "below") if key in f]
        if len(given) != 1:
            found = "none" if not given else " and ".join(given)
            r.error(f.node, path, f"expected exactly one of when, above or below, got {found}")
            continue
        when, threshold = _condition(f, given[0])
        hold = f.value("for", 0.0, lambda n, p: _hold(r, n, p))
        names = []
        for position, name_node in enumerate(r.sequence(f.node_of("notify"), f.at("notify"),
                                                        "a list of notifier names") or ()):
            name_path = join(f.at("notify"), position)
            name = f.reader_str(name_node, name_path)
            if name is BAD:
                continue
            if name not in notifiers:
                known = f" (defined: {', '.join(notifiers)})" if notifiers else " (no notifiers are defined)"
                hint = did_you_mean(name, notifiers) or known
                r.error(name_node, name_path, f'unknown notifier "{name}"{hint}')
            else:
                names.append(name)
        if BAD not in (when, threshold, hold):
            rules.append(AlertRule(kpi_id, index, when, threshold, hold, tuple(names)))
    return rules


def _condition(f: Fields, key: str) -> tuple[Any, Any]:
    """The condition and threshold of an alert: `when: off_track`, `when: {above: 5}`, `above: 5`."""
    r = f.reader
    if key in ("above", "below"):
        number = f.number(key)
        return (key, number) if number is not None else (r.expected(f.items[key][1], f.at(key), "a number"), BAD)
    node = f.node_of("when")
    if node is None:
        return r.expected(f.items["when"][1], f.at("when"), "a condition"), BAD
    statuses = [c for c in CONDITIONS if c not in ("above", "below")]
    what = f"{', '.join(statuses)}, or a mapping {{above: X}} or {{below: X}}"
    if isinstance(node, ScalarNode):
        text = f.reader_str(node, f.at("when"))
        if text is BAD or text in statuses:
            return text, None
        return r.expected(node, f.at("when"), what, did_you_mean(text, CONDITIONS)), BAD
    inner = r.mapping(node, f.at("when"), what)
    if inner is None:
        return BAD, BAD
    inner.check_keys(("above", "below"))
    if len(inner.items) != 1 or next(iter(inner.items)) not in ("above", "below"):
        if len(inner.items) != 1:
            r.error(node, f.at("when"), "expected exactly one of above or below")
        return BAD, BAD
    kind = next(iter(inner.items))
    number = inner.number(kind)
    if number is None:
        return r.expected(inner.items[kind][1], inner.at(kind), "a number"), BAD
    return kind, number


# --- dashboards

def _read_dashboards(r: Reader, top: Fields, ids: Mapping[str, Any],
                     kpis: tuple[KpiSpec, ...]) -> tuple[DashboardSpec, ...]:
    node = top.node_of("dashboards")
    if node is None:
        return (DashboardSpec("KPIs", tuple(kpi.id for kpi in kpis)),)
    items = r.sequence(node, "dashboards", "a list of dashboards")
    names: dict[str, int] = {}
    boards = []
    for index, item in enumerate(items or ()):
        path = join("dashboards", index)
        f = r.mapping(item, path, "a mapping with name and kpis")
        if f is None:
            continue
        f.check_keys(("name", "kpis", "columns"), required=("name", "kpis"))
        name = f.str("name")
        if isinstance(name, str):
            if name in names:
                r.error(f.node_of("name"), f.at("name"), f'duplicate dashboard name "{name}" '
                        f"(first at line {names[name]})")
            names.setdefault(name, f.node_of("name").start_mark.line + 1)
        listed: list[str] = []
        for position, kpi_node in enumerate(r.sequence(f.node_of("kpis"), f.at("kpis"), "a list of KPI ids") or ()):
            kpi_path = join(f.at("kpis"), position)
            kpi_id = f.reader_str(kpi_node, kpi_path)
            if kpi_id is BAD:
                continue
            if kpi_id not in ids:
                r.error(kpi_node, kpi_path, f'unknown KPI "{kpi_id}"{did_you_mean(kpi_id, ids)}')
            elif kpi_id in listed:
                r.error(kpi_node, kpi_path, f'KPI "{kpi_id}" is listed twice')
            else:
                listed.append(kpi_id)
        boards.append(DashboardSpec(name, tuple(listed), f.int("columns", None, low=1, high=12)))
    return tuple(boards)


# --- source types: their own source keys and series keys

DAY = 86400.0
SOURCE_TYPES = ("demo", "http", "prometheus", "command", "file", "sqlite", "manual")


def read_source_options(kind: str, f: Fields, common: tuple[str, ...]) -> dict[str, Any]:
    """Check a source's keys for its type and read the type's own keys."""
    keys, required, read, _, _, _ = _TYPES[kind]
    why = {"interval": "a manual source has no interval: its values are entered by hand or pushed"}
    f.check_keys(common + keys, required=("type", "series", *required), why=why)
    return read(f)


def read_series_options(kind: str, f: Fields, common: tuple[str, ...]) -> dict[str, Any]:
    """Check a series' keys for its source's type and read the type's own keys."""
    if kind not in _TYPES:
        return {}
    _, _, _, keys, required, read = _TYPES[kind]
    f.check_keys(common + keys, required=("kind", *required))
    return read(f)


def _demo(f: Fields) -> dict[str, Any]:
    return {"seed": f.int("seed", 0), "backfill": f.duration("backfill", 35 * DAY)}


def _demo_series(f: Fields) -> dict[str, Any]:
    share = {"low": 0.0, "high": 1.0}
    return {"base": f.number("base"), "trend": f.number("trend", 0.0),
            "weekly": f.number("weekly", 0.0, **share), "daily": f.number("daily", 0.0, **share),
            "noise": f.number("noise", 0.1, **share)}


def _http(f: Fields) -> dict[str, Any]:
    return {"url": _url(f), "method": f.choice("method", ("GET", "POST"), "GET"),
            "headers": f.str_map("headers"), "params": f.str_map("params", numbers=True),
            "json": f.value("json", None, f.reader.plain), "auth": f.value("auth", None, _auth(f)),
            "verify": _verify(f), "follow_redirects": f.bool("follow_redirects", True),
            "max_redirects": f.int("max_redirects", 5, low=0),
            "max_bytes": f.int("max_bytes", 10_000_000, low=1)}


def _prometheus(f: Fields) -> dict[str, Any]:
    return {"url": _url(f), "headers": f.str_map("headers"), "backfill": f.duration("backfill"),
            "step": f.duration("step"), "verify": _verify(f)}


def _command(f: Fields) -> dict[str, Any]:
    shell = f.bool("shell", False)

    def read(node: Node, path: str) -> Any:
        if isinstance(node, ScalarNode):
            if shell is True:
                return f.reader_str(node, path)
            return f.reader.expected(node, path, "a list like [df, -h] (a text needs shell: true)")
        items = f.reader.sequence(node, path, "a list of texts")
        if items is None:
            return BAD
        if not items:
            return f.reader.expected(node, path, "a non-empty list of texts")
        return tuple(f.reader_str(item, join(path, i)) for i, item in enumerate(items))

    return {"command": f.value("command", None, read), "shell": shell, "cwd": f.path_value("cwd"),
            "env": f.str_map("env")}


def _command_series(f: Fields) -> dict[str, Any]:
    given = [key for key in ("regex", "path") if key in f]
    if len(given) != 1:
        f.reader.error(f.node, f.path, "expected exactly one of regex or path, got "
                       + (" and ".join(given) if given else "neither"))
    return {"regex": _regex(f, "regex"), "path": _jmespath(f, "path")}


def _file(f: Fields) -> dict[str, Any]:
    path = f.path_value("path")
    formats = ("csv", "json", "jsonl")
    fmt = f.choice("format", formats)
    if fmt is None and isinstance(path, Path):
        fmt = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(path.suffix.lower())
        if fmt is None:
            f.reader.error(f.node_of("path"), f.at("path"), f'cannot tell the format of "{path.name}" '
                           "from its extension: add format: csv, json or jsonl")
    return {"path": path, "format": fmt}


def _file_series(f: Fields) -> dict[str, Any]:
    return {"value_column": f.str("value_column"), "time_column": f.str("time_column"),
            "time_format": f.str("time_format")}


_TYPES: dict[str, tuple[Any, ...]] = {
    "demo": (("seed", "backfill"), (), _demo,
             ("base", "trend", "weekly", "daily", "noise"), ("base",), _demo_series),
    "http": (("url", "method", "headers", "params", "json", "auth", "verify", "follow_redirects",
              "max_redirects", "max_bytes"), ("url",), _http,
             ("path", "time_path"), ("path",),
             lambda f: {"path": _jmespath(f, "path"), "time_path": _jmespath(f, "time_path")}),
    "prometheus": (("url", "headers", "backfill", "step", "verify"), ("url",), _prometheus,
                   ("query",), ("query",), lambda f: {"query": f.str("query")}),
    "command": (("command", "shell", "cwd", "env"), ("command",), _command,
                ("regex", "path"), (), _command_series),
    "file": (("path", "format"), ("path",), _file,
             ("value_column", "time_column", "time_format"), ("value_column", "time_column"), _file_series),
    "sqlite": (("path",), ("path",), lambda f: {"path": f.path_value("path")},
               ("query",), ("query",), lambda f: {"query": f.str("query")}),
    "manual": ((), (), lambda f: {}, (), (), lambda f: {}),
}


def _url(f: Fields) -> Any:
    def read(node: Node, path: str) -> Any:
        from urllib.parse import urlsplit

        text = f.reader_str(node, path)
        if text is BAD:
            return BAD
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f.reader.expected(node, path, "an http:// or https:// URL")
        return text
    return f.value("url", None, read)


def _verify(f: Fields) -> Any:
    def read(node: Node, path: str) -> Any:
        value = f.reader.scalar(node, path)
        if isinstance(value, bool) or value is BAD:
            return value
        if isinstance(value, str) and value:
            return f.reader.base_dir / Path(value).expanduser()
        return f.reader.expected(node, path, "true, false or the path of a CA bundle")
    return f.value("verify", True, read)


def _auth(parent: Fields) -> Any:
    def read(node: Node, path: str) -> Any:
        r = parent.reader
        f = r.mapping(node, path, "a mapping with bearer or basic")
        if f is None:
            return BAD
        f.check_keys(("bearer", "basic"))
        if ("bearer" in f) == ("basic" in f):
            got = "both" if "bearer" in f else "neither"
            r.error(node, path, f"expected exactly one of bearer or basic, got {got}")
            return BAD
        if "bearer" in f:
            return MappingProxyType({"bearer": f.str("bearer")})
        basic = r.mapping(f.node_of("basic"), f.at("basic"), "a mapping with username and password")
        if basic is None:
            return BAD
        basic.check_keys(("username", "password"), required=("username", "password"))
        return MappingProxyType({"basic": MappingProxyType(
            {"username": basic.str("username"), "password": basic.str("password")})})
    return read


def _regex(f: Fields, key: str) -> Any:
    def read(node: Node, path: str) -> Any:
        text = f.reader_str(node, path)
        if text is BAD:
            return BAD
        try:
            pattern = re.compile(text)
        except re.error as exc:
            offset = exc.pos if exc.pos is not None and text == node.value else None
            f.reader.error(node, path, f"invalid regular expression: {exc.msg}", offset=offset)
            return BAD
        if pattern.groups > 1:
            return f.reader.expected(node, path, "a regular expression with at most one capture "
                                     "group (use (?:...) for the others)", f" ({pattern.groups} groups)")
        return pattern
    return f.value(key, None, read)


def _jmespath(f: Fields, key: str) -> Any:
    def read(node: Node, path: str) -> Any:
        text = f.reader_str(node, path)
        if text is BAD:
            return BAD
        try:
            return jmespath.compile(text)
        except jmespath.exceptions.JMESPathError as exc:
            message = getattr(exc, "message", None) or getattr(exc, "msg", None) or "empty expression"
            if isinstance(exc, jmespath.exceptions.IncompleteExpressionError):
                message = "the expression ends too early"
            offset = getattr(exc, "lex_position", None)
            f.reader.error(node, path, f"invalid JMESPath: {message}",
                           offset=offset if text == node.value else None)
            return BAD
    return f.value(key, None, read)
