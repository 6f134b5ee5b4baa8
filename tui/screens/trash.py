"""The trash (R8): deleted items, when and from which calendar, whole-item preview, restore."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label

from tui.messages import Entries, EntriesLoaded, EntryActionDone, OperationFailed
from tui.screens.confirm import ConfirmDialog
from tui.services import OperatorError, Services
from tui.widgets.format import SIDE_LABEL, item_subject, local_time, plain, subject_cell
from tui.widgets.item_view import ItemView
from tui.widgets.keys_footer import KeysFooter


class TrashScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("r", "restore", "Restore"),
        Binding("slash", "focus_text", "Filter"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, services: Services, name: str) -> None:
        super().__init__()
        self.services = services
        self.user = name
        self.entries: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="trash-main"):
            with Horizontal(id="trash-filters", classes="filters"):
                yield Label(f"Trash of {self.user}: loading…", id="trash-title", markup=False)
                yield Input(placeholder="Filter text (/)", id="trash-text")
            with Horizontal(id="trash-body"):
                yield DataTable(id="trash-table", cursor_type="row", zebra_stripes=True)
                yield ItemView("Deleted item", "", id="trash-item")
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"trash · {self.user}"
        table = self.query_one(DataTable)
        table.add_column("Deleted", key="deleted")
        table.add_column("From", key="side")
        table.add_column("Subject", key="subject")
        table.add_column("Why", key="reason")
        table.focus()
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
        self.apply_filter()

    @on(Input.Changed, "#trash-text")
    def apply_filter(self) -> None:
        words = self.query_one("#trash-text", Input).value.lower().split()
        table = self.query_one(DataTable)
        keep = self.selected_id
        self.shown = [
            e
            for e in self.entries
            if all(
                w
                in " ".join(
                    str(x)
                    for x in (
                        item_subject(e.get("item")),
                        (e.get("item") or {}).get("location"),
                        e.get("reason"),
                        e.get("side"),
                    )
                ).lower()
                for w in words
            )
        ]
        table.clear()
        for entry in self.shown:
            item = entry.get("item") or {}
            table.add_row(
                plain(local_time(entry.get("deleted_at"))),
                plain(SIDE_LABEL.get(str(entry.get("side")), str(entry.get("side", "")))),
                subject_cell(item_subject(item)),
                plain(entry.get("reason", "")),
                key=str(entry.get("id")),
            )
        ids = [str(e.get("id")) for e in self.shown]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        self.query_one("#trash-title", Label).update(
            f"Trash of {self.user}: {len(self.shown)} item(s)"
            if self.entries
            else f"Trash of {self.user}: empty"
        )
        self.show_entry()

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
        self.app.push_screen(
            ConfirmDialog(
                f"Restore “{subject}” to the {side} calendar? The next sync carries it "
                "to the other calendar.",
                title="Restore from trash",
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
