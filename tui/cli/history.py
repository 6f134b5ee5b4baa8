"""`calsync log / trash / restore / revert`: what changed, what was deleted, and undoing it.

Entries are shown with their short ids (storage/short_ids.py): 8 characters, unique
per user, fit to type back; `restore` and `revert` take a short id, a longer prefix of
one, or the full id.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from storage import short_ids
from sync import service
from sync.log_filter import SIDES, LogFilter, log_page
from tui.cli.common import (
    JsonOpt,
    err_console,
    fail,
    handle_errors,
    out_console,
    print_json,
    state,
)
from tui.cli.render import add_row, short_time

NameArg = Annotated[str, typer.Argument(help="The user.", show_default=False)]


def _item_line(item: dict[str, Any] | None) -> str:
    if not item:
        return "—"
    return f"{item.get('subject', '')} @ {short_time(str(item.get('start', '')))}"


def _say(message: str) -> None:
    out_console.print(message, markup=False, soft_wrap=True)


def log_cmd(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Entries per page.")] = 50,
    page: Annotated[
        int, typer.Option("--page", "-p", min=1, help="Which page, 1 being the newest.")
    ] = 1,
    action: Annotated[
        str | None,
        typer.Option("--action", "-a", help="Only this action: create, update, delete, …"),
    ] = None,
    side: Annotated[
        str | None,
        typer.Option("--side", "-s", help="Only changes to this calendar: crm or remote."),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            "--text", "-t", help="Only entries whose subject, place, reason or id hold every word."
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            "-d",
            help="Only this day, month or range: 2026-03-02, 2026-03, 2026-03-01..2026-03-15, 2026-03-10..",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The change log, newest first: id, time, side, action, reason, before and after."""
    if side is not None and side not in SIDES:
        fail(f"--side must be crm or remote, not {side!r}")
    with handle_errors():  # here too, so the commands behave the same run in-process
        flt = LogFilter(action=action or "", side=side or "", text=text or "", dates=date or "")
        result = log_page(state(ctx).workspace, name, flt, limit=limit, page=page)
    for problem in result.unreadable:
        err_console.print(f"calsync: warning: {problem}", markup=False)
    if as_json:
        keys = ("id", "time", "side", "action", "reason", "item_id", "before", "after")
        print_json(
            [
                {**{k: e.get(k) for k in keys}, "short_id": result.short.get(str(e.get("id")))}
                for e in result.rows
            ]
        )
        return
    if not result.rows:
        if result.total and result.first >= result.total:
            _say(
                f"page {page} is past the end: {result.total:,} entries make {_pages(result.total, limit)} page(s)"
            )
        elif flt.active:
            _say(f"no log entry of {name} matches the filter")
        else:
            _say(f"the change log of {name} is empty: nothing has been synced yet")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=8)
    table.add_column("time", no_wrap=True)
    for col in ("side", "action", "reason", "before", "after"):
        table.add_column(col, overflow="fold")
    for e in result.rows:
        add_row(
            table,
            result.short.get(str(e.get("id")), str(e.get("id"))),
            short_time(str(e.get("time", ""))),
            str(e.get("side", "")),
            str(e.get("action", "")),
            str(e.get("reason", "")),
            _item_line(e.get("before")),
            _item_line(e.get("after")),
        )
    out_console.print(table)
    last = result.first + len(result.rows)
    what = "matching entries" if flt.active else "entries"
    line = f"{result.first + 1:,}–{last:,} of {result.total:,} {what}"
    if last < result.total:
        line += f"; older: calsync log {name} --page {page + 1}"
    _say(line)


def _pages(total: int, limit: int) -> int:
    return max(1, -(-total // limit))


def trash_cmd(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most this many, newest first.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Deleted items kept for restore, newest first."""
    st = state(ctx)
    with handle_errors():
        entries = service.trash_entries(st.workspace, name)
    short = short_ids.short_ids(str(e.get("id")) for e in entries)
    shown = entries[:limit] if limit else entries
    if as_json:
        keys = ("id", "deleted_at", "side", "reason", "item")
        print_json(
            [
                {**{k: e.get(k) for k in keys}, "short_id": short.get(str(e.get("id")))}
                for e in shown
            ]
        )
        return
    if not entries:
        _say(f"the trash of {name} is empty")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=8)
    table.add_column("deleted at", no_wrap=True)
    for col in ("side", "item", "reason"):
        table.add_column(col, overflow="fold")
    for e in shown:
        add_row(
            table,
            short.get(str(e.get("id")), str(e.get("id"))),
            short_time(str(e.get("deleted_at", ""))),
            str(e.get("side", "")),
            _item_line(e.get("item")),
            str(e.get("reason", "")),
        )
    out_console.print(table)
    if len(shown) < len(entries):
        _say(f"newest {len(shown)} of {len(entries)} entries; all of them: calsync trash {name}")
    _say(f"to restore one: calsync restore {name} ID")


def restore_cmd(
    ctx: typer.Context,
    name: NameArg,
    entry_id: Annotated[
        str,
        typer.Argument(help="The trash entry's id as `calsync trash` shows it (or the full id)."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Re-create a trashed item on the side it was deleted from; the next sync carries it over."""
    st = state(ctx)
    with handle_errors():
        result = service.restore(st.workspace, st.config, name, entry_id)
    if as_json:
        print_json(result)
    else:
        shown = short_ids.short_id(str(result["restored"]))
        _say(f"restored {shown} to the {result['side']} calendar (uid {result['uid']})")


def revert_cmd(
    ctx: typer.Context,
    name: NameArg,
    log_id: Annotated[
        str, typer.Argument(help="The log entry's id as `calsync log` shows it (or the full id).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Put the item a logged change touched back to its "before" version."""
    st = state(ctx)
    with handle_errors():
        result = service.revert(st.workspace, st.config, name, log_id)
    if as_json:
        print_json(result)
    else:
        shown = short_ids.short_id(str(result["reverted"]))
        _say(f"reverted {shown} on the {result['side']} calendar")


def register(app: typer.Typer) -> None:
    """Add these commands to the root `app`."""
    app.command("log")(log_cmd)
    app.command("trash")(trash_cmd)
    app.command("restore")(restore_cmd)
    app.command("revert")(revert_cmd)
