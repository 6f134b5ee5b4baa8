"""The change-log browser (R7): newest first, filters, before/after side by side, revert.

Filters (calendar, action, date, text) work on the loaded entries, with the same rules
as `calsync log` (sync/log_filter.py); the table shows a page of PAGE of them, and
paging on past the newest LOG_LIMIT reads older ones.
"""

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
from tui.screens.revert_run import RevertRunScreen, outcome_note, run_in_progress
from tui.services import LOG_LIMIT, SHORT_LENGTH, BadFilter, LogFilter, OperatorError, Services
from tui.widgets.fit_table import Column, FitTable
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


#: rows per page: a page renders at once, however long the log
PAGE = 100
COLUMNS = (
    Column("id", "ID", width=SHORT_LENGTH),
    Column("time", "Time", width=16),
    Column("side", "Side", width=6),
    Column("action", "Action", width=7),
    Column("subject", "Subject", share=3, least=12),
    Column("reason", "Reason", share=2, least=8),
)


#: the log screen's keys; the tooltips are what `?` explains them with
LOG_KEYS: list[BindingType] = [
    Binding(
        "escape,q", "back", "Back", tooltip="back to the users (esc in a filter box leaves it)"
    ),
    Binding(
        "r",
        "revert",
        "Revert",
        tooltip="put the selected change's item back as it was before, asked first",
    ),
    Binding(
        "u",
        "undo_run",
        "Undo run",
        tooltip="put back everything the selected entry's run changed, previewed first",
    ),
    Binding(
        "slash", "focus_text", "Text", tooltip="filter by words in subject, place, reason or id"
    ),
    Binding("f", "focus_side", "Calendar", tooltip="filter by calendar: CRM or remote"),
    Binding("a", "focus_action", "Action", tooltip="filter by action: create, update, delete…"),
    Binding(
        "D",
        "focus_date",
        "Date",
        tooltip="filter by day, month or range: 2026-03, 2026-03-01..2026-03-15",
    ),
    Binding("n", "page(1)", "Older", tooltip="the next page of older entries"),
    Binding("p", "page(-1)", "Newer", tooltip="the previous page of newer entries"),
    Binding("ctrl+r", "reload", "Reload", tooltip="read the log again"),
]


class LogScreen(Screen[None]):
    HELP_TITLE = "Change log"
    BINDINGS: ClassVar[list[BindingType]] = LOG_KEYS

    def __init__(self, services: Services, name: str) -> None:
        super().__init__()
        self.services = services
        self.user = name
        self.entries: list[dict[str, Any]] = []
        #: every loaded entry the filters let through; the table shows one PAGE of them
        self.shown: list[dict[str, Any]] = []
        self.short: dict[str, str] = {}
        self.page = 0
        #: entries in the log, loaded or not (only the newest `limit` are loaded)
        self.total = 0
        self.limit = LOG_LIMIT
        self.reading = True
        self.bad_date = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="log-main"):
            with Horizontal(id="log-heading"):
                yield Label(f"Change log of {self.user}", id="log-title", markup=False)
                yield Label("", id="log-page", markup=False)
            with Horizontal(id="log-filters", classes="filters"):
                yield Select(
                    [("all calendars", ALL), ("CRM", "crm"), ("remote", "remote")],
                    value=ALL,
                    allow_blank=False,
                    id="log-side",
                )
                yield Select([("all actions", ALL)], value=ALL, allow_blank=False, id="log-action")
                yield Input(placeholder="Date (D)", id="log-date")
                yield Input(placeholder="Text (/)", id="log-text")
            yield FitTable(COLUMNS, id="log-table")
            with Horizontal(id="log-diff"):
                yield ItemView("Before", "bold red", id="log-before")
                yield ItemView("After", "bold green", id="log-after")
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"change log · {self.user}"
        self.query_one(DataTable).focus()
        self.load()

    def load(self, select: str | None = None) -> None:
        """(Re)read the log; the title says so until it is in, never a count of nothing."""
        self.reading = True
        self._show_count()
        self.read_log(select, self.limit)

    @work(thread=True, exclusive=True, group="log", exit_on_error=False)
    def read_log(self, select: str | None = None, limit: int = LOG_LIMIT) -> None:
        try:
            page = self.services.log(self.user, limit)
        except OperatorError as exc:
            self.post_message(OperationFailed("Reading the log", str(exc)))
            return
        self.post_message(EntriesLoaded(Entries(page.rows, select, page.total, page.short)))

    @on(EntriesLoaded)
    def _loaded(self, message: EntriesLoaded) -> None:
        self.entries = message.entries.rows
        self.short = message.entries.short
        self.total = max(message.entries.total or 0, len(self.entries))
        self.reading = False
        actions = sorted({str(e.get("action", "")) for e in self.entries} - {""})
        action_select: Select[str] = self.query_one("#log-action", Select)
        current = action_select.value
        action_select.set_options([("all actions", ALL), *((plain(a), a) for a in actions)])
        action_select.value = current if current in actions else ALL
        self.apply_filters(message.entries.select, keep_page=True)

    @on(Select.Changed)
    @on(Input.Changed, "#log-text")
    @on(Input.Changed, "#log-date")
    def _filters_changed(self) -> None:
        self.apply_filters()

    @on(Input.Submitted, "#log-text")
    @on(Input.Submitted, "#log-date")
    def _text_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def _filter(self) -> LogFilter:
        side = self.query_one("#log-side", Select).value
        action = self.query_one("#log-action", Select).value
        text = self.query_one("#log-text", Input).value
        date_box = self.query_one("#log-date", Input)
        try:
            dates = LogFilter(dates=date_box.value).dates
            self.bad_date = ""
        except BadFilter as exc:
            dates, self.bad_date = "", str(exc)  # shown in the title; the rest still filters
        date_box.set_class(bool(self.bad_date), "invalid")
        return LogFilter(
            action=str(action) if action != ALL else "",
            side=str(side) if side != ALL else "",
            text=text,
            dates=dates,
        )

    def apply_filters(self, select: str | None = None, *, keep_page: bool = False) -> None:
        if select is None and (entry := self.selected) is not None:
            select = str(entry.get("id"))
        matches = self._filter().matcher(self.short)
        self.shown = [entry for entry in self.entries if matches(entry)]
        ids = [str(e.get("id")) for e in self.shown]
        if select in ids:
            self.page = ids.index(select) // PAGE
        elif not keep_page:
            self.page = 0
        self.page = max(0, min(self.page, (len(self.shown) - 1) // PAGE))
        self._show_page(select)

    def _show_page(self, select: str | None = None) -> None:
        table = self.query_one(FitTable)
        rows = []
        for entry in self.page_rows:
            action_name = str(entry.get("action", ""))
            entry_id = str(entry.get("id"))
            rows.append(
                (
                    entry_id,
                    (
                        plain(self.short.get(entry_id, entry_id)),
                        plain(local_time(entry.get("time"))),
                        plain(SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side", "")))),
                        Text(action_name, style=ACTION_STYLE.get(action_name, "")),
                        subject_cell(item_subject(entry.get("after") or entry.get("before"))),
                        plain(entry.get("reason", "")),
                    ),
                )
            )
        table.fill(rows)
        ids = [key for key, _ in rows]
        table.move_cursor(row=ids.index(select) if select in ids else 0, animate=False)
        self.show_entry()
        self._show_count()

    @property
    def page_rows(self) -> list[dict[str, Any]]:
        return self.shown[self.page * PAGE : (self.page + 1) * PAGE]

    def _show_count(self) -> None:
        title = self.query_one("#log-title", Label)
        page = self.query_one("#log-page", Label)
        if self.reading:
            title.update(f"Change log of {self.user}: loading…")
            return
        title.update(f"Change log of {self.user}: {len(self.shown):,} of {self.total:,}")
        pages = max(1, -(-len(self.shown) // PAGE))
        more = self.total > len(self.entries)
        page.update(
            self.bad_date
            or (f"page {self.page + 1}/{pages}{'+' if more else ''}" if pages > 1 or more else "")
        )
        page.set_class(bool(self.bad_date), "bad")
        self.sub_title = f"change log · {self.user}"
        if more:
            # filters search what is loaded: say how much that is (n pages on into the rest)
            self.sub_title += f" · newest {len(self.entries):,} loaded"

    def action_page(self, step: int) -> None:
        last = max(0, (len(self.shown) - 1) // PAGE)
        target = self.page + step
        if target > last and self.total > len(self.entries):
            self.limit += LOG_LIMIT  # past what is loaded: read the next older entries
            self.page = target
            self.load()
            return
        if not 0 <= target <= last:
            self.notify("No older entries." if step > 0 else "This is the newest page.", timeout=2)
            return
        self.page = target
        self._show_page()

    @property
    def selected(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        rows = self.page_rows
        if not rows or not 0 <= table.cursor_row < len(rows):
            return None
        return rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def show_entry(self) -> None:
        entry = self.selected
        before = entry.get("before") if entry else None
        after = entry.get("after") if entry else None
        changed = changed_fields(before, after)
        self.query_one("#log-before", ItemView).show(before, changed)
        self.query_one("#log-after", ItemView).show(after, changed)

    def action_back(self) -> None:
        if isinstance(self.focused, (Input, Select)):
            self.query_one(DataTable).focus()  # escape leaves a filter first
            return
        self.dismiss(None)

    def action_focus_text(self) -> None:
        self.query_one("#log-text", Input).focus()

    def action_focus_side(self) -> None:
        self.query_one("#log-side", Select).focus()

    def action_focus_action(self) -> None:
        self.query_one("#log-action", Select).focus()

    def action_focus_date(self) -> None:
        self.query_one("#log-date", Input).focus()

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
        short = self.short.get(str(entry.get("id")), str(entry.get("id")))
        self.app.push_screen(
            ConfirmDialog(
                f"Revert this {entry.get('action')}? {what}",
                title="Revert change",
                detail=f"log entry {short} · {local_time(entry.get('time'))} · "
                f"{entry.get('reason', '')}",
                yes="Revert",
            ),
            lambda yes: self._revert_answer(str(entry["id"]), bool(yes)),
        )

    def action_undo_run(self) -> None:
        """Undo every change of the selected entry's run, previewed first."""
        entry = self.selected
        run_id = str(entry.get("run") or "") if entry else ""
        if entry is None or not run_id or run_id == "operator":
            self.notify("Select a change a sync run made.", severity="warning")
            return
        if run_in_progress(self.app):
            self.notify(
                "A run is in progress: undo when it has finished (ctrl+x on the users "
                "screen cancels it).",
                severity="warning",
            )
            return
        self.app.push_screen(
            RevertRunScreen(self.services, self.user, run_id, str(entry.get("time") or "")),
            self._run_undone,
        )

    def _run_undone(self, result: dict[str, Any] | None) -> None:
        if result is None:
            return
        self.notify(outcome_note(result), title="Done")
        for failure in result["failed"][:3]:
            self.notify(
                f"{failure['subject']}: {failure['error']}", title="Not undone", severity="error"
            )
        self.load()

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
