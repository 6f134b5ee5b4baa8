"""`calsync user add / list / show / set / remove`: thin wrappers over sync/users.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from storage.errors import StoreError
from sync import users
from sync.providers.base import ProviderError
from tui.cli.common import EXIT_FAILED, JsonOpt, fail, out_console, print_json, state
from tui.widgets.format import repeats_text

user_app = typer.Typer(
    name="user",
    help="Add, list, show, change and remove users.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The user's name.", show_default=False)]


@contextmanager
def _edge() -> Iterator[None]:
    """Typed errors become `calsync: ...` on stderr and exit 2, here as at the app edge.

    Handled here too so the commands behave the same when invoked without `main()`
    (Typer's test runner, the TUI).
    """
    try:
        yield
    except (StoreError, ProviderError) as exc:
        fail(str(exc))


def _say(message: str) -> None:
    # soft_wrap: a path or URL in a message must stay copyable, not be cut at 80 columns
    out_console.print(message, markup=False, soft_wrap=True)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _last_run_text(summary: dict[str, Any]) -> str:
    if summary.get("error"):
        return "state unreadable"
    last = summary.get("last_run")
    if not last:
        return "never"
    when = str(last.get("finished") or last.get("started") or "")
    result = str(last.get("result") or "")
    return f"{result} {when}{repeats_text(last)}".strip()


# -- add ---------------------------------------------------------------------------------


@user_app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: NameArg,
    crm: Annotated[
        str | None, typer.Option("--crm", help="The CRM calendar, e.g. folder:/srv/crm/anna.")
    ] = None,
    remote: Annotated[
        str | None,
        typer.Option("--remote", help="The remote calendar, e.g. caldav:https://host/cal/."),
    ] = None,
    skip_private: Annotated[
        bool | None,
        typer.Option(
            "--skip-private/--no-skip-private",
            help="Leave private items out (default: the job setting, else off).",
            show_default=False,
        ),
    ] = None,
    reminders: Annotated[
        str | None, typer.Option("--reminders", help="sync, off or minutes:N.")
    ] = None,
    multiday: Annotated[
        str | None, typer.Option("--multiday", help="title or keep (multi-day remote items).")
    ] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Register the user with sync turned off.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a user with their CRM calendar and remote calendar."""
    if not crm:
        fail("user add needs --crm URL (the user's CRM calendar)")
    if not remote:
        fail("user add needs --remote URL (the user's Exchange, Google or CalDAV calendar)")
    app_state = state(ctx)
    app_state.may_create = True  # the first user starts the workspace
    with _edge():
        record = users.add_user(
            app_state.workspace,
            name,
            crm,
            remote,
            skip_private=skip_private,
            reminders=reminders,
            multiday=multiday,
            enabled=not disabled,
        )
    if as_json:
        print_json(record)
        return
    enabled = "" if record["enabled"] else " (sync disabled)"
    _say(f"Added user {record['name']}{enabled}.")
    _say(f"Next: calsync init {record['name']}  — compares both calendars before the first sync.")


# -- list / show ---------------------------------------------------------------------------


@user_app.command("list")
def list_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List every user with their calendars and sync state."""
    ws = state(ctx).workspace
    with _edge():
        rows = [
            {**user, "state": users.state_summary(ws, str(user["name"]))}
            for user in users.list_users(ws)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        _say("No users yet — add one with: calsync user add NAME --crm URL --remote URL")
        return
    table = Table(title=f"Users in {ws.root}", title_justify="left")
    for column in ("Name", "Enabled", "CRM", "Remote", "Initialized", "Last run"):
        table.add_column(column, overflow="fold")
    for row in rows:
        summary = row["state"]
        table.add_row(
            str(row["name"]),
            _text(row.get("enabled")),
            _text(row.get("crm")),
            _text(row.get("remote")),
            "unreadable" if summary.get("error") else _text(summary.get("initialized")),
            _last_run_text(summary),
        )
    out_console.print(table)


@user_app.command("show")
def show_cmd(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Show a user: calendars, effective settings and where each comes from, sync state."""
    app_state = state(ctx)
    with _edge():
        details = users.show_user(app_state.workspace, name, app_state.config)
    if as_json:
        print_json(details)
        return
    user, summary = details["user"], details["state"]

    about = Table.grid(padding=(0, 2))
    about.add_column(style="bold")
    about.add_column(overflow="fold")
    about.add_row("User", str(user["name"]))
    about.add_row("Enabled", _text(user.get("enabled")))
    about.add_row("CRM", _text(user.get("crm")))
    about.add_row("Remote", _text(user.get("remote")) if user.get("remote") else "— (not synced)")
    if summary.get("error"):
        about.add_row("State", str(summary["error"]))
    else:
        about.add_row(
            "Initialized", _text(summary.get("initialized_at")) if summary["initialized"] else "no"
        )
        about.add_row("Calendar identity", _text(summary.get("identity")))
        about.add_row("Paired items", _text(summary.get("pairs")))
        about.add_row("Last run", _last_run_text(summary))
        last = summary.get("last_run") or {}
        if last.get("reason"):
            about.add_row("Reason", str(last["reason"]))
    out_console.print(about)

    settings = Table(title="Effective settings", title_justify="left")
    settings.add_column("Setting")
    settings.add_column("Value")
    settings.add_column("From")
    for key, item in details["settings"].items():
        settings.add_row(key, _text(item["value"]), str(item["source"]))
    out_console.print(settings)


# -- set -----------------------------------------------------------------------------------


def _pairs(assignments: list[str]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for text in assignments:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"expected KEY=VALUE, got {text!r} (keys: {', '.join(users.SETTABLE)})")
        if key in changes:
            fail(f"{key} is given twice")
        changes[key] = value
    return changes


@user_app.command("set")
def set_cmd(
    ctx: typer.Context,
    name: NameArg,
    assignments: Annotated[
        list[str],
        typer.Argument(
            help=f"KEY=VALUE pairs; keys: {', '.join(users.SETTABLE)}. "
            "An empty value or 'default' clears a setting (the job setting or default applies).",
            show_default=False,
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Change a user's calendars or settings."""
    changes = _pairs(assignments)
    with _edge():
        record = users.set_user(state(ctx).workspace, name, changes)
    if as_json:
        print_json(record)
        return
    shown = ", ".join(f"{key}={_text(record.get(key))}" for key in changes)
    _say(f"Updated {name}: {shown}.")


# -- remove --------------------------------------------------------------------------------


@user_app.command("remove")
def remove_cmd(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove a user. Their state, log and trash move to WORKSPACE/removed/."""
    ws = state(ctx).workspace
    with _edge():
        users.get_user(ws, name)  # an unknown user fails before the question
    if not yes:
        if as_json:
            fail(f"not removing user {name} without --yes (--json asks no question)")
        if not sys.stdin.isatty():
            fail(f"not removing user {name} without --yes (no terminal to ask on)")
        if not typer.confirm(
            f"Remove user {name}? Their state, log and trash move to {ws.removed_dir}.",
            default=False,
        ):
            _say("Not removed.")
            raise typer.Exit(EXIT_FAILED)
    with _edge():
        archived = users.remove_user(ws, name)
    if as_json:
        print_json({"removed": name, "files": str(archived) if archived else None})
        return
    where = f"; their files are in {archived}" if archived else ""
    _say(f"Removed user {name}{where}.")


def register(app: typer.Typer) -> None:
    """Add `calsync user …` to the root `app`."""
    app.add_typer(user_app, name="user")
