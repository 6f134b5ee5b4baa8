"""`calsync tui` and plain `calsync`: open the operator TUI."""

from __future__ import annotations

import typer

from tui.cli import app
from tui.cli_common import AppState, out_console, state


def open_tui(app_state: AppState) -> None:
    # the Textual app lands with issue 7; until then show the status table
    from tui.cli_sync import status_cmd

    out_console.print("(the operator TUI is not built yet; showing status)")
    ctx = typer.Context(typer.main.get_command(app))
    ctx.obj = app_state
    status_cmd(ctx, as_json=False)


@app.command("tui")
def tui_cmd(ctx: typer.Context) -> None:
    """Open the operator TUI."""
    open_tui(state(ctx))
