"""`calsync init / sync / status / check` (log, trash, restore, revert: history.py)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sync import service
from sync.engine.runner import IDENTITY_CHANGED, IDENTITY_QUESTION, RunResult, SyncOptions
from sync.health import Health
from tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    JsonOpt,
    fail,
    out_console,
    print_json,
    state,
)
from tui.cli.progress import user_progress, watched
from tui.cli.render import (
    add_row,
    counts_text,
    health_cell,
    short_time,
    when_text,
)
from tui.cli.runs import finish, sync_everyone, sync_names


def init(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user to initialize.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Answer yes to the calendar-change question.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan, write nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare both calendars, pair existing items and create the missing ones."""
    st = state(ctx)
    shown = watched(as_json=as_json)
    with user_progress(name, enabled=shown) as progress:
        opts = SyncOptions(accept_new_identity=yes, dry_run=dry_run, progress=progress)
        result = service.init_user(st.workspace, st.config, name, opts)
    if result.needs == "identity_changed" and not yes and not as_json and sys.stdin.isatty():
        _show_calendars(result)
        if typer.confirm(f"{IDENTITY_CHANGED} {IDENTITY_QUESTION}", default=False):
            with user_progress(name, enabled=shown) as progress:
                opts = SyncOptions(accept_new_identity=True, dry_run=dry_run, progress=progress)
                result = service.init_user(st.workspace, st.config, name, opts)
    finish([result], as_json)


def sync_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Users to sync.")] = None,
    all_users: Annotated[
        bool, typer.Option("--all", help="Every enabled user with a mailbox.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan, write nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Go past the mass-deletion guard.")
    ] = False,
    as_json: JsonOpt = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="With --all: users synced at once (default 16)."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No output unless a user fails or needs an operator (stderr)."
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N|auto",
            help="With --all: only the users of shard K of N (K from 0), or auto in a "
            "Kubernetes Indexed Job (JOB_COMPLETION_INDEX and CALSYNC_SHARDS).",
        ),
    ] = None,
) -> None:
    """Sync users both ways."""
    st = state(ctx)
    if all_users and names:
        fail("give user names or --all, not both")
    if not all_users and not names:
        fail("name at least one user, or pass --all")
    if jobs is not None and not all_users:
        fail("--jobs goes with --all")
    if shard is not None and not all_users:
        fail("--shard goes with --all")
    if all_users:
        sync_everyone(
            st, dry_run=dry_run, force=force, as_json=as_json, jobs=jobs, quiet=quiet, shard=shard
        )
        return
    sync_names(st, names or [], dry_run=dry_run, force=force, as_json=as_json, quiet=quiet)


def _show_calendars(result: RunResult) -> None:
    """The recorded and the current remote calendar, so the question can be answered."""
    recorded = result.calendars.get("recorded") or {}
    current = result.calendars.get("current") or {}
    if not recorded and not current:
        return
    when = recorded.get("initialized") or "?"
    out_console.print(
        f"recorded at initialization ({when}): {recorded.get('address') or '?'}\n"
        f"{_name_line(recorded.get('name'))}"
        f"  calendar id {recorded.get('identity') or '?'}\n"
        f"answering now: {current.get('address') or '?'}\n"
        f"{_name_line(current.get('name'))}"
        f"  calendar id {current.get('identity') or '?'}",
        markup=False,
    )


def _name_line(name: str | None) -> str:
    """The line naming a calendar: the service's free text on one line, cut with …
    to the terminal's width (at most 80 columns); nothing when it has no name."""
    if not name:
        return ""
    text = Text(" ".join(name.split()))
    text.truncate(max(10, min(out_console.width, 80) - 7), overflow="ellipsis")
    return f"  name {text.plain}\n"


def status_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Per user: enabled, initialized, last sync, last result, counts, last error."""
    st = state(ctx)
    rows = service.status(st.workspace, st.config)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out_console.print("no users yet — add one with `calsync user add`")
        return
    table = Table()
    # enabled and initialized show as the health "disabled" and "never" (--json has both);
    # the changes of the last run only where there is room for them
    wide = out_console.width >= 120
    for col in ("user", "last sync", "result", "health", "next retry"):
        table.add_column(col, no_wrap=col not in ("health", "next retry"))
    if wide:
        table.add_column("changes")
    table.add_column("error", ratio=1, overflow="fold")
    for r in rows:
        health = Health.from_json(r["health"])
        cells = [
            str(r["name"]),
            short_time(str(r["last_sync"]))[5:] if r["last_sync"] else "never",
            str(r["last_result"] or ""),
            health_cell(health),
            when_text(health.next_retry)[5:],
            *([counts_text(r["counts"]) if r["counts"] else ""] if wide else []),
            r["last_error"] or r["last_reason"],
        ]
        add_row(table, *cells)
    out_console.print(table)
    for r in rows:  # the one thing to run, for each user that needs something
        health = Health.from_json(r["health"])
        if health.action and health.state not in ("ok", "disabled"):
            out_console.print(f"{r['name']}: {health.action}", markup=False, soft_wrap=True)


def check_cmd(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """Check that both calendars are reachable and writable with the configured access."""
    st = state(ctx)
    cleared: list[str] = []
    rows = service.check_user(st.workspace, st.config, name, cleared)
    ok = all(r["ok"] for r in rows)
    if as_json:
        print_json({"user": name, "ok": ok, "checks": rows, "cleared": bool(cleared)})
    else:
        for r in rows:
            mark = "[green]ok[/]" if r["ok"] else "[red]FAILED[/]"
            out_console.print(
                f"{mark} {r['side']}: {escape(r['check'])} — {escape(str(r['detail']))}"
            )
        if cleared:
            out_console.print(
                f"{name}: failures cleared; the next job run syncs {name} again", markup=False
            )
    raise typer.Exit(EXIT_OK if ok else EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add these commands to the root `app`."""
    app.command()(init)
    app.command("sync")(sync_cmd)
    app.command("status")(status_cmd)
    app.command("check")(check_cmd)
