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
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Delete the demo workspace first and start it afresh (only the demo's)."
        ),
    ] = False,
) -> None:
    """Create the demo workspace (local folders, every user state), initialize and sync it.

    It has a workspace of its own (the data folder's demo/, or --workspace), never
    CALSYNC_WORKSPACE: the operator's real users are not mixed with the demo's.
    """
    from sync.demo import create_demo, demo_workspace, reset_demo  # not loaded otherwise
    from tui.cli.render import render_result
    from tui.cli.sync import status_cmd

    st = state(ctx)
    ws = demo_workspace(st.explicit_workspace)
    if reset:
        reset_demo(ws)
    _, results = create_demo(ws, every_state=True)
    demo_state = AppState(ws.root)
    ctx.find_root().obj = demo_state
    out_console.print(f"demo workspace: {ws.root}", markup=False)
    for result in results:
        render_result(result)
    out_console.print(
        "erik (held by the deletion guard) and frida (a calendar gone) are in trouble on "
        "purpose: select them in the TUI to see why and what fixes it. "
        "`calsync demo --reset` starts the demo afresh.",
        markup=False,
    )
    if no_tui:
        status_cmd(ctx, as_json=False)
        return
    from tui.cli.open_tui import open_tui

    open_tui(demo_state)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command()(demo)
