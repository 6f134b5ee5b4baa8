"""`calsync [-w WS] sync NAME… [--dry-run] [--force] [--json] [-q]` without Typer's parse.

A cron line runs this for every user every few minutes. Typer checks each parameter
through a pydantic TypeAdapter: importing pydantic for that, and the other command
modules for the app, cost ~0.15 s of the ~0.4 s of CPU a `calsync sync NAME` spent
starting (issue 21.10). The command line is read here only when it is exactly this
plain form; anything else (help, --all, --jobs, an unknown option, `--`, a value or
name starting with '-') goes to Typer as before, which also words the usage errors.
Both ways end in the same function, `tui.cli.sync.sync_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FLAGS = {
    "--dry-run": "dry_run",
    "--force": "force",
    "--json": "as_json",
    "--quiet": "quiet",
    "-q": "quiet",
}


@dataclass(frozen=True)
class QuickSync:
    workspace: Path | None
    names: tuple[str, ...]
    flags: frozenset[str]


def parse_quick_sync(argv: list[str]) -> QuickSync | None:
    """The plain `sync NAME…` form of `argv` (without the program name), else None."""
    args = list(argv)
    workspace: Path | None = None
    if args and args[0] in ("--workspace", "-w"):
        if len(args) < 2 or not args[1] or args[1].startswith("-"):
            return None
        workspace, args = Path(args[1]), args[2:]
    elif args and args[0].startswith("--workspace="):
        value = args[0].partition("=")[2]
        if not value or value.startswith("-"):
            return None
        workspace, args = Path(value), args[1:]
    if not args or args[0] != "sync":
        return None
    names: list[str] = []
    flags: set[str] = set()
    for arg in args[1:]:
        if arg in FLAGS:
            flags.add(FLAGS[arg])
        elif arg and not arg.startswith("-"):
            names.append(arg)
        else:
            return None
    if not names:
        return None
    return QuickSync(workspace, tuple(names), frozenset(flags))


def run_quick_sync(quick: QuickSync) -> None:
    """Sync as `calsync sync` does; ends in typer.Exit with the exit code."""
    from tui.cli.common import AppState
    from tui.cli.sync import sync_names

    sync_names(
        AppState(quick.workspace),
        list(quick.names),
        dry_run="dry_run" in quick.flags,
        force="force" in quick.flags,
        as_json="as_json" in quick.flags,
        quiet="quiet" in quick.flags,
    )
