"""The main screen: every user, their sync state, and what can be done to them.

The runs (tui/screens/user_runs.py) and the user administration
(tui/screens/user_admin.py) are layers this screen builds on; this module holds
the loading, the filters and sorting, and the way to the other screens.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Input

from tui.messages import (
    DetailLoaded,
    OperationFailed,
    SummariesLoaded,
    UsersChanged,
    UsersLoaded,
)
from tui.screens.log import LogScreen
from tui.screens.trash import TrashScreen
from tui.screens.user_admin import AdminScreen
from tui.services import OperatorError, Services
from tui.widgets.run_panel import RunPanel
from tui.widgets.user_detail import UserDetailPane
from tui.widgets.users_table import UsersTable

#: state files read per message while the table fills in
SUMMARY_CHUNK = 100


class UsersScreen(AdminScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync", "Sync"),
        Binding("a", "sync_all", "Sync all"),
        Binding("i", "init", "Init"),
        Binding("p", "preview", "Preview"),
        Binding("c", "check", "Check"),
        Binding("l", "log", "Log"),
        Binding("t", "trash", "Trash"),
        Binding("e", "edit", "Edit"),
        Binding("d", "toggle_enabled", "On/off"),
        Binding("n", "add", "Add"),
        Binding("delete", "remove", "Remove"),
        Binding("slash", "filter", "Filter"),
        Binding("o", "sort", "Sort"),
        Binding("ctrl+x", "cancel_run", "Cancel"),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, services: Services, *, autosync: bool) -> None:
        super().__init__(services, autosync=autosync)
        self._select_after_load: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="users-main"):
            yield Input(placeholder="Filter users: name, calendar, result  (/)", id="filter")
            yield UsersTable(clock=self.services.clock, id="users")
            yield UserDetailPane(
                clock=self.services.clock, root=self.services.workspace.root, id="detail"
            )
            yield RunPanel(id="run-panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table.root = self.services.workspace.root
        self.table.focus()
        self.panel.autosync("auto-sync off" if not self.autosync else "")
        self.set_interval(1.0, self._tick)
        self.set_interval(60.0, self.table.refresh_times)
        self.load_users()

    # -- loading -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="users", exit_on_error=False)
    def load_users(self) -> None:
        try:
            rows = self.services.users()
            interval = self.services.interval()
        except OperatorError as exc:
            self.post_message(OperationFailed("Reading the users", str(exc)))
            return
        self.post_message(UsersLoaded(rows, interval))

    @on(UsersLoaded)
    def _users_loaded(self, message: UsersLoaded) -> None:
        self._interval = message.interval
        table = self.table
        table.set_users(message.rows)
        if self._select_after_load in table.shown:
            table.move_cursor(row=table.shown.index(self._select_after_load), animate=False)
        self._select_after_load = None
        if self.autosync and self._next_auto is None:
            self._next_auto = time.monotonic() + self._interval
            self._tick()
        if not message.rows:
            self.detail.show_message("No users yet: press n to add one.")
        # the rows on screen first, so the operator sees their state soonest
        order = table.shown + [n for n in table.rows_by_name if n not in set(table.shown)]
        self.load_summaries(order)
        self._show_selected()

    @work(thread=True, exclusive=True, group="summaries", exit_on_error=False)
    def load_summaries(self, names: Sequence[str]) -> None:
        chunk = {}
        for name, summary in self.services.summaries(names):
            chunk[name] = summary
            if len(chunk) >= SUMMARY_CHUNK:
                self.post_message(SummariesLoaded(chunk))
                chunk = {}
        self.post_message(SummariesLoaded(chunk))

    @on(SummariesLoaded)
    def _summaries_loaded(self, message: SummariesLoaded) -> None:
        self.table.set_summaries(message.summaries)

    @on(DataTable.RowHighlighted, "#users")
    def _row_highlighted(self) -> None:
        self._show_selected()

    @on(DataTable.HeaderSelected, "#users")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.table.sort_by(str(event.column_key.value))

    def _show_selected(self) -> None:
        name = self.table.selected_name
        if name is None:
            if not self.table.rows_by_name:
                self.detail.show_message("No users yet: press n to add one.")
            else:
                self.detail.show_message("No user matches the filter.")
            return
        self.load_detail(name)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self, name: str) -> None:
        try:
            detail = self.services.detail(name)
        except OperatorError as exc:
            self.post_message(DetailLoaded(name, None, str(exc)))
            return
        self.post_message(DetailLoaded(name, detail))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        if message.name != self.table.selected_name:
            return  # the cursor moved on meanwhile
        if message.detail is None:
            self.detail.show_error(message.name, message.error)
        else:
            self._detail_cache = {message.name: message.detail}
            self.detail.show(message.detail)

    # -- filter, sort, reload ------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._show_selected()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.table.focus()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.notify(f"Sorted by {self.table.sort_key.replace('_', ' ')}", timeout=2)

    def action_reload(self) -> None:
        self.load_users()

    @on(UsersChanged)
    def _users_changed(self, message: UsersChanged) -> None:
        self.notify(message.note)
        self._select_after_load = message.select
        self.load_users()

    # -- other screens --------------------------------------------------------------------

    def action_log(self) -> None:
        if (name := self._selected()) is not None:
            self.app.push_screen(LogScreen(self.services, name))

    def action_trash(self) -> None:
        if (name := self._selected()) is not None:
            self.app.push_screen(TrashScreen(self.services, name))
