"""`calsync sync --all`: the headless server job (SPEC R11), for cron and monitoring.

Output follows who is watching: on a terminal, a live progress display and the
results; off a terminal or with --quiet (cron), nothing but failures on stderr,
so cron mails only when something needs attention. --json prints one summary.
Neither Typer nor rich's progress display is imported unless used: `calsync sync
--all` from cron is read without Typer (tui/cli/quick.py).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from storage.users import UserStore
from sync.engine.runner import RunResult
from sync.job import Job, JobObserver, JobSummary, error_line
from sync.runlog import Redactor, run_logger
from sync.shard import Shard
from sync.window_limits import refuse_unservable
from tui.cli.common import AppState, leave, print_json, stderr_console, stdout_console
from tui.cli.render import exit_code, health_line, render_plan, render_result

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

#: exit code of a job stopped by SIGINT/SIGTERM (the shell's 128 + SIGINT)
EXIT_INTERRUPTED = 130


class ProgressObserver(JobObserver):
    """Users done/total, the users in flight and the items applied, on stderr."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.items: dict[str, int] = {}
        #: planned actions of each user still running (0 while it lists and reads)
        self.totals: dict[str, int] = {}
        self.task: TaskID = progress.add_task("syncing", total=total, current="", items=0)

    def _refresh(self, advance: int = 0) -> None:
        # each user still running with its own items done of total: the slow one shows
        shown = ", ".join(self._user_line(n) for n in self.running[:3])
        shown += f" (+{len(self.running) - 3} more)" if len(self.running) > 3 else ""
        self.progress.update(
            self.task, advance=advance, current=shown, items=sum(self.items.values())
        )

    def _user_line(self, name: str) -> str:
        total = self.totals.get(name, 0)
        return f"{name} {self.items.get(name, 0)}/{total}" if total else name

    def user_started(self, name: str) -> None:
        with self.lock:
            self.running.append(name)
            self._refresh()

    def items_applied(self, name: str, done: int, total: int) -> None:
        with self.lock:
            self.items[name] = done
            self.totals[name] = total
            self._refresh()

    def user_finished(self, result: RunResult) -> None:
        with self.lock:
            if result.user in self.running:
                self.running.remove(result.user)
            self.totals.pop(result.user, None)
            self._refresh(advance=1)


@contextmanager
def stop_on_signals(cancel: threading.Event) -> Iterator[list[int]]:
    """SIGINT/SIGTERM set `cancel`: running users finish their current item and stop.

    Yields the list of signals received. A second signal falls back to the old
    handler (a stuck run can still be interrupted).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        cancel.set()
        for sig, previous in old.items():
            signal.signal(sig, previous)

    for sig in old:
        signal.signal(sig, handler)
    try:
        yield received
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def report_problems(summary: JobSummary) -> None:
    """One stderr line per user that failed or needs an operator (cron mails these),
    each followed by what happens next or what to run. A user failing just as in the
    run before, or held back since, is not reported again."""
    for result in summary.results:
        line = error_line(result)
        if line is None or result.user in summary.repeats:
            continue
        stderr_console().print(f"calsync: {result.user}: {result.result}: {line}", markup=False)
        next_step = health_line(summary.health.get(result.user))
        if next_step:
            stderr_console().print(f"calsync: {result.user}:   {next_step}", markup=False)
        for err in result.errors[:20]:
            if err.get("item"):
                stderr_console().print(
                    f"calsync: {result.user}:   {err.get('item')}: {err.get('error', '')}",
                    markup=False,
                )


def render_summary(summary: JobSummary) -> None:
    for result in summary.results:
        if result.plan is not None and result.result == "planned":
            render_plan(result)
        render_result(result)
        next_step = health_line(summary.health.get(result.user))
        if next_step and result.result != "ok":
            stdout_console().print(f"  {next_step}", markup=False, soft_wrap=True)
    totals = summary.totals
    parts = [f"{totals[k]} {k.replace('_', ' ')}" for k in totals if k != "users" and totals[k]]
    stdout_console().print(
        f"[bold]{totals['users']} user(s)[/]: {', '.join(parts) or 'nothing to do'}"
        f" in {summary.duration:.1f} s (run {summary.run_id})"
    )


def run_all(
    st: AppState,
    *,
    dry_run: bool,
    force: bool,
    jobs: int | None,
    quiet: bool,
    show_progress: bool,
    cancel: threading.Event,
    names: list[str] | None = None,
    shard: Shard | None = None,
    log_problems: list[str] | None = None,
) -> JobSummary:
    """Run one job with the workspace's run log and, if wanted, a progress display.

    A run log that could not be written adds one line to `log_problems`.
    """
    redactor = Redactor.for_config(st.config)
    with run_logger(st.workspace, redactor, problems=log_problems) as logger:
        job = Job(
            st.workspace,
            st.config,
            jobs=jobs,
            dry_run=dry_run,
            force=force,
            cancel=cancel,
            logger=logger,
            redactor=redactor,
            shard=shard,
        )
        if not show_progress or quiet:
            return job.run(names)
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        to_run, skipped = job.plan(names)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("users · {task.fields[items]} items · ETA"),
            TimeRemainingColumn(),
            TextColumn("·"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", markup=False),
            console=stderr_console(),
            transient=True,
        ) as progress:
            # skipped users count as done at once: the bar covers every user listed
            job.observer = ProgressObserver(progress, len(to_run) + len(skipped))
            return job.run(names)


def sync_all(
    st: AppState,
    *,
    dry_run: bool,
    force: bool,
    as_json: bool,
    jobs: int | None = None,
    quiet: bool = False,
    shard: Shard | None = None,
) -> None:
    # a [job] window a user's calendar cannot serve stops the job before it writes
    users = UserStore(st.workspace).all()
    refuse_unservable([u for u in users if u.get("remote") and u.get("enabled", True)], st.config)
    cancel = threading.Event()
    log_problems: list[str] = []
    # a person watching: on a terminal, without --json or --quiet (asked first: then
    # no console, nor rich, is needed unless something is reported)
    watching = (
        not (as_json or quiet) and stderr_console().is_terminal and stdout_console().is_terminal
    )
    with stop_on_signals(cancel) as received:
        summary = run_all(
            st,
            dry_run=dry_run,
            force=force,
            jobs=jobs,
            quiet=quiet,
            show_progress=watching,
            cancel=cancel,
            shard=shard,
            log_problems=log_problems,
        )
    for problem in log_problems:
        stderr_console().print(f"calsync: {problem}", markup=False)
    if as_json:
        print_json(summary.to_json())
        report_problems(summary)
    elif watching:
        render_summary(summary)
    else:
        report_problems(summary)
    if received:
        stderr_console().print("calsync: stopped by a signal; unfinished users are cancelled")
        leave(EXIT_INTERRUPTED)
    leave(exit_code(summary.results))
