"""The mass-deletion guard's question, with every item that would go and a preview of one.

"Delete 37 items?" alone asks the operator to trust a number; the list shows which
items they are (a calendar emptied by mistake looks different from a cleaned-up
week), and the preview shows the selected one whole before anything is deleted.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable

from tui.screens.confirm import ConfirmDialog
from tui.services import RunResult
from tui.widgets.format import SIDE_LABEL, item_value, plain, subject_cell
from tui.widgets.item_view import ItemView


def deletion_question(result: RunResult) -> str:
    """The mass-deletion guard's question, with the count per calendar that would lose items."""
    plan = result.plan
    parts = []
    for side, label in (("crm", "the CRM calendar"), ("remote", "the remote calendar")):
        actions = plan.actions if plan is not None else []
        count = sum(1 for a in actions if a.op == "delete" and a.side == side)
        if count:
            parts.append(f"{count} item{'s' if count != 1 else ''} in {label}")
    what = " and ".join(parts) or "items"
    return f"This sync would delete {what}. Continue?"


def deletions(result: RunResult) -> list[dict[str, Any]]:
    """Each item the run would delete: its side and fields, as the log stores items."""
    plan = result.plan
    rows = []
    for action in plan.writes if plan is not None else []:
        if action.op == "delete":
            data = action.to_json()
            rows.append({"side": action.side, "item": data["before"] or {}})
    return rows


class DeletionGuardDialog(ConfirmDialog):
    """Dismisses True for "delete them" (the run again, forced), False for "leave it"."""

    # CSS, not DEFAULT_CSS: app.tcss's #dialog rules would win over a default
    CSS: ClassVar[str] = """
    DeletionGuardDialog #dialog { width: 90%; height: 90%; max-width: 120; padding: 0 1; }
    DeletionGuardDialog #dialog-title { margin-bottom: 0; }
    DeletionGuardDialog #question { margin-bottom: 0; }
    DeletionGuardDialog #dialog-detail { margin-bottom: 0; }
    DeletionGuardDialog #guard-body { height: 1fr; }
    DeletionGuardDialog #guard-table { height: 1fr; min-height: 4; }
    DeletionGuardDialog #guard-preview {
        height: 1fr; min-height: 4; border: round $error; padding: 0 1; overflow-y: auto;
    }
    """

    def __init__(self, result: RunResult) -> None:
        super().__init__(
            deletion_question(result),
            title=f"{result.user}: safety guard",
            detail="Deleted items go to the trash and can be restored. "
            "No leaves the user unsynced.",
            yes="Delete",
            danger=True,
        )
        self.result = result
        self.items = deletions(result)

    def extra(self) -> ComposeResult:
        with Vertical(id="guard-body"):
            yield DataTable(id="guard-table", cursor_type="row", zebra_stripes=True)
            yield ItemView("Would be deleted", "", id="guard-preview")

    def on_mount(self) -> None:
        table = self.query_one("#guard-table", DataTable)
        table.add_columns("Calendar", "Subject", "Start")
        for index, row in enumerate(self.items):
            item = row["item"]
            table.add_row(
                plain(SIDE_LABEL.get(row["side"], row["side"])),
                subject_cell(str(item.get("subject", ""))),
                plain(item_value("start", item.get("start"))),
                key=str(index),
            )
        table.border_title = f"{len(self.items)} item(s) would be deleted"
        self._preview(0)

    def first_focus(self) -> Widget:
        # the list first: arrows scroll it, y / n / escape still answer
        return self.query_one("#guard-table", DataTable)

    @on(DataTable.RowHighlighted, "#guard-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.cursor_row)

    def _preview(self, index: int) -> None:
        item = self.items[index]["item"] if 0 <= index < len(self.items) else None
        self.query_one("#guard-preview", ItemView).show(item)
