"""Add a user or edit one's calendars and settings (the seed's "rutin 613" dialog).

Every field is parsed with the same rules as `calsync user set` before the form
closes, so a bad value is named next to the form and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from tui.services import OperatorError

#: per-user settings; an empty field means "not set here": the job value or default applies
TEXT_SETTINGS = ("reminders", "window_past_days", "window_future_days")
CHOICE_SETTINGS: dict[str, list[tuple[str, str]]] = {
    "skip_private": [("default", ""), ("yes", "yes"), ("no", "no")],
    "multiday": [("default", ""), ("title", "title"), ("keep", "keep")],
}
#: terminals fewer rows than this get the compact form (one row per field)
SHORT_SCREEN = 40
HINTS = {
    "crm": "CRM calendar, e.g. folder:/srv/crm/anna",
    "remote": "remote calendar, e.g. caldav:https://host/cal/ (empty: none)",
    "reminders": "sync | off | minutes:N (empty: default)",
    "window_past_days": "days back (empty: default)",
    "window_future_days": "days ahead (empty: default)",
}


@dataclass
class UserForm:
    """What the operator submitted, as text: services parse it again when writing."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    #: a new user: never written over an existing one, whatever the name
    adding: bool = False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class UserFormScreen(ModalScreen[UserForm | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self,
        check: Callable[[str, str], Any],
        *,
        record: Mapping[str, Any] | None = None,
        check_name: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__()
        self._check = check
        self._check_name = check_name
        self.record = dict(record or {})
        self.adding = record is None

    def compose(self) -> ComposeResult:
        title = "Add user" if self.adding else f"Edit user {self.record.get('name')}"
        with Vertical(id="form-dialog"):
            yield Label(title, id="form-title", markup=False)
            with VerticalScroll(id="form-fields"):
                if self.adding:
                    yield from self._row(
                        "name", Input(placeholder="letters, digits, . _ @ -", id="f-name")
                    )
                for key in ("crm", "remote"):
                    yield from self._row(
                        key,
                        Input(_text(self.record.get(key)), placeholder=HINTS[key], id=f"f-{key}"),
                    )
                yield from self._row(
                    "enabled",
                    Select(
                        [("yes", "yes"), ("no", "no")],
                        value="yes" if self.record.get("enabled", True) else "no",
                        allow_blank=False,
                        id="f-enabled",
                    ),
                )
                for key, options in CHOICE_SETTINGS.items():
                    yield from self._row(
                        key,
                        Select(
                            options,
                            value=_text(self.record.get(key)),
                            allow_blank=False,
                            id=f"f-{key}",
                        ),
                    )
                for key in TEXT_SETTINGS:
                    yield from self._row(
                        key,
                        Input(_text(self.record.get(key)), placeholder=HINTS[key], id=f"f-{key}"),
                    )
            yield Static("", id="form-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        # the first field, ready to type in (the name when adding, else the CRM calendar)
        self.query_one("#f-name" if self.adding else "#f-crm").focus()

    def on_resize(self, event: events.Resize) -> None:
        # on a short terminal (80×24) every field on one line each, all in sight at once
        short = event.size.height < SHORT_SCREEN
        self.set_class(short, "-short")
        for widget in self.query(Input).results():
            widget.compact = short
        for select in self.query(Select).results():
            select.compact = short
        for button in self.query(Button).results():
            button.compact = short

    def _row(self, key: str, widget: Input | Select[str]) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(key.replace("_", " "), classes="form-label")
            yield widget

    def _value(self, key: str) -> str:
        widget = self.query_one(f"#f-{key}")
        if isinstance(widget, Input):
            return widget.value
        assert isinstance(widget, Select)
        value = widget.value
        return value if isinstance(value, str) else ""

    def _fail(self, key: str, message: str) -> None:
        self.query_one("#form-error", Static).update(message)
        widget = self.query_one(f"#f-{key}")
        widget.add_class("invalid")
        widget.focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        for widget in self.query(".invalid"):
            widget.remove_class("invalid")
        keys = ["crm", "remote", "enabled", *CHOICE_SETTINGS, *TEXT_SETTINGS]
        values = {key: self._value(key).strip() for key in keys}
        name = str(self.record.get("name", ""))
        if self.adding:
            name = self._value("name").strip()
            try:
                if self._check_name is not None:
                    self._check_name(name)
            except OperatorError as exc:
                self._fail("name", str(exc))
                return
            if not values["crm"]:
                self._fail("crm", "crm needs a calendar URL such as folder:/path")
                return
        for key in keys:
            if self.adding and key == "remote" and not values[key]:
                self._fail(key, "remote needs a calendar URL (edit it later to remove it)")
                return
            try:
                self._check(key, values[key])
            except OperatorError as exc:
                self._fail(key, str(exc))
                return
        if values["crm"] and values["crm"] == values["remote"]:
            self._fail("remote", "crm and remote are the same calendar; they must differ")
            return
        if not self.adding:
            # only what changed: an untouched empty field must not clear anything twice
            values = {k: v for k, v in values.items() if v != _text(self.record.get(k))}
        self.dismiss(UserForm(name, values, adding=self.adding))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
