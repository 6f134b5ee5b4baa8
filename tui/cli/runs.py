"""What `calsync sync NAME…` and `calsync sync --all` run once their command line is read.

Reached two ways: through Typer (`tui.cli.sync.sync_cmd`) and, for the plain forms
a cron line uses, without it (`tui.cli.quick`). So nothing here imports Typer, and
both ways print the same and exit with the same code.
"""

from __future__ import annotations

import os

from sync import service
from sync.engine.runner import RunResult, SyncOptions
from sync.job import error_line
from sync.shard import ShardError, parse_shard
from sync.users import get_user
from tui.cli.common import AppState, fail, leave, print_json, stderr_console
from tui.cli.progress import user_progress, watched
from tui.cli.render import exit_code, render_plan, render_result, report_errors


def sync_names(
    st: AppState,
    names: list[str],
    *,
    dry_run: bool = False,
    force: bool = False,
    as_json: bool = False,
    quiet: bool = False,
) -> None:
    """`calsync sync NAME…`."""
    unique = list(dict.fromkeys(names))  # `sync anna anna` syncs anna once
    for n in unique:
        get_user(st.workspace, n)  # an unknown name fails before anyone is synced
    shown = watched(as_json=as_json, quiet=quiet)
    results = []
    for n in unique:
        with user_progress(n, enabled=shown) as progress:
            opts = SyncOptions(dry_run=dry_run, force=force, progress=progress)
            results.append(service.sync_user(st.workspace, st.config, n, opts))
    finish(results, as_json, quiet=quiet)


def sync_everyone(
    st: AppState,
    *,
    dry_run: bool = False,
    force: bool = False,
    as_json: bool = False,
    jobs: int | None = None,
    quiet: bool = False,
    shard: str | None = None,
) -> None:
    """`calsync sync --all`: the server job (tui/cli/job.py) over the shard asked for."""
    from tui.cli.job import sync_all

    try:
        part = parse_shard(shard, os.environ) if shard is not None else None
    except ShardError as exc:
        fail(str(exc))
    sync_all(st, dry_run=dry_run, force=force, as_json=as_json, jobs=jobs, quiet=quiet, shard=part)


def finish(results: list[RunResult], as_json: bool, *, quiet: bool = False) -> None:
    """Print the results of `init` or `sync NAME…` and end with their exit code."""
    if as_json:
        print_json(results[0].to_json() if len(results) == 1 else [r.to_json() for r in results])
        for result in results:
            report_errors(result)
    elif quiet:
        for result in results:
            problem = error_line(result) or (result.reason if result.result == "busy" else None)
            if problem is not None:
                stderr_console().print(
                    f"calsync: {result.user}: {result.result}: {problem}", markup=False
                )
    else:
        for result in results:
            if result.plan is not None and result.result == "planned":
                render_plan(result)
            render_result(result)
    leave(exit_code(results, busy_fails=True))
