"""The trash (R8): deleted items, newest first, when and from which calendar, whole-item
preview, restore; each with its short id, as `calsync restore` takes it."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label, Static

from tui.messages import Entries, EntriesLoaded, EntryActionDone, OperationFailed
from tui.screens.confirm import ConfirmDialog
from tui.services import SHORT_LENGTH, OperatorError, Services, short_ids, typed_id
from tui.widgets.fit_table import Column, FitTable
from tui.widgets.format import SIDE_LABEL, item_subject, local_time, plain, subject_cell
from tui.widgets.item_view import ItemView
from tui.widgets.keys_footer import KeysFooter

COLUMNS = (
    Column("id", "ID", width=SHORT_LENGTH),
    Column("deleted", "Deleted", width=16),
    Column("side", "From", width=6),
    Column("subject", "Subject", share=3, least=12),
    Column("reason", "Why", share=2, least=8),
)


class TrashScreen(Screen[None]):
    HELP_TITLE = "Trash"
    #: below 120 columns the item goes under the table, so the table keeps its width
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (120, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,q",
            "back",
            "Back",
            tooltip="back to the users (esc in the filter box leaves it)",
        ),
        Binding(
            "r",
            "restore",
            "Restore",
            tooltip="put the selected item back in the calendar it was deleted from, asked first",
        ),
        Binding(
            "slash",
            "focus_text",
            "Filter",
            tooltip="filter by words in subject, place, reason, calendar or id",
        ),
        Binding("ctrl+r", "reload", "Reload", tooltip="read the trash again"),
    ]

    def __init__(self, services: Services, name: str) -> None:
        super().__init__()
        self.services = services
        self.user = name
        self.entries: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.short: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="trash-main"):
            with Horizontal(id="trash-filters", classes="filters"):
                yield Label(f"Trash of {self.user}: loading…", id="trash-title", markup=False)
                yield Input(placeholder="Filter text (/)", id="trash-text")
            with Horizontal(id="trash-body"):
                yield FitTable(COLUMNS, id="trash-table")
                yield Static("", id="trash-empty", markup=False)
                yield ItemView("Deleted item", "", id="trash-item")
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"trash · {self.user}"
        self.query_one(DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="trash", exit_on_error=False)
    def load(self) -> None:
        try:
            rows = self.services.trash(self.user)
        except OperatorError as exc:
            self.post_message(OperationFailed("Reading the trash", str(exc)))
            return
        self.post_message(EntriesLoaded(Entries(rows)))

    @on(EntriesLoaded)
    def _loaded(self, message: EntriesLoaded) -> None:
        self.entries = message.entries.rows
        self.short = short_ids(str(e.get("id")) for e in self.entries)
        self.apply_filter()

    @on(Input.Changed, "#trash-text")
    def apply_filter(self) -> None:
        words = self.query_one("#trash-text", Input).value.lower().split()
        keep = self.selected_id
        self.shown = [
            e
            for e in self.entries
            if all(
                w in self._haystack(e) or typed_id(w, self.short.get(str(e.get("id")), ""))
                for w in words
            )
        ]
        rows = []
        for entry in self.shown:
            item = entry.get("item") or {}
            entry_id = str(entry.get("id"))
            rows.append(
                (
                    entry_id,
                    (
                        plain(self.short.get(entry_id, entry_id)),
                        plain(local_time(entry.get("deleted_at"))),
                        plain(SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side", "")))),
                        subject_cell(item_subject(item)),
                        plain(entry.get("reason", "")),
                    ),
                )
            )
        table = self.query_one(FitTable)
        table.fill(rows)
        ids = [key for key, _ in rows]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        count = f"{len(self.shown)} of {len(self.entries)}" if words else str(len(self.entries))
        self.query_one("#trash-title", Label).update(
            f"Trash of {self.user}: {count} item(s), newest first"
            if self.entries
            else f"Trash of {self.user}: empty"
        )
        empty = self.query_one("#trash-empty", Static)
        if not self.entries:
            empty.update(
                f"The trash of {self.user} is empty: no item deleted by a sync, a revert or "
                "an operator is waiting to be restored."
            )
        elif not self.shown:
            empty.update("No deleted item matches the filter.")
        empty.display = not self.shown
        table.display = bool(self.shown)
        self.show_entry()

    def _haystack(self, entry: dict[str, Any]) -> str:
        entry_id = str(entry.get("id"))
        return " ".join(
            str(x)
            for x in (
                item_subject(entry.get("item")),
                (entry.get("item") or {}).get("location"),
                entry.get("reason"),
                entry.get("side"),
                entry_id,
            )
        ).lower()

    @on(Input.Submitted, "#trash-text")
    def _text_submitted(self) -> None:
        self.query_one(DataTable).focus()

    @property
    def selected(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    @property
    def selected_id(self) -> str | None:
        entry = self.selected
        return str(entry.get("id")) if entry else None

    @on(DataTable.RowHighlighted)
    def show_entry(self) -> None:
        entry = self.selected
        view = self.query_one("#trash-item", ItemView)
        view.show(entry.get("item") if entry else None)
        if entry:
            side = SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side")))
            view.border_subtitle = plain(
                f"deleted from {side} {local_time(entry.get('deleted_at'))}"
            )
        else:
            view.border_subtitle = ""

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()  # escape leaves the filter box first
            return
        self.dismiss(None)

    def action_focus_text(self) -> None:
        self.query_one("#trash-text", Input).focus()

    def action_reload(self) -> None:
        self.load()

    def action_restore(self) -> None:
        entry = self.selected
        if entry is None:
            self.notify("Nothing selected to restore.", severity="warning")
            return
        side = SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side")))
        subject = item_subject(entry.get("item"))
        short = self.short.get(str(entry.get("id")), str(entry.get("id")))
        self.app.push_screen(
            ConfirmDialog(
                f"Restore “{subject}” to the {side} calendar? The next sync carries it "
                "to the other calendar.",
                title="Restore from trash",
                detail=f"trash entry {short} · deleted {local_time(entry.get('deleted_at'))}",
                yes="Restore",
            ),
            lambda yes: self._restore_answer(str(entry["id"]), subject, bool(yes)),
        )

    def _restore_answer(self, entry_id: str, subject: str, yes: bool) -> None:
        if yes:
            self.restore(entry_id, subject)

    @work(thread=True, exclusive=True, group="trash-write", exit_on_error=False)
    def restore(self, entry_id: str, subject: str) -> None:
        try:
            result = self.services.restore(self.user, entry_id)
        except OperatorError as exc:
            self.post_message(OperationFailed("Restore", str(exc)))
            return
        side = SIDE_LABEL.get(str(result.get("side")), str(result.get("side")))
        self.post_message(
            EntryActionDone(f"Restored “{subject}” to the {side} calendar; it is in the log.")
        )

    @on(EntryActionDone)
    def _done(self, message: EntryActionDone) -> None:
        self.notify(message.note, title="Done")
        self.load()

    @on(OperationFailed)
    def _failed(self, message: OperationFailed) -> None:
        self.notify(message.error, title=f"{message.what} failed", severity="error", timeout=10)
