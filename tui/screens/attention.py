"""The attention view: every user that needs an operator or failed, with the one fix.

Built from what the users screen already holds (no reading of its own) and
re-read from it every few seconds, so a fix made elsewhere drops the user off the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from tui.fleet import FIX_LABEL, FIX_WAIT, STATE_STYLE, FleetState
from tui.widgets.format import local_time, plain
from tui.widgets.keys_footer import KeysFooter

#: how often the list is compared with the users screen's
REFRESH_SECONDS = 2.0
#: rows shown at most (the title says how many there are)
LIMIT = 1000
#: a 64-character user name must not push the other columns off an 80-column screen
NAME_WIDTH = 20
#: the reason's width at least; a wide terminal gives it what the other columns leave
REASON_WIDTH = 60
OTHER_COLUMNS = 75

Source = Callable[[], list[tuple[str, FleetState]]]


def reason_text(state: FleetState) -> str:
    """The engine's reason on one line, without the CLI's advice (the fix is offered here)."""
    reason = state.reason.replace("; pass --force to continue", "")
    return " ".join(reason.split(": run `calsync ")[0].split())


def fix_label(state: FleetState) -> str:
    if state.action == FIX_WAIT and state.next_retry is not None:
        return f"Wait until {local_time(state.next_retry.isoformat())}"
    if state.state == "deferred" and state.next_retry is not None:
        # backing off: the job retries then by itself, enter tries now
        return f"{FIX_LABEL[state.action]} (or wait: {local_time(state.next_retry.isoformat())})"
    return FIX_LABEL.get(state.action, "")


class AttentionScreen(Screen[tuple[str, str] | None]):
    """Dismissed with (user, action) when the operator picks a fix; the users screen runs it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "fix", "Fix"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.total = 0
        self.entries: list[tuple[str, FleetState]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="attention-title", markup=False)
        yield DataTable(id="attention-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="attention-reason", markup=False)
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("User", "State", "Fix (enter)", "Why")
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)
        self.query_one(DataTable).focus()

    def reload(self) -> None:
        entries = self.source()
        # a table of every row would take seconds to build for a whole failing fleet
        self.total, entries = len(entries), entries[:LIMIT]
        if entries == self.entries and self.query_one(DataTable).row_count == len(entries):
            return
        table = self.query_one(DataTable)
        keep = self.selected
        self.entries = entries
        table.clear()
        width = max(REASON_WIDTH, self.app.size.width - OTHER_COLUMNS)
        for name, state in entries:
            reason = plain(reason_text(state))
            reason.truncate(width, overflow="ellipsis")
            who = plain(name)
            who.truncate(NAME_WIDTH, overflow="ellipsis")
            table.add_row(
                who,
                Text(state.label, style=STATE_STYLE.get(state.state, "")),
                plain(fix_label(state)),
                reason,
                key=name,
            )
        names = [n for n, _ in entries]
        if keep in names:
            table.move_cursor(row=names.index(keep), animate=False)
        count = self.total
        more = f" (the first {LIMIT:,} shown)" if count > LIMIT else ""
        self.query_one("#attention-title", Label).update(
            f"Attention: {count:,} user{'s need' if count != 1 else ' needs'} you{more}"
            if count
            else "Attention: nobody needs you: every user is ok, disabled or not yet synced."
        )
        self._show_reason()

    @property
    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.entries or not 0 <= table.cursor_row < len(self.entries):
            return None
        return self.entries[table.cursor_row][0]

    @on(DataTable.RowHighlighted)
    def _show_reason(self) -> None:
        name = self.selected
        box = self.query_one("#attention-reason", Static)
        if name is None:
            box.update("")
            return
        state = dict(self.entries)[name]
        fix = fix_label(state)
        box.update(f"{name}: {reason_text(state) or state.label}\n{'Enter: ' + fix if fix else ''}")

    @on(DataTable.RowSelected)
    def action_fix(self) -> None:
        name = self.selected
        if name is None:
            return
        state = dict(self.entries)[name]
        if state.action == FIX_WAIT:
            self.notify(
                f"{name}: the server asked calsync to wait; the next run after that retries.",
                title=fix_label(state),
            )
            return
        if state.action:
            self.dismiss((name, state.action))

    def action_back(self) -> None:
        self.dismiss(None)
