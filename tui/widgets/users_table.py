"""The users table: rows from users.json at once, state columns filled in as they load."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from tui.services import UserRow, UserSummary, shown_address
from tui.widgets.format import counts_text, plain, relative_time, result_text

COLUMNS = (
    ("name", "User"),
    ("kind", "Remote"),
    ("address", "Mailbox / calendar"),
    ("enabled", "Enabled"),
    ("initialized", "Init"),
    ("last_sync", "Last sync"),
    ("result", "Last result"),
    ("counts", "Last run CRM │ remote"),
)
SORTABLE = ("name", "kind", "enabled", "initialized", "last_sync", "result")
LOADING = Text("…", style="dim")
#: more changed users than this and the table is rebuilt instead of updated cell by cell
CELL_UPDATES_MAX = 20
#: the address column's width; the detail pane shows the whole address
ADDRESS_WIDTH = 30
RESULT_ORDER = {
    "failed": 0,
    "needs_operator": 1,
    "busy": 2,
    "deferred": 2,
    "cancelled": 3,
    "skipped": 4,
    "ok": 5,
}


def _clip(text: str, width: int) -> str:
    """Keep the end of a long address: that is where calendars differ."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _yes_no(value: bool | None) -> Text:
    if value is None:
        return LOADING
    return Text("yes", style="green") if value else Text("no", style="yellow")


class UsersTable(DataTable[Any]):
    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._clock = clock
        self.rows_by_name: dict[str, UserRow] = {}
        self.summaries: dict[str, UserSummary] = {}
        self.running: set[str] = set()
        self.filter_text = ""
        self.sort_key = "name"
        self.sort_reverse = False
        self.root: Any = None
        self.shown: list[str] = []

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    # -- data --------------------------------------------------------------------------

    def set_users(self, rows: Iterable[UserRow]) -> None:
        self.rows_by_name = {r.name: r for r in rows}
        self.summaries = {n: s for n, s in self.summaries.items() if n in self.rows_by_name}
        self.rebuild()

    def set_summaries(self, summaries: Mapping[str, UserSummary]) -> None:
        self.summaries.update(summaries)
        if len(summaries) > CELL_UPDATES_MAX:
            # one rebuild costs less than hundreds of cell updates, each re-measuring columns
            self.rebuild()
            return
        visible = set(self.shown)
        for name in summaries:
            if name in visible:
                self._update_state_cells(name)

    def set_running(self, names: Iterable[str], running: bool) -> None:
        for name in names:
            if running:
                self.running.add(name)
            else:
                self.running.discard(name)
            if name in self.rows_by_name and name in set(self.shown):
                self._update_state_cells(name)

    # -- view --------------------------------------------------------------------------

    @property
    def selected_name(self) -> str | None:
        if not self.shown or self.cursor_row < 0 or self.cursor_row >= len(self.shown):
            return None
        return self.shown[self.cursor_row]

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        self.rebuild()

    def sort_by(self, key: str) -> None:
        if key not in SORTABLE:
            return
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self.rebuild()

    def cycle_sort(self) -> None:
        index = SORTABLE.index(self.sort_key) if self.sort_key in SORTABLE else 0
        self.sort_key = SORTABLE[(index + 1) % len(SORTABLE)]
        self.sort_reverse = False
        self.rebuild()

    def _matches(self, row: UserRow) -> bool:
        if not self.filter_text:
            return True
        summary = self.summaries.get(row.name)
        haystack = " ".join(
            (row.name, row.remote, row.crm, summary.last_result if summary else "")
        ).lower()
        return all(word in haystack for word in self.filter_text.split())

    def _sort_value(self, row: UserRow) -> Any:
        summary = self.summaries.get(row.name) or UserSummary()
        key = self.sort_key
        if key == "kind":
            return (row.remote_kind, row.name.lower())
        if key == "enabled":
            return (not row.enabled, row.name.lower())
        if key == "initialized":
            return (not summary.initialized, row.name.lower())
        if key == "last_sync":
            stamp = summary.last_sync.timestamp() if summary.last_sync else 0.0
            return (-stamp, row.name.lower())
        if key == "result":
            return (RESULT_ORDER.get(summary.last_result, 9), row.name.lower())
        return row.name.lower()

    def rebuild(self) -> None:
        keep = self.selected_name
        rows = [r for r in self.rows_by_name.values() if self._matches(r)]
        rows.sort(key=self._sort_value, reverse=self.sort_reverse)
        self.shown = [r.name for r in rows]
        self.clear()
        for row in rows:
            # keyed by name, so cells update in place when states arrive
            self.add_row(*self._cells(row), key=row.name)
        for key, label in COLUMNS:
            arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_key else ""
            self.columns[ColumnKey(key)].label = Text(label + arrow)
        if keep in self.shown:
            self.move_cursor(row=self.shown.index(keep), animate=False)

    def _cells(self, row: UserRow) -> tuple[Any, ...]:
        return (
            Text(row.name, style="bold"),
            plain(row.remote_kind) if row.remote_kind else Text("none", style="dim"),
            plain(_clip(shown_address(row.remote, self.root), ADDRESS_WIDTH)),
            _yes_no(row.enabled),
            *self._state_cells(row.name),
        )

    def _state_cells(self, name: str) -> tuple[Any, ...]:
        summary = self.summaries.get(name)
        if name in self.running:
            result: Text = result_text("running")
        elif summary is None:
            result = LOADING
        elif summary.error:
            result = Text("state unreadable", style="bold red")
        else:
            result = result_text(summary.last_result)
        if summary is None:
            return (LOADING, LOADING, result, "")
        return (
            _yes_no(summary.initialized),
            plain(relative_time(summary.last_sync, self._clock())),
            result,
            plain(counts_text(summary.counts)),
        )

    def _update_state_cells(self, name: str) -> None:
        for column, value in zip(
            ("initialized", "last_sync", "result", "counts"), self._state_cells(name), strict=True
        ):
            self.update_cell(name, column, value, update_width=True)

    def refresh_times(self) -> None:
        """Re-render "5 min ago" texts; one rebuild is cheaper than a cell update per user."""
        self.rebuild()
