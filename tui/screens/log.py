"""The change-log browser (R7): newest first, filters, before/after side by side, revert."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label, Select

from tui.messages import Entries, EntriesLoaded, EntryActionDone, OperationFailed
from tui.screens.confirm import ConfirmDialog
from tui.services import OperatorError, Services
from tui.widgets.format import (
    SIDE_LABEL,
    changed_fields,
    item_subject,
    local_time,
    plain,
    subject_cell,
)
from tui.widgets.item_view import ItemView
from tui.widgets.keys_footer import KeysFooter

ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "restore": "cyan",
    "revert": "magenta",
}
ALL = "all"


class LogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("r", "revert", "Revert"),
        Binding("slash", "focus_text", "Filter text"),
        Binding("f", "focus_side", "Filter side"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, services: Services, name: str) -> None:
        super().__init__()
        self.services = services
        self.user = name
        self.entries: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        #: entries in the log, loaded or not (only the newest LOG_LIMIT are loaded)
        self.total = 0
        self.reading = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="log-main"):
            with Horizontal(id="log-filters", classes="filters"):
                yield Label(f"Change log of {self.user}", id="log-title", markup=False)
                yield Select(
                    [("all calendars", ALL), ("CRM", "crm"), ("remote", "remote")],
                    value=ALL,
                    allow_blank=False,
                    id="log-side",
                )
                yield Select([("all actions", ALL)], value=ALL, allow_blank=False, id="log-action")
                yield Input(placeholder="Filter text (/)", id="log-text")
            yield DataTable(id="log-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="log-diff"):
                yield ItemView("Before", "bold red", id="log-before")
                yield ItemView("After", "bold green", id="log-after")
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"change log · {self.user}"
        table = self.query_one(DataTable)
        table.add_column("Time", key="time")
        table.add_column("Calendar", key="side")
        table.add_column("Action", key="action")
        table.add_column("Subject", key="subject")
        table.add_column("Reason", key="reason")
        table.focus()
        self.load()

    def load(self, select: str | None = None) -> None:
        """(Re)read the log; the title says so until it is in, never a count of nothing."""
        self.reading = True
        self._show_count()
        self.read_log(select)

    @work(thread=True, exclusive=True, group="log", exit_on_error=False)
    def read_log(self, select: str | None = None) -> None:
        try:
            page = self.services.log(self.user)
        except OperatorError as exc:
            self.post_message(OperationFailed("Reading the log", str(exc)))
            return
        self.post_message(EntriesLoaded(Entries(page.rows, select, page.total)))

    @on(EntriesLoaded)
    def _loaded(self, message: EntriesLoaded) -> None:
        self.entries = message.entries.rows
        self.total = max(message.entries.total or 0, len(self.entries))
        self.reading = False
        actions = sorted({str(e.get("action", "")) for e in self.entries} - {""})
        action_select: Select[str] = self.query_one("#log-action", Select)
        current = action_select.value
        action_select.set_options([("all actions", ALL), *((plain(a), a) for a in actions)])
        action_select.value = current if current in actions else ALL
        self.apply_filters(message.entries.select)

    @on(Select.Changed)
    @on(Input.Changed, "#log-text")
    def _filters_changed(self) -> None:
        self.apply_filters()

    @on(Input.Submitted, "#log-text")
    def _text_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def apply_filters(self, select: str | None = None) -> None:
        side = self.query_one("#log-side", Select).value
        action = self.query_one("#log-action", Select).value
        words = self.query_one("#log-text", Input).value.lower().split()
        table = self.query_one(DataTable)
        if select is None and self.shown and 0 <= table.cursor_row < len(self.shown):
            select = str(self.shown[table.cursor_row].get("id"))
        shown = []
        for entry in self.entries:
            if side != ALL and entry.get("side") != side:
                continue
            if action != ALL and entry.get("action") != action:
                continue
            if words:
                item = entry.get("after") or entry.get("before") or {}
                haystack = " ".join(
                    str(x)
                    for x in (
                        entry.get("reason"),
                        entry.get("action"),
                        entry.get("id"),
                        item.get("subject"),
                        item.get("location"),
                        item.get("text"),
                    )
                ).lower()
                if not all(w in haystack for w in words):
                    continue
            shown.append(entry)
        self.shown = shown
        table.clear()
        for entry in shown:
            action_name = str(entry.get("action", ""))
            table.add_row(
                plain(local_time(entry.get("time"))),
                plain(SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side", "")))),
                Text(action_name, style=ACTION_STYLE.get(action_name, "")),
                subject_cell(item_subject(entry.get("after") or entry.get("before"))),
                plain(entry.get("reason", "")),
                key=str(entry.get("id")),
            )
        ids = [str(e.get("id")) for e in shown]
        if select in ids:
            table.move_cursor(row=ids.index(select), animate=False)
        self.show_entry()
        self._show_count()

    def _show_count(self) -> None:
        title = self.query_one("#log-title", Label)
        if self.reading:
            title.update(f"Change log of {self.user}: loading…")
            return
        title.update(f"Change log of {self.user}: {len(self.shown):,} of {self.total:,}")
        self.sub_title = f"change log · {self.user}"
        if self.total > len(self.entries):
            # filters search what is loaded: say how much that is (README: the rest)
            self.sub_title += f" · newest {len(self.entries):,} loaded"

    @property
    def selected(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def show_entry(self) -> None:
        entry = self.selected
        before = entry.get("before") if entry else None
        after = entry.get("after") if entry else None
        changed = changed_fields(before, after)
        self.query_one("#log-before", ItemView).show(before, changed)
        self.query_one("#log-after", ItemView).show(after, changed)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()  # escape leaves the filter box first
            return
        self.dismiss(None)

    def action_focus_text(self) -> None:
        self.query_one("#log-text", Input).focus()

    def action_focus_side(self) -> None:
        self.query_one("#log-side", Select).focus()

    def action_reload(self) -> None:
        self.load()

    def action_revert(self) -> None:
        entry = self.selected
        if entry is None:
            self.notify("No log entry selected.", severity="warning")
            return
        side = SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side")))
        subject = item_subject(entry.get("before") or entry.get("after"))
        if entry.get("before"):
            what = (
                f"“{subject}” in the {side} calendar goes back to its version before this change."
            )
        else:
            what = f"“{subject}”, created by this change, is deleted from the {side} calendar (kept in the trash)."
        self.app.push_screen(
            ConfirmDialog(
                f"Revert this {entry.get('action')}? {what}",
                title="Revert change",
                detail=f"{local_time(entry.get('time'))} · {entry.get('reason', '')}",
                yes="Revert",
            ),
            lambda yes: self._revert_answer(str(entry["id"]), bool(yes)),
        )

    def _revert_answer(self, log_id: str, yes: bool) -> None:
        if yes:
            self.revert(log_id)

    @work(thread=True, exclusive=True, group="log-write", exit_on_error=False)
    def revert(self, log_id: str) -> None:
        try:
            result = self.services.revert(self.user, log_id)
        except OperatorError as exc:
            self.post_message(OperationFailed("Revert", str(exc)))
            return
        side = SIDE_LABEL.get(str(result.get("side")), str(result.get("side")))
        self.post_message(
            EntryActionDone(
                f"Reverted in the {side} calendar; the next sync carries it over.",
                select=str(result.get("log_id")),
            )
        )

    @on(EntryActionDone)
    def _done(self, message: EntryActionDone) -> None:
        self.notify(message.note, title="Done")
        self.load(message.select)

    @on(OperationFailed)
    def _failed(self, message: OperationFailed) -> None:
        if message.what == "Reading the log":
            self.reading = False
            self.query_one("#log-title", Label).update(f"Change log of {self.user}: not readable")
        self.notify(message.error, title=f"{message.what} failed", severity="error", timeout=10)
