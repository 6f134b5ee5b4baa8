"""Item errors across users: every item that failed in the latest run of any user.

From the run records the users screen has already read (each keeps up to 50
errors); re-read from it every few seconds. Enter goes to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from tui.fleet import ItemError
from tui.widgets.format import SIDE_LABEL, plain
from tui.widgets.keys_footer import KeysFooter

REFRESH_SECONDS = 2.0
#: rows shown at most (the title says how many there are)
LIMIT = 1000
#: a 64-character user name must not push the other columns off an 80-column screen
NAME_WIDTH = 20
ERROR_WIDTH = 60
TITLE_WIDTH = 30

Source = Callable[[], list[tuple[str, ItemError]]]


class ItemErrorsScreen(Screen[str | None]):
    """Dismissed with a user's name when the operator picks one of its errors."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "go", "Go to user"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.total = 0
        self.entries: list[tuple[str, ItemError]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="errors-title", markup=False)
        yield DataTable(id="errors-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="errors-detail", markup=False)
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("User", "Side", "Title", "Error")
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)
        self.query_one(DataTable).focus()

    def reload(self) -> None:
        entries = self.source()
        # a table of every row would take seconds to build for a whole failing fleet
        self.total, users, entries = len(entries), len({n for n, _ in entries}), entries[:LIMIT]
        table = self.query_one(DataTable)
        if entries == self.entries and table.row_count == len(entries):
            return
        row = table.cursor_row
        self.entries = entries
        table.clear()
        for n, (name, err) in enumerate(entries):
            error = plain(" ".join(err.error.split()))
            error.truncate(ERROR_WIDTH, overflow="ellipsis")
            title = plain(" ".join(err.item.split()))
            title.truncate(TITLE_WIDTH, overflow="ellipsis")
            who = plain(name)
            who.truncate(NAME_WIDTH, overflow="ellipsis")
            table.add_row(
                who,
                plain(SIDE_LABEL.get(err.side, err.side)),
                title,
                error,
                key=str(n),
            )
        if entries:
            table.move_cursor(row=min(row, len(entries) - 1), animate=False)
        self.query_one("#errors-title", Label).update(
            f"Item errors in the latest runs: {self.total:,} item(s) of {users:,} user(s)"
            + (f" (the first {LIMIT:,} shown)" if self.total > LIMIT else "")
            if entries
            else "Item errors in the latest runs: none"
        )
        self._show_detail()

    @property
    def selected(self) -> tuple[str, ItemError] | None:
        row = self.query_one(DataTable).cursor_row
        return self.entries[row] if self.entries and 0 <= row < len(self.entries) else None

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        chosen = self.selected
        box = self.query_one("#errors-detail", Static)
        if chosen is None:
            box.update("")
            return
        name, err = chosen
        box.update(
            f"{name}, {SIDE_LABEL.get(err.side, err.side)} {err.op}: {err.item}\n{err.error}"
        )

    @on(DataTable.RowSelected)
    def action_go(self) -> None:
        if (chosen := self.selected) is not None:
            self.dismiss(chosen[0])

    def action_back(self) -> None:
        self.dismiss(None)
