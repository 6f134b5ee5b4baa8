"""`calsync revert-run NAME RUN_ID`: undo a whole run, previewed first (sync/revert_run.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from tui.cli.common import EXIT_FAILED, JsonOpt, err_console, out_console, print_json, state


def revert_run_cmd(
    ctx: typer.Context,
    name: str,
    run_id: Annotated[
        str,
        typer.Argument(
            help="The run: the id of any change it made, as `calsync log` shows it, "
            "or the run's own id (full or short).",
            show_default=False,
        ),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Revert; without it, only show what would happen.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Undo a whole run: put every item it changed back as it was before the run."""
    from sync import revert_run

    st = state(ctx)
    full_id = revert_run.resolve_run(st.workspace, name, run_id)
    short_run = revert_run.short_run_id(st.workspace, name, full_id)
    if not yes:
        steps = revert_run.preview(st.workspace, name, full_id)
        if as_json:
            print_json({"run_id": full_id, "short_id": short_run, "preview": steps})
            return
        out_console.print(f"run {short_run} of {name} ({full_id}):", markup=False)
        for step in steps:
            out_console.print(
                f"{step['short_id']}  {step['side']:<6} {step['action']:<6} "
                f"{step['subject']!r}: would {step['undo']}",
                markup=False,
            )
        out_console.print(
            f"{len(steps)} change(s); nothing written. To revert them: "
            f"calsync revert-run {name} {short_run} --yes",
            markup=False,
        )
        return
    short = {
        step["log_id"]: step["short_id"] for step in revert_run.preview(st.workspace, name, full_id)
    }
    result = revert_run.revert_run(st.workspace, st.config, name, full_id)
    if as_json:
        print_json(result)
    else:
        out_console.print(
            f"reverted {len(result['reverted'])} change(s) of run {short_run}; "
            f"the next sync carries them to the other calendar",
            markup=False,
        )
    for failure in result["failed"]:
        shown = short.get(failure["log_id"], failure["log_id"])
        err_console.print(
            f"calsync: {shown} {failure['subject']!r}: {failure['error']}",
            markup=False,
        )
    if result["failed"]:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command("revert-run")(revert_run_cmd)
