"""`calsync sync --all`: the headless server job (SPEC R11)."""

from __future__ import annotations

import typer

from storage.users import UserStore
from sync import service
from sync.engine.runner import RunResult, SyncOptions
from tui.cli_common import state


def sync_all(ctx: typer.Context, *, dry_run: bool, force: bool, as_json: bool) -> None:
    from tui.cli_sync import _finish

    st = state(ctx)
    results: list[RunResult] = []
    for user in UserStore(st.workspace).all():
        name = str(user["name"])
        if not user.get("enabled", True):
            results.append(RunResult(name, "skipped", "disabled"))
            continue
        if not user.get("remote"):
            results.append(RunResult(name, "skipped", "no mailbox registered"))
            continue
        opts = SyncOptions(dry_run=dry_run, force=force)
        results.append(service.sync_user(st.workspace, st.config, name, opts))
    _finish(results, as_json)
