"""The calendar-identity question (SPEC R10), with both calendars side by side.

Yes re-initializes against the calendar that answers now; the operator can only
decide that well seeing which calendar was recorded, when, and which one answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from rich import box
from rich.console import OverflowMethod
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui.screens.confirm import ConfirmDialog
from tui.services import IDENTITY_QUESTION, RunResult, shown_address
from tui.widgets.format import local_time

ROWS = (
    ("address", "Address"),
    ("name", "Name"),
    ("identity", "Calendar id"),
    ("initialized", "Initialized"),
)


def calendars_table(calendars: Mapping[str, Mapping[str, str]], root: Path | None) -> Table:
    """Recorded against current, one row per fact; a fact that differs is highlighted."""
    recorded = calendars.get("recorded") or {}
    current = calendars.get("current") or {}
    table = Table(expand=True, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("Recorded", overflow="fold", ratio=1)
    table.add_column("Answering now", overflow="fold", ratio=1)
    for key, label in ROWS:
        old, new = str(recorded.get(key) or ""), str(current.get(key) or "")
        if key == "address":
            old, new = shown_address(old, root), shown_address(new, root)
        elif key == "initialized":
            old, new = local_time(old) or "—", "not yet"
        # a name recorded before names were (none) is no evidence of a change
        differs = old != new and key != "initialized" and (old or key != "name")
        style = "bold yellow" if differs else ""
        # a name is the service's free text ([bold], any script, any length): shown
        # literally on one line, cut with … rather than pushing the rows apart
        one_line = key == "name"
        overflow: OverflowMethod | None = "ellipsis" if one_line else None
        table.add_row(
            label,
            Text(old or "—", no_wrap=one_line, overflow=overflow),
            Text(new or "—", style=style, no_wrap=one_line, overflow=overflow),
        )
    return table


class IdentityDialog(ConfirmDialog):
    """Dismisses True for "initialize against the current calendar"."""

    # CSS, not DEFAULT_CSS: app.tcss's #dialog rules would win over a default
    CSS: ClassVar[str] = """
    IdentityDialog #dialog { width: 90%; max-width: 110; max-height: 100%; padding: 0 1; }
    IdentityDialog #identity-calendars { height: auto; margin-bottom: 1; }
    """

    def __init__(self, result: RunResult, root: Path | None = None) -> None:
        super().__init__(
            IDENTITY_QUESTION,
            title=f"{result.user}: the remote calendar changed",
            detail="Yes initializes against the current calendar (items are paired, "
            "nothing is duplicated); No leaves the user untouched and unsynced.",
            yes="Initialize",
        )
        self.result = result
        self.root = root

    def extra(self) -> ComposeResult:
        if self.result.calendars:
            yield Static(calendars_table(self.result.calendars, self.root), id="identity-calendars")


def reinit_dialog(name: str, initialized_at: str | None) -> ConfirmDialog:
    """Asked before initializing a user who already is: every pairing is matched anew."""
    when = f" on {local_time(initialized_at)}" if initialized_at else ""
    return ConfirmDialog(
        f"{name} was initialized{when}. Initialize again? Both calendars are compared "
        "anew: items are re-paired by UID, then by start, end and subject, and what is "
        "missing is created on each side.",
        title=f"{name}: initialize again",
        detail="Nothing is duplicated. No leaves the user as it is.",
        yes="Initialize",
    )
