"""`calsync watch`: sync everyone now, then poll, and sync at once on CRM folder changes."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated

import typer

from storage.config import load_config
from sync.job import JobSummary
from sync.runlog import Redactor, run_logger
from sync.watch import Watch
from tui.cli.common import EXIT_OK, err_console, out_console, state
from tui.cli.job import report_problems, stop_on_signals


def watch_cmd(
    ctx: typer.Context,
    interval: Annotated[
        int | None,
        typer.Option(
            "--interval",
            min=10,
            help="Seconds between polls of every user (default: \\[job] interval, else 600).",
        ),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Users synced at once (default 16).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors, on stderr.")] = False,
) -> None:
    """Run until stopped: sync all users, then poll; CRM folder changes sync at once.

    SIGINT or SIGTERM stops it cleanly: running users finish the item in hand and
    save their state; the exit code is then 0.
    """
    st = state(ctx)
    config = st.config  # a broken calsync.toml fails here, exit 2, before anything runs
    stop = threading.Event()
    verbose = out_console.is_terminal and not quiet

    shown: list[str] = []  # the last line printed: a poll that changed nothing says nothing

    def on_summary(summary: JobSummary, trigger: str) -> None:
        report_problems(summary)  # each problem once, not on every poll
        if not verbose:
            return
        totals = summary.totals
        parts = [f"{totals[k]} {k.replace('_', ' ')}" for k in totals if k != "users" and totals[k]]
        counts = summary.counts
        applied = sum(n for side in counts.values() for n in side.values())
        if not applied and shown == parts:
            return
        shown[:] = parts
        out_console.print(
            f"{datetime.now():%H:%M:%S} {trigger}: {', '.join(parts) or 'no users'}"
            f", {applied} change(s) applied",
            markup=False,
        )

    def on_error(message: str) -> None:
        err_console.print(f"calsync: {message}", markup=False)

    redactor = Redactor.for_config(config)
    log_problems: list[str] = []
    with run_logger(st.workspace, redactor, problems=log_problems) as logger:
        watch = Watch(
            st.workspace,
            stop=stop,
            interval=interval,
            jobs=jobs,
            config_loader=lambda: load_config(st.workspace.config_path),
            logger=logger,
            redactor=redactor,
            on_summary=on_summary,
            on_error=on_error,
        )
        if verbose:
            out_console.print(
                f"watching {st.workspace.root}: every {watch.interval:.0f} s and on CRM folder "
                "changes; Ctrl-C stops"
            )
        logger.info("watch: start interval=%.0fs", watch.interval)
        # the first signal stops cleanly; a second one interrupts at once (exit 130)
        with stop_on_signals(stop):
            watch.run()
        logger.info("watch: stopped")
    for problem in log_problems:
        on_error(problem)
    raise typer.Exit(EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `app`."""
    app.command("watch")(watch_cmd)
