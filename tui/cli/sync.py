"""`calsync init / sync / status / log / trash / restore / revert / check`."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sync import service
from sync.engine.runner import IDENTITY_CHANGED, RunResult, SyncOptions
from sync.job import error_line
from sync.shard import ShardError, parse_shard
from sync.users import get_user
from tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    JsonOpt,
    err_console,
    fail,
    out_console,
    print_json,
    state,
)
from tui.cli.render import (
    add_row,
    counts_text,
    exit_code,
    render_plan,
    render_result,
    report_errors,
)


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
    opts = SyncOptions(accept_new_identity=yes, dry_run=dry_run)
    result = service.init_user(st.workspace, st.config, name, opts)
    if result.needs == "identity_changed" and not yes and not as_json and sys.stdin.isatty():
        if typer.confirm(IDENTITY_CHANGED, default=False):
            opts = SyncOptions(accept_new_identity=True, dry_run=dry_run)
            result = service.init_user(st.workspace, st.config, name, opts)
    _finish([result], as_json)


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
        from tui.cli.job import sync_all

        try:
            part = parse_shard(shard, os.environ) if shard is not None else None
        except ShardError as exc:
            fail(str(exc))
        sync_all(
            ctx, dry_run=dry_run, force=force, as_json=as_json, jobs=jobs, quiet=quiet, shard=part
        )
        return
    unique = list(dict.fromkeys(names or []))  # `sync anna anna` syncs anna once
    for n in unique:
        get_user(st.workspace, n)  # an unknown name fails before anyone is synced
    results = [
        service.sync_user(st.workspace, st.config, n, SyncOptions(dry_run=dry_run, force=force))
        for n in unique
    ]
    _finish(results, as_json, quiet=quiet)


def _finish(results: list[RunResult], as_json: bool, *, quiet: bool = False) -> None:
    if as_json:
        print_json(results[0].to_json() if len(results) == 1 else [r.to_json() for r in results])
        for result in results:
            report_errors(result)
    elif quiet:
        for result in results:
            problem = error_line(result) or (result.reason if result.result == "busy" else None)
            if problem is not None:
                err_console.print(
                    f"calsync: {result.user}: {result.result}: {problem}", markup=False
                )
    else:
        for result in results:
            if result.plan is not None and result.result == "planned":
                render_plan(result)
            render_result(result)
    raise typer.Exit(exit_code(results, busy_fails=True))


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
    for col in ("user", "enabled", "initialized", "last sync", "result", "last run", "error"):
        table.add_column(col)
    for r in rows:
        add_row(
            table,
            str(r["name"]),
            "yes" if r["enabled"] else "no",
            "?" if r["initialized"] is None else "yes" if r["initialized"] else "no",
            str(r["last_sync"] or "never"),
            str(r["last_result"] or ""),
            counts_text(r["counts"]) if r["counts"] else "",
            r["last_error"] or r["last_reason"],
        )
    out_console.print(table)


def _when(text: str) -> str:
    """ISO time (maybe with an [IANA zone] suffix) as a short wall-clock time."""
    text = text.split("[", 1)[0]
    return text[:16].replace("T", " ")


def _item_line(item: dict[str, Any] | None) -> str:
    if not item:
        return "—"
    return f"{item.get('subject', '')} @ {_when(str(item.get('start', '')))}"


def log_cmd(
    ctx: typer.Context,
    name: str,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="At most this many entries.")
    ] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The change log, newest first: side, action, reason, before and after."""
    st = state(ctx)
    unreadable: list[str] = []
    entries = service.log_entries(st.workspace, name, limit, unreadable)
    for problem in unreadable:
        err_console.print(f"calsync: warning: {problem}", markup=False)
    if as_json:
        keys = ("id", "time", "side", "action", "reason", "item_id", "before", "after")
        print_json([{k: e.get(k) for k in keys} for e in entries])
        return
    table = Table()
    for col in ("id", "time", "side", "action", "reason", "before", "after"):
        table.add_column(col, overflow="fold")
    for e in entries:
        add_row(
            table,
            e["id"],
            _when(e["time"]),
            e["side"],
            e["action"],
            e["reason"],
            _item_line(e.get("before")),
            _item_line(e.get("after")),
        )
    out_console.print(table)


def trash_cmd(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """Deleted items kept for restore."""
    st = state(ctx)
    entries = service.trash_entries(st.workspace, name)
    if as_json:
        print_json(
            [{k: e.get(k) for k in ("id", "deleted_at", "side", "reason", "item")} for e in entries]
        )
        return
    table = Table()
    for col in ("id", "deleted at", "side", "item", "reason"):
        table.add_column(col, overflow="fold")
    for e in entries:
        add_row(
            table,
            e["id"],
            _when(e["deleted_at"]),
            e["side"],
            _item_line(e["item"]),
            e.get("reason", ""),
        )
    out_console.print(table)


def restore_cmd(ctx: typer.Context, name: str, entry_id: str, as_json: JsonOpt = False) -> None:
    """Re-create a trashed item on the side it was deleted from; the next sync carries it over."""
    st = state(ctx)
    result = service.restore(st.workspace, st.config, name, entry_id)
    if as_json:
        print_json(result)
    else:
        out_console.print(
            f"restored {entry_id} to the {result['side']} calendar (uid {result['uid']})"
        )


def revert_cmd(ctx: typer.Context, name: str, log_id: str, as_json: JsonOpt = False) -> None:
    """Put the item a logged change touched back to its "before" version."""
    st = state(ctx)
    result = service.revert(st.workspace, st.config, name, log_id)
    if as_json:
        print_json(result)
    else:
        out_console.print(f"reverted {log_id} on the {result['side']} calendar")


def check_cmd(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """Check that both calendars are reachable and writable with the configured access."""
    st = state(ctx)
    rows = service.check_user(st.workspace, st.config, name)
    ok = all(r["ok"] for r in rows)
    if as_json:
        print_json({"user": name, "ok": ok, "checks": rows})
    else:
        for r in rows:
            mark = "[green]ok[/]" if r["ok"] else "[red]FAILED[/]"
            out_console.print(
                f"{mark} {r['side']}: {escape(r['check'])} — {escape(str(r['detail']))}"
            )
    raise typer.Exit(EXIT_OK if ok else EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add these commands to the root `app`."""
    app.command()(init)
    app.command("sync")(sync_cmd)
    app.command("status")(status_cmd)
    app.command("log")(log_cmd)
    app.command("trash")(trash_cmd)
    app.command("restore")(restore_cmd)
    app.command("revert")(revert_cmd)
    app.command("check")(check_cmd)
