"""The headless server job (SPEC R11): sync every eligible user, in parallel.

Eligible means enabled *and* a remote calendar registered; everyone else is
reported as skipped with the reason. Users run on a thread pool (the work is
I/O: files, HTTP), each under its own lock, so one user's failure, even an
unexpected exception, only ever fails that user. A user another process holds
is "busy" after the lock timeout, never waited on forever (R14).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from logging import Logger
from typing import Any

from storage.config import Config
from storage.errors import StoreError
from storage.runs import runs_file
from storage.tinystore import reusing_decodes
from storage.users import UserStore
from storage.workspace import Workspace
from sync.engine.runner import RunResult, SyncOptions, new_run_id
from sync.health import Health, health_of, is_repeat
from sync.providers.base import ProviderError
from sync.runlog import Redactor
from sync.service import sync_user
from sync.shard import Shard

#: from the latency benchmark (docs/performance.md, benchmark 4) and Exchange Online's 27
#: concurrent EWS requests per account (a delegate service account carries every user)
MAX_DEFAULT_JOBS = 16
RESULTS = (
    "ok",
    "failed",
    "needs_operator",
    "busy",
    "skipped",
    "cancelled",
    "planned",
    "deferred",
)
SIDES = ("crm", "remote")
OPS = ("create", "update", "delete")


def default_jobs(users: int) -> int:
    return max(1, min(MAX_DEFAULT_JOBS, users))


def skip_reason(user: dict[str, Any], config: Config) -> str | None:
    """Why `sync --all` leaves this user out, or None if it syncs them."""
    if config.job.get("enabled") is False:
        return "disabled ([job] enabled = false)"
    if not user.get("enabled", True):
        return "disabled"
    if not user.get("remote"):
        return "no mailbox registered"
    return None


class JobObserver:
    """What a job reports while it runs; the CLI draws progress from it.

    Called from worker threads: implementations must be thread-safe.
    """

    def user_started(self, name: str) -> None:
        """A worker took up `name`."""

    def items_applied(self, name: str, done: int, total: int) -> None:
        """`done` of `total` planned actions of `name` are through."""

    def user_finished(self, result: RunResult) -> None:
        """`name` is done, whatever the outcome."""


@dataclass
class JobSummary:
    run_id: str
    started: datetime
    jobs: int
    dry_run: bool = False
    finished: datetime | None = None
    duration: float = 0.0
    results: list[RunResult] = field(default_factory=list)
    #: set when the job was stopped (SIGINT/SIGTERM) before every user ran
    cancelled: bool = False
    #: "K/N" when only one shard's users took part
    shard: str | None = None
    #: each user's health after the job (sync/health.py)
    health: dict[str, Health] = field(default_factory=dict)
    #: users whose outcome repeats what earlier runs already said (held back by the
    #: back-off or for an operator, or failing the same way again): not reported again
    repeats: set[str] = field(default_factory=set)

    @property
    def totals(self) -> dict[str, int]:
        totals = {r: 0 for r in RESULTS}
        for result in self.results:
            totals[result.result] = totals.get(result.result, 0) + 1
        return {"users": len(self.results), **totals}

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Changes applied per side and action, summed over users."""
        total = {side: dict.fromkeys(OPS, 0) for side in SIDES}
        for result in self.results:
            for side, ops in result.counts.items():
                bucket = total.setdefault(side, dict.fromkeys(OPS, 0))
                for op, n in ops.items():
                    bucket[op] = bucket.get(op, 0) + n
        return total

    def to_json(self) -> dict[str, Any]:
        users = []
        for result in self.results:
            data = result.to_json()
            data["error"] = error_line(result)
            health = self.health.get(result.user)
            data["health"] = health.to_json() if health is not None else None
            data["repeat"] = result.user in self.repeats
            users.append(data)
        return {
            "run_id": self.run_id,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
            "duration": round(self.duration, 3),
            "jobs": self.jobs,
            "shard": self.shard,
            "dry_run": self.dry_run,
            "cancelled": self.cancelled,
            "totals": self.totals,
            "counts": self.counts,
            "users": users,
        }


def error_line(result: RunResult) -> str | None:
    """One line saying what went wrong for a user, or None if nothing did."""
    if result.result not in ("failed", "needs_operator"):
        return None
    texts = [result.reason, *(e.get("error", "") for e in result.errors)]
    for text in texts:
        if text.strip():
            return text.strip().splitlines()[0]
    return result.result


def health_text(health: Health | None) -> str:
    """` health=deferred class=transient failures=3 next_retry=... action='...'` for the log."""
    if health is None:
        return ""
    retry = health.next_retry.isoformat(timespec="seconds") if health.next_retry else "-"
    text = f" health={health.state} class={health.error_class or '-'} failures={health.failures}"
    return f"{text} next_retry={retry} action={health.action!r}" if health.action else text


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    if isinstance(exc, (StoreError, ProviderError)) and detail:
        return detail  # written for the operator: no class name
    return (
        f"unexpected {type(exc).__name__}: {detail}"
        if detail
        else f"unexpected {type(exc).__name__}"
    )


def _redacted(result: RunResult, redact: Redactor) -> RunResult:
    result.reason = redact(result.reason)
    result.errors = [{k: redact(v) for k, v in e.items()} for e in result.errors]
    result.warnings = [redact(w) for w in result.warnings]
    return result


class Job:
    """One `sync --all`: choose users, run them, summarize, log."""

    def __init__(
        self,
        workspace: Workspace,
        config: Config,
        *,
        jobs: int | None = None,
        dry_run: bool = False,
        force: bool = False,
        lock_timeout: float | None = None,
        cancel: threading.Event | None = None,
        observer: JobObserver | None = None,
        logger: Logger | None = None,
        redactor: Redactor | None = None,
        shard: Shard | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.workspace = workspace
        #: the time the back-off is judged by (a test moves it ahead)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._users: dict[str, dict[str, Any]] = {}
        #: only the users of this shard take part (`sync --all --shard K/N`)
        self.shard = shard
        self.config = config
        self.jobs = jobs
        self.dry_run = dry_run
        self.force = force
        self.lock_timeout = lock_timeout
        self.cancel = cancel or threading.Event()
        self.observer = observer or JobObserver()
        self.logger = logger
        self.redact = redactor or Redactor()

    def plan(self, names: Iterable[str] | None = None) -> tuple[list[str], list[RunResult]]:
        """(users to run, skipped results). `names` narrows to those users (watch)."""
        wanted = set(names) if names is not None else None
        to_run: list[str] = []
        skipped: list[RunResult] = []
        for user in UserStore(self.workspace).all():
            name = str(user["name"])
            if wanted is not None and name not in wanted:
                continue
            if self.shard is not None and not self.shard.owns(name):
                continue  # another shard's user: not run, not reported here
            reason = skip_reason(user, self.config)
            if reason is None:
                to_run.append(name)
                self._users[name] = user
            else:
                skipped.append(RunResult(name, "skipped", reason))
        return to_run, skipped

    def run(self, names: Iterable[str] | None = None) -> JobSummary:
        started = time.monotonic()
        now = datetime.now(UTC)
        to_run, skipped = self.plan(names)
        order = {name: i for i, name in enumerate(sorted([*to_run, *(r.user for r in skipped)]))}
        jobs = self.jobs or default_jobs(len(to_run))
        summary = JobSummary(new_run_id(now), now, jobs, self.dry_run)
        summary.shard = str(self.shard) if self.shard is not None else None
        self._log_start(summary, len(to_run), len(skipped))
        for result in skipped:
            self._done(summary, result)
        if to_run:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="calsync-job") as pool:
                futures = [pool.submit(self._run_one, name, summary) for name in to_run]
                for future in as_completed(futures):
                    self._done(summary, future.result())
        summary.results.sort(key=lambda r: order[r.user])
        summary.cancelled = self.cancel.is_set()
        summary.finished = datetime.now(UTC)
        summary.duration = time.monotonic() - started
        self._log_end(summary)
        return summary

    def _run_one(self, name: str, summary: JobSummary) -> RunResult:
        """Never raises: whatever happens becomes this user's result."""
        if self.cancel.is_set():
            return RunResult(name, "cancelled", "not started: the job was stopped")
        # runs.json is read up to four times here (health before, the run's own load,
        # health after, is_repeat) around one write: decoded once (storage/tinystore.py)
        with reusing_decodes(runs_file(self.workspace, name)):
            return self._judged_run(name, summary)

    def _judged_run(self, name: str, summary: JobSummary) -> RunResult:
        before = health_of(self.workspace, self.config, self._users[name], self.clock())
        if before.held:
            # backing off, throttled or waiting for an operator: said when it happened
            summary.health[name] = before
            summary.repeats.add(name)
            if before.state == "needs_operator":
                return RunResult(name, "needs_operator", before.reason, "attention")
            return RunResult(name, "deferred", before.reason)
        self.observer.user_started(name)
        result = self._sync_one(name)
        if not self.dry_run:
            after = health_of(self.workspace, self.config, self._users[name], self.clock())
            summary.health[name] = after
            if is_repeat(self.workspace, name, result.run_id, before, after):
                summary.repeats.add(name)
        return result

    def _sync_one(self, name: str) -> RunResult:
        options = SyncOptions(
            by_job=True,
            dry_run=self.dry_run,
            force=self.force,
            cancel=self.cancel,
            progress=lambda done, total, _label: self.observer.items_applied(name, done, total),
        )
        if self.lock_timeout is not None:
            options.lock_timeout = self.lock_timeout
        started = time.monotonic()
        try:
            result = sync_user(self.workspace, self.config, name, options)
        except Exception as exc:  # one user's bug must not stop the others
            line = _one_line(exc)
            result = RunResult(name, "failed", line, errors=[{"error": line}])
            result.duration = time.monotonic() - started
        return _redacted(result, self.redact)

    def _done(self, summary: JobSummary, result: RunResult) -> None:
        summary.results.append(result)
        self._log_result(summary, result)
        self.observer.user_finished(result)

    # -- the run log ---------------------------------------------------------------------

    def _log_start(self, summary: JobSummary, running: int, skipped: int) -> None:
        if self.logger is not None:
            kind = "dry-run" if self.dry_run else "sync"
            self.logger.info(
                "job=%s start %s users=%d skipped=%d jobs=%d%s",
                summary.run_id,
                kind,
                running,
                skipped,
                summary.jobs,
                f" shard={summary.shard}" if summary.shard else "",
            )

    def _log_result(self, summary: JobSummary, result: RunResult) -> None:
        if self.logger is None:
            return
        health = summary.health.get(result.user)
        if result.user in summary.repeats:
            if result.run_id:  # it ran and failed as before: one line, not the errors again
                self.logger.info(
                    "job=%s user=%s run=%s result=%s unchanged%s",
                    summary.run_id,
                    result.user,
                    result.run_id,
                    result.result,
                    health_text(health),
                )
            return  # held back (back-off, operator): said when it started
        counts = " ".join(
            f"{side}+{c.get('create', 0)}~{c.get('update', 0)}-{c.get('delete', 0)}"
            for side, c in sorted(result.counts.items())
        )
        level = logging.WARNING if result.result in ("failed", "needs_operator") else logging.INFO
        self.logger.log(
            level,
            "job=%s user=%s run=%s result=%s duration=%.2fs%s%s%s",
            summary.run_id,
            result.user,
            result.run_id or "-",
            result.result,
            result.duration,
            f" {counts}" if counts else "",
            f" reason={result.reason!r}" if result.reason else "",
            health_text(health) if health is not None and health.state != "ok" else "",
        )
        for err in result.errors:
            self.logger.error(
                "job=%s user=%s run=%s error side=%s op=%s item=%r: %s",
                summary.run_id,
                result.user,
                result.run_id or "-",
                err.get("side", "-"),
                err.get("op", "-"),
                err.get("item", ""),
                err.get("error", ""),
            )

    def _log_end(self, summary: JobSummary) -> None:
        if self.logger is None:
            return
        totals = " ".join(f"{k}={v}" for k, v in summary.totals.items() if v)
        if summary.repeats:
            totals += f" unchanged={len(summary.repeats)}"
        self.logger.info(
            "job=%s end duration=%.2fs%s %s",
            summary.run_id,
            summary.duration,
            " cancelled" if summary.cancelled else "",
            totals,
        )


def run_job(
    workspace: Workspace, config: Config, names: Iterable[str] | None = None, **kwargs: Any
) -> JobSummary:
    return Job(workspace, config, **kwargs).run(names)
