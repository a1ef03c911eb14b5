"""KPI alerts: rules, their remembered state, and the pure step that fires and resolves them.

An `AlertRule` says when a KPI deserves attention (`off_track`, `at_risk`, `goal_reached`,
`stale`, `error`, `above X`, `below X`), for how long the condition must hold, and whom to
tell. `step` takes the rules, the KPIs' current `KpiState`s, what is remembered of each
rule (`AlertMemory`) and the time, and returns the new memory and the `AlertEvent`s to
send: a rule fires once when its condition has held for `hold` seconds and resolves once
when it stops holding. Nothing here does I/O or reads a clock; the collector persists the
memory and the events in the store and hands the events to `kputui.notify`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from kputui.durations import format_duration

if TYPE_CHECKING:
    from kputui.kpi.state import KpiState

__all__ = [
    "CONDITIONS",
    "NOTIFIER_TYPES",
    "AlertEvent",
    "AlertMemory",
    "AlertRule",
    "NotifierSpec",
    "holds",
    "step",
]

CONDITIONS = ("off_track", "at_risk", "goal_reached", "stale", "error", "above", "below")
"""What an alert's `when` can say; `above` and `below` take a threshold."""
NOTIFIER_TYPES = ("bell", "webhook", "command")

EventKind = Literal["fired", "resolved"]


@dataclass(frozen=True, slots=True)
class NotifierSpec:
    """A named way to tell someone, from the config's top-level `notifiers:`."""

    name: str
    type: str
    """bell, webhook or command."""
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """webhook: url, headers, timeout, retries, backoff; command: command, timeout."""


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One entry of a KPI's `alerts:` list."""

    kpi_id: str
    index: int
    """Position in the KPI's list (part of the rule's identity)."""
    when: str
    """One of `CONDITIONS`."""
    threshold: float | None = None
    """The number of `above` / `below`."""
    hold: float = 0.0
    """Seconds the condition must hold before the alert fires (`for`)."""
    notify: tuple[str, ...] = ()
    """Notifier names; the in-app notification is always on."""

    @property
    def key(self) -> str:
        """Identity of the rule in the store: a changed rule starts afresh."""
        condition = self.when if self.threshold is None else f"{self.when}:{self.threshold:g}"
        return f"{self.kpi_id}/{self.index}/{condition}/{self.hold:g}"

    def describe(self) -> str:
        """The condition in words: `off track`, `above 100`, `off track for 10m`."""
        text = self.when.replace("_", " ")
        if self.threshold is not None:
            text += f" {self.threshold:g}"
        if self.hold > 0:
            text += f" for {format_duration(self.hold)}"
        return text


@dataclass(frozen=True, slots=True)
class AlertMemory:
    """What is remembered of one rule between evaluations (and restarts)."""

    since: float | None = None
    """When the condition started holding; None while it does not."""
    firing: bool = False
    """Whether the alert has fired and not yet resolved."""
    changed_at: float | None = None
    """When it last fired or resolved."""

    def to_doc(self) -> dict[str, Any]:
        return {"since": self.since, "firing": self.firing, "changed_at": self.changed_at}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> AlertMemory:
        def number(key: str) -> float | None:
            value = doc.get(key)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        return cls(number("since"), bool(doc.get("firing")), number("changed_at"))


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert that fired or resolved: what the notifiers and the in-app notice tell."""

    kind: EventKind
    rule_key: str
    kpi_id: str
    kpi_name: str
    condition: str
    """The rule's condition in words (`AlertRule.describe`)."""
    at: float
    """Unix time of the evaluation that found it."""
    status: str
    state: Mapping[str, Any]
    """The KPI's `KpiState.to_json()` at that moment."""
    notify: tuple[str, ...] = ()
    seq: int = 0
    """Position in the store's event log (set by the store, from 1); 0 before."""

    @property
    def text(self) -> str:
        """One line for a person (the webhook's Slack-compatible `text`)."""
        value = self.state.get("formatted") or "—"
        if self.kind == "fired":
            return f"ALERT {self.kpi_name}: {self.condition} (value {value}, status {self.status})"
        return f"RESOLVED {self.kpi_name}: no longer {self.condition} (value {value}, status {self.status})"

    @property
    def severity(self) -> str:
        """`warning` for a fired alert, `information` for a resolution (Textual's words)."""
        return "warning" if self.kind == "fired" else "information"

    def payload(self) -> dict[str, Any]:
        """The JSON a webhook posts and a command reads: the KPI state, `text`, `alert`."""
        body = dict(self.state)
        body["text"] = self.text
        body["alert"] = {
            "event": self.kind,
            "rule": self.rule_key,
            "condition": self.condition,
            "at": datetime.fromtimestamp(self.at, timezone.utc).isoformat(),
        }
        return body

    def to_doc(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "rule": self.rule_key, "kpi": self.kpi_id, "name": self.kpi_name,
            "condition": self.condition, "at": self.at, "status": self.status,
            "state": dict(self.state), "notify": list(self.notify), "seq": self.seq,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> AlertEvent:
        kind = doc["kind"]
        if kind not in ("fired", "resolved"):
            raise ValueError(f"unknown alert event {kind!r}")
        return cls(kind, str(doc["rule"]), str(doc["kpi"]), str(doc["name"]), str(doc["condition"]),
                   float(doc["at"]), str(doc["status"]), MappingProxyType(dict(doc.get("state") or {})),
                   tuple(str(n) for n in doc.get("notify") or ()), int(doc.get("seq") or 0))


def holds(rule: AlertRule, state: KpiState) -> bool:
    """Whether `rule`'s condition is true of `state`.

    `goal_reached` means the value meets the target: at or above it (direction up) or at
    or below it (down), inside low..high for a range target.
    """
    value = state.value
    usable = value is not None and math.isfinite(value)
    if rule.when == "above":
        return usable and rule.threshold is not None and value > rule.threshold  # type: ignore[operator]
    if rule.when == "below":
        return usable and rule.threshold is not None and value < rule.threshold  # type: ignore[operator]
    if rule.when == "goal_reached":
        if not usable or state.status in ("stale", "error", "no_data"):
            return False
        if state.target_mode == "range":
            low, high = state.target_low, state.target_high
            return low is not None and high is not None and low <= value <= high  # type: ignore[operator]
        if state.target is None:
            return False
        return value >= state.target if state.direction != "down" else value <= state.target  # type: ignore[operator]
    return state.status == rule.when


def step(
    rules: Iterable[AlertRule],
    states: Mapping[str, KpiState],
    memory: Mapping[str, AlertMemory],
    now: float,
) -> tuple[dict[str, AlertMemory], list[AlertEvent]]:
    """Advance every rule to `now`; return the whole new memory and the events to send.

    A rule whose KPI has no state this time keeps its memory untouched. Memory of rules
    no longer configured is dropped (without a resolution).
    """
    new: dict[str, AlertMemory] = {}
    events: list[AlertEvent] = []
    for rule in rules:
        old = memory.get(rule.key, AlertMemory())
        state = states.get(rule.kpi_id)
        if state is None:
            new[rule.key] = old
            continue
        if holds(rule, state):
            since = old.since if old.since is not None else now
            if not old.firing and now - since >= rule.hold:
                new[rule.key] = AlertMemory(since, True, now)
                events.append(_event("fired", rule, state, now))
            else:
                new[rule.key] = AlertMemory(since, old.firing, old.changed_at)
        elif old.firing:
            new[rule.key] = AlertMemory(None, False, now)
            events.append(_event("resolved", rule, state, now))
        else:
            new[rule.key] = AlertMemory(None, False, old.changed_at)
    return new, events


def _event(kind: EventKind, rule: AlertRule, state: KpiState, now: float) -> AlertEvent:
    return AlertEvent(kind, rule.key, rule.kpi_id, state.name, rule.describe(), now, state.status,
                      MappingProxyType(state.to_json()), rule.notify)
