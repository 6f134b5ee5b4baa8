"""`?`: every key of the screen underneath, and the same actions for the command palette.

Both are read from the screens' and the app's BINDINGS when they are asked for, so
a key added to a screen is in its help and its palette without a word written here.
A binding's `tooltip` is the longer explanation, shown next to its description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.actions import parse as parse_action
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static


@dataclass(frozen=True)
class KeyRow:
    keys: str
    description: str
    action: str
    #: the longer explanation (the binding's tooltip), or ""
    detail: str = ""
    #: bound by calsync, not by Textual's own classes (tab, ctrl+q…)
    own: bool = True


def _describe(binding: Binding) -> str:
    if binding.description:
        return binding.description
    name = parse_action(binding.action)[1]
    return name.replace("_", " ").capitalize()


def key_rows(app: App[object], node: DOMNode, *, over_dialog: bool = False) -> list[KeyRow]:
    """One row per action `node` binds, its keys together ("esc / q").

    The node's class first, in BINDINGS order, then what it inherits; a key a class
    rebinds hides the base class's use of it, as it does when pressed. `over_dialog`:
    only the keys that reach through a dialog (priority ones, and `?`).
    """
    rows: dict[str, tuple[list[str], Binding, bool]] = {}
    claimed: set[str] = set()
    for cls in type(node).__mro__:
        own = not cls.__module__.startswith("textual.")
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.system or binding.key in claimed:
                continue  # Textual's own (ctrl+c quits with a hint), or rebound
            if over_dialog and not binding.priority and binding.action != "help":
                continue  # a dialog keeps the app's other keys out (Textual's modal rule)
            claimed.add(binding.key)
            keys, _, _ = rows.setdefault(binding.action, ([], binding, own))
            shown = app.get_key_display(binding)
            if shown not in keys:
                keys.append(shown)
    return [
        KeyRow(" / ".join(keys), _describe(binding), binding.action, binding.tooltip or "", own)
        for keys, binding, own in rows.values()
    ]


def screen_title(screen: Screen[object]) -> str:
    """`HELP_TITLE` if the screen has one, else its class name in words ("User form")."""
    title = getattr(screen, "HELP_TITLE", None)
    if isinstance(title, str):
        return title
    name = re.sub(r"(Screen|Dialog)$", "", type(screen).__name__) or type(screen).__name__
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).capitalize()


def screen_commands(app: App[object], screen: Screen[object]) -> Iterator[SystemCommand]:
    """The palette's commands: every action of `screen` that may run now, with its key."""
    for row in key_rows(app, screen):
        if not row.own:
            continue  # focus next, copy: Textual's, and the palette has its own
        namespace, name, params = parse_action(row.action)
        if not namespace and screen.check_action(name, params) is False:
            continue
        help_text = f"key: {row.keys}" + (f" — {row.detail}" if row.detail else "")
        yield SystemCommand(row.description, help_text, partial(screen.run_action, row.action))


class HelpScreen(ModalScreen[None]):
    """Keys of this screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", key_display="esc"),
    ]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label(
                Text(f"Keys: {screen_title(self.for_screen)}"), id="help-title", markup=False
            )
            with VerticalScroll(id="help-scroll"):
                yield Static(self._keys_table(), id="help-keys")
            yield Static(
                "ctrl+p: the command palette, every action of this screen by name. "
                "esc closes this help.",
                id="help-hint",
                markup=False,
            )

    def _keys_table(self) -> Table:
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
        table.add_column("Key", no_wrap=True, style="bold", min_width=6)
        table.add_column("Does", ratio=1, overflow="fold")
        app = self.app
        sections = [
            (screen_title(self.for_screen), key_rows(app, self.for_screen)),
            (
                "Everywhere",
                key_rows(app, app, over_dialog=isinstance(self.for_screen, ModalScreen)),
            ),
        ]
        if app.ENABLE_COMMAND_PALETTE:
            palette = KeyRow(app.COMMAND_PALETTE_BINDING.replace("ctrl+", "^"), "Commands", "")
            sections[-1][1].append(palette)
        for title, rows in sections:
            if not rows:
                continue
            table.add_row(Text(title, style="bold underline"), Text(""))
            for row in rows:
                does = Text(row.description)
                if row.detail:
                    does.append(f" — {row.detail}", style="dim")
                table.add_row(Text(row.keys), does)
        return table

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
