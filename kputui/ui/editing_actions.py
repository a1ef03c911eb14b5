"""The dashboard's editing keys: edit, add, delete and move KPIs, type manual values.

A mixin of `KputuiApp`, kept apart so the app itself only wires things together. The
screens collect what the person typed; `ConfigEditing` writes the file; the app shows
the config that comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kputui.errors import ConfigError, KputuiError
from kputui.series import Sample

if TYPE_CHECKING:
    from kputui.config import Config
    from kputui.config_edit import ConfigDocument
    from kputui.ui.app import KputuiApp
    from kputui.ui.screens.manual_value import ManualEntry

    _Base = KputuiApp
else:
    _Base = object

__all__ = ["EditingActions"]


class EditingActions(_Base):
    """Actions behind e, a, d, [, ] and v."""

    def _document(self) -> ConfigDocument | None:
        if self.editing is None:
            self.notify("this config has no file to edit", severity="warning")
            return None
        try:
            doc = self.editing.document()
        except (OSError, KputuiError) as error:
            self.notify(str(error), title="Cannot edit", severity="error", markup=False)
            return None
        if self.editing.notice:
            self.notify(self.editing.notice, timeout=8, markup=False)
            self.editing.notice = ""
        return doc

    def _open_editor(self, kpi_id: str | None, fields: dict, doc: ConfigDocument, after: str | None) -> None:
        from kputui.ui.screens.editor import KpiEditorScreen

        dashboard = self.config.dashboards[self.dashboard.active_index].name
        editor = KpiEditorScreen(self.editing, doc, self.config, self.board, kpi_id=kpi_id, fields=fields,
                                 dashboard=dashboard, after=after)

        def done(saved: bool | None) -> None:
            if saved and editor.saved_config is not None:
                focus = kpi_id or fields.get("id") or editor.collect().get("id")
                self.apply_config(editor.saved_config, focus=focus)
                self.notify("saved", timeout=2)

        self.push_screen(editor, done)

    def action_edit_kpi(self) -> None:
        from kputui.config_edit import kpi_fields

        kpi_id = self._focused_kpi()
        doc = self._document() if kpi_id else None
        if kpi_id is None or doc is None:
            return
        self._open_editor(kpi_id, kpi_fields(doc, kpi_id), doc, None)

    def action_add_kpi(self) -> None:
        doc = self._document()
        if doc is not None:
            self._open_editor(None, {"period": "month", "direction": "up"}, doc, self._focused_kpi())

    def _save_edit(self, change: Callable[[ConfigDocument], Config], focus: str | None) -> None:
        doc = self._document()
        if doc is None:
            return
        try:
            config = change(doc)
        except ConfigError as error:
            self.notify("\n".join(str(i) for i in error.issues[:6]), title="Not saved", severity="error",
                        markup=False)
        except KputuiError as error:
            self.notify(str(error), title="Not saved", severity="error", markup=False)
        else:
            self.apply_config(config, focus=focus)

    def action_delete_kpi(self) -> None:
        from kputui.ui.screens.confirm import ConfirmScreen

        kpi_id = self._focused_kpi()
        if kpi_id is None or self.editing is None:
            return
        name = self.config.kpi(kpi_id).name

        def answered(yes: bool | None) -> None:
            if yes:
                self._save_edit(lambda doc: self.editing.delete(doc, kpi_id), None)

        self.push_screen(ConfirmScreen(f"Delete the KPI {name!r} ({kpi_id}) from the config?", "Delete"), answered)

    def action_move_kpi(self, offset: int) -> None:
        kpi_id = self._focused_kpi()
        if kpi_id is None or self.editing is None or not self.screen is self.dashboard:
            return
        dashboard = self.config.dashboards[self.dashboard.active_index].name
        self._save_edit(lambda doc: self.editing.move(doc, dashboard, kpi_id, offset), kpi_id)

    def action_manual_value(self) -> None:
        """Ask for a value of the focused KPI's manual series and record it."""
        from kputui.ui.screens.manual_value import ManualValueScreen

        kpi_id = self._focused_kpi()
        if kpi_id is None:
            return
        spec = self.config.kpi(kpi_id)
        manual = sorted(n for n in spec.formula.series if self.config.source_of(n).type == "manual")
        if not manual:
            self.notify(f"{spec.name} has no manual series to type values for", severity="warning", markup=False)
            return

        def record(entry: ManualEntry | None) -> None:
            if entry is None:
                return
            self.store.push([Sample(entry.series, entry.time, entry.value)])
            self.notify(f"recorded {entry.series} = {entry.value:g}", timeout=3, markup=False)
            self.refresh_data()

        self.push_screen(ManualValueScreen(spec.name, manual, self.clock()), record)
