"""The `calsync` command line (Typer): the root app, built from the command modules.

Thin: the commands call sync/ services and render results. Each command module
offers `register(app)` and never imports this one, so imports point one way:
root -> commands -> common.

Errors become one line on stderr with exit code 2 (bad usage/config) here, at the
edge; nothing below prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tui.cli.common import EXIT_USAGE, AppState, err_console, handle_errors

app = typer.Typer(
    name="calsync",
    help="Two-way sync between a CRM calendar and Exchange, Microsoft 365, Google or CalDAV calendars.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    # help texts are Rich markup whatever the environment says (tui/cli/help.py)
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"calsync {version('calsync')}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace folder (default: $CALSYNC_WORKSPACE, else the user data dir).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            expose_value=False,
            help="Print calsync's version and exit.",
        ),
    ] = False,
) -> None:
    ctx.obj = AppState(workspace)
    if ctx.invoked_subcommand is None:
        from tui.cli.open_tui import open_tui

        open_tui(ctx.obj)


def register() -> None:
    """Add every command to `app`: each command family lives in its own module.

    Safe to call again (tests do): the commands are added once.
    """
    if app.registered_commands or app.registered_groups:
        return
    from tui.cli import demo, google, history, open_tui, retry, revert, sync, users, watch
    from tui.cli.help import plain_usage

    for module in (demo, google, retry, revert, sync, history, open_tui, users, watch):
        module.register(app)
    plain_usage(app)


def main() -> None:
    """The command line through Typer; `tui.cli.quick.main` (the console script) hands
    everything but a plain `sync` here."""
    register()
    with handle_errors():
        try:
            # `calsync`, not `python -m tui`, in usage lines whichever way it was started
            code = app(standalone_mode=False, prog_name="calsync")
        except typer.Abort:
            err_console.print("calsync: aborted", markup=False)
            sys.exit(EXIT_USAGE)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.TyperException as exc:
            # usage errors (typer's vendored Click): one line, not a boxed help page
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            err_console.print(f"calsync: {message}{hint}", markup=False)
            sys.exit(EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main() or EXIT_USAGE)
