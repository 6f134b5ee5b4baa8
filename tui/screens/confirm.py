"""A yes/no question. "No" is the default: every question here guards a change."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(
        self,
        question: str,
        *,
        title: str = "Confirm",
        detail: str = "",
        yes: str = "Yes",
        no: str = "No",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.question = question
        self.title_text = title
        self.detail = detail
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger" if self.danger else ""):
            yield Label(self.title_text, id="dialog-title", markup=False)
            yield Static(self.question, id="question", markup=False)
            if self.detail:
                yield Static(self.detail, id="dialog-detail", markup=False)
            yield from self.extra()
            with Horizontal(id="dialog-buttons"):
                yield Button(
                    Text(f"{self.yes} (y)"),
                    id="yes",
                    variant="error" if self.danger else "primary",
                )
                yield Button(Text(f"{self.no} (n)"), id="no", variant="default")

    def extra(self) -> ComposeResult:
        """What a dialog built on this one shows between the question and the buttons."""
        return iter(())

    def first_focus(self) -> Widget:
        """Where the keyboard starts: "No", so a stray Enter changes nothing."""
        return self.query_one("#no", Button)

    def on_mount(self) -> None:
        # Textual calls a subclass's on_mount too (before this one): fill, then focus
        self.first_focus().focus()

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
