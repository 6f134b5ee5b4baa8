"""The dry-run preview: every change a run would make, before anything is written."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from tui.services import RunResult
from tui.widgets.format import SIDE_LABEL, item_value, plain, subject_cell

OP_STYLE = {"create": "green", "update": "yellow", "delete": "bold red"}


class PlanScreen(ModalScreen[bool]):
    """Dismisses True for "apply", False for "cancel"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "apply", "Apply"),
        Binding("escape,c", "cancel", "Cancel"),
    ]

    def __init__(self, result: RunResult, *, init: bool) -> None:
        super().__init__()
        self.result = result
        self.init = init

    def compose(self) -> ComposeResult:
        plan = self.result.plan
        writes = plan.writes if plan is not None else []
        verb = "Initialization" if self.init else "Sync"
        with Vertical(id="plan-dialog"):
            yield Label(
                f"{verb} preview for {self.result.user}: {len(writes)} change(s)",
                id="plan-title",
                markup=False,
            )
            if plan is not None and plan.guard:
                yield Static(
                    f"Safety guard: {plan.guard}. Applying will ask before deleting.",
                    id="plan-guard",
                    markup=False,
                )
            for warning in self.result.warnings:
                yield Static(f"warning: {warning}", classes="plan-warning", markup=False)
            if writes:
                yield DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
            else:
                yield Static("Nothing to change: both calendars agree.", id="plan-empty")
            with Horizontal(id="plan-buttons"):
                # nothing to do, nothing to apply: the button would only invite a no-op run
                if writes:
                    yield Button("Apply (a)", id="apply", variant="primary")
                yield Button("Close (esc)" if not writes else "Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        plan = self.result.plan
        if plan is None or not plan.writes:
            self.query_one("#cancel", Button).focus()
            return
        table = self.query_one(DataTable)
        table.add_columns("Action", "Calendar", "Subject", "Start", "Reason")
        for action in plan.writes:
            shown = action.after or action.before
            start = item_value("start", shown.start.isoformat()) if shown else ""
            table.add_row(
                Text(action.op, style=OP_STYLE.get(action.op, "")),
                plain(SIDE_LABEL.get(action.side, action.side)),
                subject_cell(shown.subject if shown else ""),
                plain(start),
                plain(action.reason),
            )
        table.focus()

    @property
    def has_writes(self) -> bool:
        return self.result.plan is not None and bool(self.result.plan.writes)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "apply" leaves the footer (and does nothing) when the preview found nothing
        return self.has_writes if action == "apply" else True

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.has_writes:
            self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
