"""`calsync revert-run NAME RUN_ID`: undo a whole run, previewed first (sync/revert_run.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from tui.cli.common import EXIT_FAILED, JsonOpt, err_console, out_console, print_json, state


def revert_run_cmd(
    ctx: typer.Context,
    name: str,
    run_id: Annotated[str, typer.Argument(help="The run's id, as `calsync log` shows it.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Revert; without it, only show what would happen.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Undo a whole run: put every item it changed back as it was before the run."""
    from sync import revert_run

    st = state(ctx)
    if not yes:
        steps = revert_run.preview(st.workspace, name, run_id)
        if as_json:
            print_json({"run_id": run_id, "preview": steps})
            return
        for step in steps:
            out_console.print(
                f"{step['log_id']}  {step['side']:<6} {step['action']:<6} "
                f"{step['subject']!r}: would {step['undo']}",
                markup=False,
            )
        out_console.print(
            f"{len(steps)} change(s); nothing written. To revert them: "
            f"calsync revert-run {name} {run_id} --yes",
            markup=False,
        )
        return
    result = revert_run.revert_run(st.workspace, st.config, name, run_id)
    if as_json:
        print_json(result)
    else:
        out_console.print(
            f"reverted {len(result['reverted'])} change(s) of run {run_id}; "
            f"the next sync carries them to the other calendar",
            markup=False,
        )
    for failure in result["failed"]:
        err_console.print(
            f"calsync: {failure['log_id']} {failure['subject']!r}: {failure['error']}",
            markup=False,
        )
    if result["failed"]:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command("revert-run")(revert_run_cmd)
