"""`calsync [-w WS] sync NAME… | sync --all …` without Typer's parse; the entry point.

A cron line runs `calsync sync NAME` for every user every few minutes, and a
fleet's cron or Kubernetes job runs `calsync sync --all`. Typer checks each
parameter through a pydantic TypeAdapter: importing Typer and pydantic for that,
and every command module for the app, cost ~0.15-0.3 s of the CPU such a run
spent starting (issue 21.10, issue 17). The command line is read here only when
it is exactly one of these plain forms:

    calsync [-w WS] sync NAME… [--dry-run] [--force] [--json] [-q|--quiet]
    calsync [-w WS] sync --all [--dry-run] [--force] [--json] [-q|--quiet]
                               [-j|--jobs N] [--shard K/N|auto]

Anything else (help, a name beside --all, `--jobs=2`, a --jobs that is not a plain
whole number ≥ 1, an option given twice, an unknown option, `--`, a value or name
starting with '-') goes to Typer as before, which also words the usage errors.
Both ways end in the same functions, `tui.cli.runs.sync_names` and `sync_everyone`,
so they print the same and exit with the same code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

FLAGS = {
    "--dry-run": "dry_run",
    "--force": "force",
    "--json": "as_json",
    "--quiet": "quiet",
    "-q": "quiet",
}
#: the options of `sync --all` that take a value
VALUED = {"--jobs": "jobs", "-j": "jobs", "--shard": "shard"}


@dataclass(frozen=True)
class QuickSync:
    workspace: Path | None
    names: tuple[str, ...]
    flags: frozenset[str]
    #: `sync --all`: `names` is empty, and `values` holds --jobs/--shard as given
    all_users: bool = False
    values: tuple[tuple[str, str], ...] = ()


def parse_quick_sync(argv: list[str]) -> QuickSync | None:
    """The plain `sync NAME…` or `sync --all …` form of `argv` (without the program
    name), else None."""
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
    values: dict[str, str] = {}
    all_users = False
    rest = iter(args[1:])
    for arg in rest:
        if arg in FLAGS:
            flags.add(FLAGS[arg])
        elif arg == "--all" and not all_users:
            all_users = True
        elif arg in VALUED and VALUED[arg] not in values:
            value = next(rest, "")
            if not value or value.startswith("-"):
                return None
            values[VALUED[arg]] = value
        elif arg and not arg.startswith("-"):
            names.append(arg)
        else:
            return None
    if all_users == bool(names):  # both, or neither: Typer words the error
        return None
    if values and not all_users:
        return None  # `--jobs goes with --all`: Typer's path says so
    jobs = values.get("jobs")
    if jobs is not None and not (jobs.isascii() and jobs.isdigit() and int(jobs) >= 1):
        return None  # `--jobs 0`, `--jobs x`, `--jobs ١`: Typer's own error
    return QuickSync(
        workspace, tuple(names), frozenset(flags), all_users, tuple(sorted(values.items()))
    )


def run_quick_sync(quick: QuickSync) -> None:
    """Sync as `calsync sync` does; ends in SystemExit with the exit code."""
    from tui.cli.common import AppState
    from tui.cli.runs import sync_everyone, sync_names

    st = AppState(quick.workspace)
    options = {
        "dry_run": "dry_run" in quick.flags,
        "force": "force" in quick.flags,
        "as_json": "as_json" in quick.flags,
        "quiet": "quiet" in quick.flags,
    }
    if quick.all_users:
        values = dict(quick.values)
        jobs = values.get("jobs")
        sync_everyone(
            st, jobs=int(jobs) if jobs is not None else None, shard=values.get("shard"), **options
        )
    else:
        sync_names(st, list(quick.names), **options)


def main() -> None:
    """The `calsync` command (and `python -m tui`)."""
    quick = parse_quick_sync(sys.argv[1:])
    if quick is None:
        from tui.cli.root import main as typer_main

        typer_main()
        return
    from tui.cli.common import handle_errors

    with handle_errors():
        run_quick_sync(quick)
    sys.exit(0)
