"""`calsync demo`: a ready workspace on local folders, so a new user sees it all work."""

from __future__ import annotations

from typing import Annotated

import typer

from tui.cli.common import AppState, out_console, state


def demo(
    ctx: typer.Context,
    no_tui: Annotated[
        bool, typer.Option("--no-tui", help="Print the status instead of opening the TUI.")
    ] = False,
) -> None:
    """Create the demo workspace (three users, local folders), initialize and sync it."""
    from sync.demo import create_demo, demo_workspace  # not loaded for other commands
    from tui.cli.render import render_result
    from tui.cli.sync import status_cmd

    st = state(ctx)
    ws = demo_workspace(st.explicit_workspace or _env_workspace())
    _, results = create_demo(ws)
    demo_state = AppState(ws.root)
    ctx.find_root().obj = demo_state
    out_console.print(f"demo workspace: {ws.root}", markup=False)
    for result in results:
        render_result(result)
    if no_tui:
        status_cmd(ctx, as_json=False)
        return
    from tui.cli.open_tui import open_tui

    open_tui(demo_state)


def _env_workspace():  # type: ignore[no-untyped-def]
    import os
    from pathlib import Path

    env = os.environ.get("CALSYNC_WORKSPACE")
    return Path(env) if env else None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command()(demo)
