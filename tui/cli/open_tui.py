"""`calsync tui` and plain `calsync`: open the operator TUI."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tui.cli.common import EXIT_FAILED, EXIT_USAGE, AppState, fail, state


def open_tui(app_state: AppState, *, autosync: bool = True) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail(
            "the TUI needs a terminal; for scripts use `calsync status`, `calsync sync` …",
            EXIT_USAGE,
        )
    # the TUI starts a workspace: its first user is added from the screen
    app_state.may_create = True
    # config errors surface here as one line, before the screen takes over the terminal
    _ = app_state.config
    from tui.app import CalsyncApp
    from tui.services import Services

    tui = CalsyncApp(Services(app_state.workspace), autosync=autosync)
    tui.run()
    if tui.return_code:
        # an unexpected error ended the app (Textual printed its traceback): a wrapper
        # script or a terminal's `$?` must see a failure, not a normal quit
        fail("the TUI stopped on an unexpected error (details above)", EXIT_FAILED)


def tui_cmd(
    ctx: typer.Context,
    no_autosync: Annotated[
        bool,
        typer.Option(
            "--no-autosync",
            # help is Rich markup: a literal [ is written \[
            help="Do not sync enabled users every \\[job] interval seconds while open "
            "(use it where the server job already syncs them).",
        ),
    ] = False,
) -> None:
    """Open the operator TUI (also what plain `calsync` does)."""
    open_tui(state(ctx), autosync=not no_autosync)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command("tui")(tui_cmd)
