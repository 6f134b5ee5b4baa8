"""The dry-run preview: every change a run would make, before anything is written."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.services import RunResult
from tui.widgets.fit_table import Column, FitTable
from tui.widgets.format import SIDE_LABEL, item_value, plain, subject_cell

OP_STYLE = {"create": "green", "update": "yellow", "delete": "bold red"}


#: what each change is, in columns that fit 80 columns (the cut ones end in …)
PLAN_COLUMNS = (
    Column("op", "Action", width=6),
    Column("side", "Side", width=6),
    Column("subject", "Subject", share=3, least=12),
    Column("start", "Start", share=1, least=22),
    Column("reason", "Reason", share=2, least=8),
)


class PlanScreen(ModalScreen[bool]):
    """Dismisses True for "apply", False for "cancel"."""

    HELP_TITLE = "Preview"
    #: below 100 columns the preview takes the whole screen
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (100, "-wide"),
    ]

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
                yield FitTable(PLAN_COLUMNS, id="plan-table")
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
        table = self.query_one(FitTable)
        rows = []
        for n, action in enumerate(plan.writes):
            shown = action.after or action.before
            start = item_value("start", shown.start.isoformat()) if shown else ""
            cells = (
                Text(action.op, style=OP_STYLE.get(action.op, "")),
                plain(SIDE_LABEL.get(action.side, action.side)),
                subject_cell(shown.subject if shown else ""),
                plain(start),
                plain(action.reason),
            )
            rows.append((str(n), cells))
        table.fill(rows)
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
