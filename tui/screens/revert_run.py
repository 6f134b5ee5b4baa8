"""Undo a whole run from the change log: every change it made, previewed, then reverted.

The same steps as `calsync revert-run NAME RUN_ID` (sync/revert_run.py): the preview
is read first and nothing is written until the operator applies it. The dialog does
its own reading and writing in workers, so the log screen only has to open it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from tui.services import OperatorError, Services
from tui.widgets.format import SIDE_LABEL, local_time, plain, subject_cell

ACTION_STYLE = {"create": "green", "update": "yellow", "delete": "red"}


class RunPreviewLoaded(Message):
    def __init__(self, steps: list[dict[str, Any]], error: str = "") -> None:
        super().__init__()
        self.steps = steps
        self.error = error


class RunReverted(Message):
    def __init__(self, result: dict[str, Any] | None, error: str = "") -> None:
        super().__init__()
        self.result = result
        self.error = error


#: the undo column at 80 columns (the text above the table says it in full)
UNDO_SHORT = {"create": "delete (trash)", "delete": "restore", "update": "put back"}


def run_in_progress(app: App[object]) -> bool:
    """Whether a screen below (the users screen) has a sync or init running.

    Undoing while a run writes would undo only what it has saved so far, and race it
    for the user's lock; by duck type, as the users screen imports the log screen.
    """
    return any(getattr(screen, "running", False) is True for screen in app.screen_stack)


def outcome_note(result: dict[str, Any]) -> str:
    """One line on what the undo did, for a notification."""
    done, failed = len(result["reverted"]), len(result["failed"])
    note = f"Undid {done} change(s) of run {result.get('short_id') or result['run_id']}"
    if failed:
        note += f"; {failed} could not be undone"
    return note + ". The next sync carries them to the other calendar."


class RevertRunScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with revert_run's result once applied, None when left alone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "apply", "Undo the run"),
        Binding("escape,c", "cancel", "Cancel"),
    ]
    # CSS, not DEFAULT_CSS: app.tcss's rules win over any default
    CSS: ClassVar[str] = """
    RevertRunScreen { align: center middle; }
    RevertRunScreen #undo-dialog {
        width: 90%; height: 90%; max-width: 140;
        border: thick $error; background: $surface; padding: 0 1;
    }
    RevertRunScreen #undo-title { text-style: bold; width: 100%; }
    RevertRunScreen #undo-detail { color: $text-muted; }
    RevertRunScreen #undo-table { height: 1fr; }
    RevertRunScreen #undo-buttons { height: auto; align-horizontal: right; }
    RevertRunScreen #undo-buttons Button { margin-left: 2; }
    """

    def __init__(self, services: Services, user: str, run_id: str, when: str = "") -> None:
        super().__init__()
        self.services = services
        self.user = user
        self.run_id = run_id
        self.when = when
        self.steps: list[dict[str, Any]] = []
        self.busy = True
        #: the run's short id, as `calsync revert-run` takes it, once the preview is read
        self.short_id = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="undo-dialog"):
            yield Label(f"Undo run {self.run_id} of {self.user}", id="undo-title", markup=False)
            yield Static("Reading what the run changed…", id="undo-detail", markup=False)
            yield DataTable(id="undo-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="undo-buttons"):
                yield Button("Undo the run (a)", id="apply", variant="error", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self.load_preview()

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def load_preview(self) -> None:
        try:
            steps = self.services.revert_run_preview(self.user, self.run_id)
            self.short_id = self.services.short_run_id(self.user, self.run_id)
        except OperatorError as exc:
            self.post_message(RunPreviewLoaded([], str(exc)))
            return
        self.post_message(RunPreviewLoaded(steps))

    @on(RunPreviewLoaded)
    def _preview_loaded(self, message: RunPreviewLoaded) -> None:
        detail = self.query_one("#undo-detail", Static)
        self.busy = False
        if message.error:
            detail.update(Text(message.error, style="bold red"))
            self.query_one("#cancel", Button).label = "Close (esc)"
            return
        self.steps = message.steps
        self.query_one("#undo-title", Label).update(
            f"Undo run {self.short_id or self.run_id} of {self.user}"
        )
        when = f"The run of {local_time(self.when)} made" if self.when else "The run made"
        detail.update(
            f"{when} {len(self.steps)} change(s). Undoing puts each item back as it was "
            "before the run, newest first (a created item goes to the trash); nothing is "
            "written until you press a. The next sync carries it to the other calendar."
        )
        table = self.query_one(DataTable)
        table.add_columns("Calendar", "Action", "Subject", "Undo")
        for step in self.steps:
            action = str(step.get("action", ""))
            table.add_row(
                plain(SIDE_LABEL.get(str(step.get("side")), str(step.get("side", "")))),
                Text(action, style=ACTION_STYLE.get(action, "")),
                subject_cell(str(step.get("subject", ""))),
                plain(UNDO_SHORT.get(action, str(step.get("undo", "")))),
            )
        self.query_one("#apply", Button).disabled = False
        self.refresh_bindings()
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return bool(self.steps) and not self.busy
        return True

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if not self.steps or self.busy:
            return
        self.busy = True
        self.query_one("#apply", Button).disabled = True
        self.query_one("#undo-detail", Static).update("Undoing the run…")
        self.refresh_bindings()
        self.revert()

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def revert(self) -> None:
        try:
            result = self.services.revert_run(self.user, self.run_id)
        except OperatorError as exc:
            self.post_message(RunReverted(None, str(exc)))
            return
        self.post_message(RunReverted(result))

    @on(RunReverted)
    def _reverted(self, message: RunReverted) -> None:
        if message.result is None:
            self.busy = False
            self.steps = []  # some changes may be undone already: the log tells, not a retry
            self.query_one("#undo-detail", Static).update(
                Text(f"Undo failed: {message.error}", style="bold red")
            )
            self.refresh_bindings()
            return
        self.dismiss({**message.result, "short_id": self.short_id})

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.busy and self.steps:
            return  # the undo is being written: it finishes, then the dialog closes
        self.dismiss(None)
