"""The operator TUI: `calsync`, `calsync tui`, `calsync demo`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from tui.screens.help import HelpScreen, screen_commands
from tui.screens.users import UsersScreen
from tui.services import Services


class CalsyncApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "calsync"
    BINDINGS: ClassVar[list[BindingType]] = [
        # shown by every screen's KeysFooter, docked where 80 columns never cut it
        Binding("question_mark", "help", "Help", key_display="?", show=False),
        Binding("q", "quit", "Quit", priority=False),
    ]
    # a screen's table has the keys from its first frame: Textual's default ("*") gave
    # them to the filter box above it until on_mount moved them, and a key pressed while
    # the app starts went into the filter (screens without a table focus in on_mount)
    AUTO_FOCUS = "DataTable"
    # ctrl+p: every action of the current screen by name (tui/screens/help.py)
    ENABLE_COMMAND_PALETTE = True
    #: screens below 120 columns are `-narrow` (app.tcss lays them out for 80×24)
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (120, "-wide"),
    ]
    #: and those under 40 rows `-short` (the users screen's panes share the height)
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (40, "-tall")]

    def __init__(
        self, services: Services, *, autosync: bool = True, subtitle: str | None = None
    ) -> None:
        super().__init__()
        self.services = services
        self.autosync = autosync
        self.sub_title = subtitle if subtitle is not None else str(services.workspace.root)

    def on_mount(self) -> None:
        self.push_screen(UsersScreen(self.services, autosync=self.autosync))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # calsync never writes markup in a notification, and its messages carry item
        # subjects, addresses and server errors: show them as they are, always
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from screen_commands(self, screen)
        yield SystemCommand("Help", "key: ? — every key of this screen", self.action_help)
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        if not isinstance(self.screen, (HelpScreen, CommandPalette)):
            self.push_screen(HelpScreen(self.screen))

    def on_key(self, event: events.Key) -> None:
        # a dialog keeps the app's bindings out (Textual's modal rule): a `?` no widget
        # of it took (an input keeps its `?`) still opens the help, of the dialog's keys
        screen = self.screen
        if (
            event.key == "question_mark"
            and isinstance(screen, ModalScreen)
            and not isinstance(screen, (HelpScreen, CommandPalette))
        ):
            event.stop()
            # after this key is done with: pushed now, the help would take it and close
            self.call_later(self.action_help)

    @property
    def users_screen(self) -> UsersScreen:
        for screen in self.screen_stack:
            if isinstance(screen, UsersScreen):
                return screen
        raise LookupError("the users screen is not open")

    async def action_quit(self) -> None:
        # a running sync stops between two items instead of holding the exit
        # (a thread cannot be killed, but the engine checks this event per action)
        with contextlib.suppress(LookupError):
            self.users_screen.cancel_running()
        await super().action_quit()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        # expected failures are reported by the workers themselves; this is the net
        # under everything else, so a bug shows as a notification, not a dead app
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Unexpected error",
                severity="error",
                timeout=15,
            )
