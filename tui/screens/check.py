"""The result of "check connection" for both calendars of one user (R13)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.services import CheckRow
from tui.widgets.format import SIDE_LABEL, plain

#: what to do next, in keys of the users screen underneath
HINT_OK = "Both calendars answer: s syncs the user now."
HINT_FAILED = (
    "Fix what FAILED (e edits the user's calendars and credentials), "
    "then c checks again and s syncs."
)


class CheckScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, name: str, rows: list[CheckRow]) -> None:
        super().__init__()
        self.user = name
        self.rows = rows

    def compose(self) -> ComposeResult:
        ok = all(r.ok for r in self.rows)
        with Vertical(id="check-dialog"):
            yield Label(
                plain(f"Connection check for {self.user}: {'all ok' if ok else 'problems found'}"),
                id="check-title",
                classes="ok" if ok else "bad",
            )
            with VerticalScroll(id="check-scroll"):
                yield Static(self._table(), id="check-table")
            yield Static(HINT_OK if ok else HINT_FAILED, id="check-hint", markup=False)
            yield Button("Close", id="close", variant="primary")

    def _table(self) -> Table:
        # a detail is the error an operator acts on: wrapped, never cut at 80 columns
        table = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
        table.add_column("Calendar", no_wrap=True)
        table.add_column("Check", ratio=1, overflow="fold")
        table.add_column("Result", no_wrap=True)
        table.add_column("Detail", ratio=2, overflow="fold")
        for row in self.rows:
            table.add_row(
                plain(SIDE_LABEL.get(row.side, row.side)),
                plain(row.check),
                Text("ok", style="green") if row.ok else Text("FAILED", style="bold red"),
                plain(row.detail),
            )
        return table

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
