"""`calsync retry NAME`: the operator has fixed what made a user fail; sync them again.

The server job leaves a user alone after a permanent failure or too many transient
ones in a row (sync/health.py). This clears that, like a passing `calsync check`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from storage.errors import StoreError
from storage.users import UserStore
from sync.health import clear, health_of
from tui.cli.common import JsonOpt, fail, out_console, print_json, state


def retry_cmd(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="The users to retry.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Clear a user's failures: the next `sync --all` (or `watch`) syncs them again."""
    st = state(ctx)
    store = UserStore(st.workspace)
    try:  # an unknown name: exit 2 before any user is cleared
        users = [store.get(name) for name in dict.fromkeys(names)]
    except StoreError as exc:
        fail(str(exc))
    rows = []
    for user in users:
        name = str(user["name"])
        cleared = clear(st.workspace, name, "retry")
        health = health_of(st.workspace, st.config, user)
        rows.append({"user": name, "cleared": cleared, "health": health.to_json()})
        if as_json:
            continue
        if cleared:
            line = f"{name}: failures cleared; the next job run syncs {name} again"
            out_console.print(f"{line} (or run `calsync sync {name}` now)", markup=False)
        else:
            what = health.reason or health.state.replace("_", " ")
            hint = f": {health.action}" if health.action else ""
            out_console.print(f"{name}: nothing to clear ({what}){hint}", markup=False)
    if as_json:
        print_json(rows)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command("retry")(retry_cmd)
