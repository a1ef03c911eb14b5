"""The KPI editor: every field of a KPI in a form, the formula checked as you type.

`ctrl+s` saves into the user's YAML file (comments and layout elsewhere survive),
`escape` cancels. A formula naming a series that does not exist yet offers to create it
as a `manual` series.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from kputui.config_edit import ConfigChangedOnDisk
from kputui.durations import parse_duration
from kputui.errors import ConfigError, FormulaError, KputuiError
from kputui.kpi import FormatSpec, KpiSpec, TargetSpec, parse_formula, parse_period

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from kputui.board import Board
    from kputui.config import Config
    from kputui.config_edit import ConfigDocument
    from kputui.ui.editing import ConfigEditing

__all__ = ["KpiEditorScreen"]

_UNKNOWN_SERIES = re.compile(r"unknown series '([A-Za-z_][A-Za-z0-9_]*)'")
PERIODS = ["day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year", "rolling:24h", "rolling:7d",
           "rolling:30d"]
STYLES = ["number", "integer", "percent", "currency", "duration", "bytes"]
MODES = ["reach", "stay_above", "stay_below", "range"]
TEXT_FIELDS = ("id", "name", "objective", "formula", "period", "owner", "tags", "stale_after", "decimals",
               "currency", "unit", "target_value", "target_low", "target_high", "at_risk")
SELECTS = {"style": STYLES, "direction": ["up", "down"], "mode": MODES, "pace": ["none", "linear"],
           "compare": ["previous_period", "same_period_last_year"]}


DEFAULTS: dict[str, Any] = {"direction": "up", "format": {"style": "number"}, "pace": None, "compare": None}
"""What a KPI means without the key: the form does not write these into a KPI that lacks them."""


def _number(text: str, what: str) -> int | float | None:
    """The number typed, as an int when it is whole (so 55 is written 55, not 55.0)."""
    text = text.strip().replace("_", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what}: expected a number, got {text!r}") from None


class KpiEditorScreen(ModalScreen[bool]):
    """Edit one KPI (or a new one); dismisses with True when the file was saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        editing: ConfigEditing,
        doc: ConfigDocument,
        config: Config,
        board: Board,
        *,
        kpi_id: str | None,
        fields: dict[str, Any],
        dashboard: str | None = None,
        after: str | None = None,
    ) -> None:
        super().__init__()
        self.editing = editing
        self.doc = doc
        self.config = config
        self.board = board
        self.kpi_id = kpi_id
        """The KPI edited, or None for a new one."""
        self.fields = fields
        self.dashboard = dashboard
        self.after = after
        self.new_series: dict[str, str] = {}
        """Manual series to create on save (name -> kind)."""
        self._missing: str | None = None
        target = fields.get("target") or {}
        self._fixed_target = not any(key in target for key in ("schedule", "growth", "default"))
        self.saved_config: Config | None = None

    def _input(self, key: str, value: Any, placeholder: str = "") -> Input:
        return Input("" if value is None else str(value), placeholder=placeholder, id=f"edit-{key}")

    def _select(self, key: str, value: Any) -> Select[str]:
        options = SELECTS[key]
        return Select([(option, option) for option in options], value=value if value in options else options[0],
                      allow_blank=False, id=f"edit-{key}")

    def compose(self) -> ComposeResult:
        f = self.fields
        fmt = f.get("format") or {}
        target = f.get("target") or {}
        title = f"Edit KPI {self.kpi_id}" if self.kpi_id else "New KPI"
        with VerticalScroll(id="editor"):
            yield Static(title, id="editor-title", markup=False)
            if self.kpi_id is None:
                yield Label("id (letters, digits, - and _)")
                yield self._input("id", f.get("id"), "e.g. churn_rate")
            yield Label("name")
            yield self._input("name", f.get("name"))
            yield Label("objective")
            yield self._input("objective", f.get("objective"), "what this KPI is for")
            yield Label("formula")
            yield self._input("formula", f.get("formula"), "e.g. sum(orders) / sum(visitors)")
            yield Static(id="editor-formula-check", markup=False)
            yield Button("Create it as a manual series", id="editor-create-series", variant="warning")
            yield Static(id="editor-preview", markup=False)
            with Horizontal(classes="editor-row"):
                with Vertical(classes="editor-cell"):
                    yield Label("period")
                    yield self._input("period", f.get("period", "month"), ", ".join(PERIODS[:4]) + ", rolling:24h")
                with Vertical(classes="editor-cell"):
                    yield Label("direction")
                    yield self._select("direction", f.get("direction", "up"))
            with Horizontal(classes="editor-row"):
                with Vertical(classes="editor-cell"):
                    yield Label("format")
                    yield self._select("style", fmt.get("style", "number"))
                with Vertical(classes="editor-cell"):
                    yield Label("decimals")
                    yield self._input("decimals", fmt.get("decimals"), "auto")
                with Vertical(classes="editor-cell"):
                    yield Label("currency / unit")
                    yield self._input("currency", fmt.get("currency"), "EUR")
                    yield self._input("unit", fmt.get("unit"), "ms")
            yield Checkbox("compact numbers (12.3k, 4.5M)", bool(fmt.get("compact")), id="edit-compact")
            if self._fixed_target:
                with Horizontal(classes="editor-row"):
                    with Vertical(classes="editor-cell"):
                        yield Label("target value")
                        yield self._input("target_value", target.get("value"), "none")
                    with Vertical(classes="editor-cell"):
                        yield Label("target mode")
                        yield self._select("mode", target.get("mode", "reach"))
                    with Vertical(classes="editor-cell"):
                        yield Label("at risk from (share)")
                        yield self._input("at_risk", target.get("at_risk"), "0.9")
                with Horizontal(classes="editor-row"):
                    with Vertical(classes="editor-cell"):
                        yield Label("range: low")
                        yield self._input("target_low", target.get("low"))
                    with Vertical(classes="editor-cell"):
                        yield Label("range: high")
                        yield self._input("target_high", target.get("high"))
            else:
                yield Static("The target uses a schedule or growth: edit it in the file.", markup=False)
            with Horizontal(classes="editor-row"):
                with Vertical(classes="editor-cell"):
                    yield Label("pace")
                    yield self._select("pace", f.get("pace", "none"))
                with Vertical(classes="editor-cell"):
                    yield Label("compare with")
                    yield self._select("compare", f.get("compare", "previous_period"))
                with Vertical(classes="editor-cell"):
                    yield Label("stale after")
                    yield self._input("stale_after", f.get("stale_after"), "e.g. 2d")
            yield Label("owner")
            yield self._input("owner", f.get("owner"))
            yield Label("tags (comma separated)")
            yield self._input("tags", ", ".join(f.get("tags") or []))
            yield Static(id="editor-errors", markup=False)
            with Horizontal(id="editor-buttons"):
                yield Button("Save  ctrl+s", variant="primary", id="editor-save")
                yield Button("Cancel  esc", id="editor-cancel")

    def on_mount(self) -> None:
        self.query_one("#editor-create-series").display = False
        self.query_one("#edit-id" if self.kpi_id is None else "#edit-name", Input).focus()
        self.check_formula()

    def _value(self, key: str) -> str:
        return self.query_one(f"#edit-{key}", Input).value.strip()

    def _choice(self, key: str) -> str:
        return str(self.query_one(f"#edit-{key}", Select).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("edit-formula", "edit-period", "edit-target_value", "edit-decimals"):
            self.check_formula()

    def on_select_changed(self) -> None:
        if self.is_mounted:
            self.check_formula()

    def check_formula(self) -> None:
        """Check the formula against the config's series and preview the KPI's value."""
        if not self.is_mounted or self.app.screen is not self:
            return
        check = self.query_one("#editor-formula-check", Static)
        preview = self.query_one("#editor-preview", Static)
        create = self.query_one("#editor-create-series", Button)
        text = self._value("formula")
        kinds = {**self.config.kinds, **self.new_series}
        self._missing = None
        create.display = False
        try:
            formula = parse_formula(text, kinds)
        except FormulaError as error:
            pointer = " " * error.offset + "^"
            check.update(Text(f"{text}\n{pointer} {error.message}", style="bold"))
            check.set_class(True, "-error")
            missing = _UNKNOWN_SERIES.search(error.message)
            if missing:
                self._missing = missing.group(1)
                create.label = f"Create {self._missing!r} as a manual series"
                create.display = True
            preview.update("")
            return
        check.update(Text(f"✔ reads {', '.join(sorted(formula.series))}"))
        check.set_class(False, "-error")
        try:
            spec = self._spec(formula)
        except ValueError as error:
            preview.update(Text(str(error)))
            return
        state = self.board.evaluate_kpi(spec, self.board.clock())
        preview.update(Text(f"preview: {state.formatted} ({state.period_label}) · {state.reason}"))

    def _spec(self, formula) -> KpiSpec:
        """A KpiSpec of what the form says, for the preview."""
        try:
            period = parse_period(self._value("period") or "month")
        except ValueError as error:
            raise ValueError(f"period: {error}") from None
        decimals = self._value("decimals")
        fmt = FormatSpec(style=self._choice("style"), decimals=int(decimals) if decimals.isdigit() else None,
                         currency=self._value("currency") or None, unit=self._value("unit") or None,
                         compact=self.query_one("#edit-compact", Checkbox).value)
        target = None
        if self._fixed_target:
            value = _number(self._value("target_value"), "target value")
            if value is not None:
                target = TargetSpec(mode=self._choice("mode"), value=value)
        return KpiSpec(id=self._value("id") if self.kpi_id is None else self.kpi_id, name=self._value("name"),
                       formula=formula, period=period, format=fmt, direction=self._choice("direction"),
                       target=target, pace=self._choice("pace"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "editor-save":
            self.action_save()
        elif event.button.id == "editor-cancel":
            self.action_cancel()
        elif event.button.id == "editor-create-series" and self._missing:
            self.new_series[self._missing] = "event"
            self.notify(f"{self._missing} will be created as a manual event series when you save", markup=False)
            self.check_formula()

    def collect(self) -> dict[str, Any]:
        """The form as KPI fields for the file (None removes a key)."""
        tags = [tag.strip() for tag in self._value("tags").split(",") if tag.strip()]
        stale = self._value("stale_after")
        if stale:
            parse_duration(stale)
        decimals = self._value("decimals")
        if decimals and not decimals.isdigit():
            raise ValueError(f"decimals: expected a whole number, got {decimals!r}")
        fmt = {
            "style": self._choice("style"),
            "decimals": int(decimals) if decimals else None,
            "currency": self._value("currency") or None,
            "unit": self._value("unit") or None,
            "compact": True if self.query_one("#edit-compact", Checkbox).value else None,
        }
        fields: dict[str, Any] = {
            "name": self._value("name") or None,
            "objective": self._value("objective") or None,
            "formula": self._value("formula"),
            "period": self._value("period") or None,
            "format": {key: value for key, value in fmt.items() if value is not None},
            "direction": self._choice("direction"),
            "pace": None if self._choice("pace") == "none" else self._choice("pace"),
            "compare": None if self._choice("compare") == "previous_period" else self._choice("compare"),
            "stale_after": stale or None,
            "owner": self._value("owner") or None,
            "tags": tags or None,
        }
        if self.kpi_id is None:
            fields["id"] = self._value("id")
        if self._fixed_target:
            value = _number(self._value("target_value"), "target value")
            low = _number(self._value("target_low"), "range: low")
            high = _number(self._value("target_high"), "range: high")
            at_risk = _number(self._value("at_risk"), "at risk")
            mode = self._choice("mode")
            target = {"value": value, "low": low, "high": high, "mode": mode, "at_risk": at_risk}
            target = {key: v for key, v in target.items() if v is not None}
            fields["target"] = target if set(target) - {"mode"} else None
        # Keys the KPI did not have stay out unless the form sets something beyond the default.
        for key in [key for key in fields if key not in self.fields]:
            if fields[key] is None or fields[key] == DEFAULTS.get(key):
                del fields[key]
        return fields

    def action_save(self) -> None:
        errors = self.query_one("#editor-errors", Static)
        try:
            fields = self.collect()
            self.saved_config = self.editing.save_kpi(
                self.doc, self.kpi_id, fields, new_series=self.new_series, dashboard=self.dashboard, after=self.after
            )
        except ValueError as error:
            errors.update(Text(str(error)))
            return
        except ConfigError as error:
            errors.update(Text("\n".join(str(issue) for issue in error.issues[:6])))
            return
        except ConfigChangedOnDisk as error:
            errors.update(Text(f"{error}\nNothing was saved. Press escape: the dashboard reloads the file, "
                               "then edit again."))
            return
        except KputuiError as error:
            errors.update(Text(str(error)))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
