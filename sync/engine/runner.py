"""One user's sync or initialization, end to end.

Phases, after vdirsyncer: list both sides (ids + etags), fetch in bulk only what is
new or changed plus the paired items that vanished from a listing (a direct
lookup decides between "deleted" and "moved out of the window", R2), plan (pure),
guard, apply, record.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.config import Config
from storage.errors import (
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreTooNew,
    os_error_line,
    state_unreadable,
)
from storage.state import UserFiles, UserState
from storage.users import UserStore
from storage.workspace import Workspace
from sync.engine.actions import Plan
from sync.engine.applier import Applier, Progress
from sync.engine.calendar_change import calendar_change, remote_name
from sync.engine.guard import Safety
from sync.engine.moved import adopt_moved
from sync.engine.observed import SEEN_KEY, observe, settle
from sync.engine.pairs import SIDES, Pair, Side
from sync.engine.pending import settle_pending
from sync.engine.planner import Planner
from sync.engine.record import Result, RunRecorder, RunResult, deferred_until, new_run_id
from sync.engine.views import fetch_views, list_sides, nothing_changed, nothing_changed_since
from sync.health import error_fields
from sync.providers import deadline
from sync.providers.base import (
    Listing,
    Provider,
    ProviderError,
    Throttled,
    Window,
)
from sync.providers.registry import open_provider
from sync.runlog import Redactor
from sync.settings import Settings, effective_settings

IDENTITY_CHANGED = "The current remote calendar is not the one used in earlier syncs."
#: asked only where someone can answer (a terminal, the TUI); headless output says what to run
IDENTITY_QUESTION = "Initialize sync against the current calendar?"


#: the run's result and record live in sync/engine/record.py; callers import them here
__all__ = [
    "IDENTITY_CHANGED",
    "IDENTITY_QUESTION",
    "Result",
    "RunResult",
    "SyncOptions",
    "UserRun",
    "deferred_until",
    "identity_changed_reason",
    "make_window",
    "new_run_id",
    "run_user",
]


def identity_changed_reason(name: str) -> str:
    return f"{IDENTITY_CHANGED[:-1]}: run `calsync init {name} --yes` to accept the new calendar"


def make_window(settings: Settings, now: datetime) -> Window:
    return Window(
        now - timedelta(days=settings.window_past_days),
        now + timedelta(days=settings.window_future_days),
    )


@dataclass
class SyncOptions:
    init: bool = False
    dry_run: bool = False
    force: bool = False
    #: answer "yes" to the identity-change question (init against a new calendar)
    accept_new_identity: bool = False
    lock_timeout: float = 2.0
    #: called (done, total, label) per phase (total 0) and per applied action; cheap,
    #: from the thread that runs the user
    progress: Progress | None = None
    cancel: threading.Event | None = None
    now: datetime | None = None
    #: a run of the server job, not one an operator asked for: an operator's run
    #: starts the count of consecutive failures afresh (sync/health.py)
    by_job: bool = False


class UserRun:
    def __init__(self, workspace: Workspace, config: Config, name: str, options: SyncOptions):
        self.workspace = workspace
        self.config = config
        self.name = name
        self.options = options
        self.now = (options.now or datetime.now(UTC)).astimezone(UTC)
        self.run_id = new_run_id(self.now)
        self.files = UserFiles(workspace, name)
        # a server may echo a credential back in an error: mask every referenced secret
        # before anything reaches state.json, the screen or --json
        self.redact = Redactor.for_config(config)
        self.recorder = RunRecorder(
            self.run_id,
            self.now,
            "init" if options.init else "sync",
            "job" if options.by_job else "operator",
            self.redact,
        )

    def report(self, phase: str) -> None:
        """A phase with no count yet (0 of 0): the applier reports items as they go."""
        if self.options.progress is not None:
            self.options.progress(0, 0, phase)

    def run(self) -> RunResult:
        started = time.monotonic()
        result = self._run()
        result.duration = time.monotonic() - started
        result.run_id = self.run_id
        result.reason = self.redact(result.reason)
        result.errors = self.redact.value(result.errors)
        result.warnings = self.redact.value(result.warnings)
        return result

    def _run(self) -> RunResult:
        user = UserStore(self.workspace).get(self.name)
        settings, _ = effective_settings(user, self.config)
        if not user.get("remote"):
            return RunResult(self.name, "skipped", "no mailbox registered")
        dry_run = self.options.dry_run
        # a dry run of a user with no files yet has nothing to lock, and must not
        # create the user's folder for a lock file
        lock: AbstractContextManager[None] = (
            nullcontext()
            if dry_run and not self.files.dir.exists()
            else self.files.locked(self.options.lock_timeout)
        )
        try:
            with lock:
                try:
                    state = UserState(self.files.state_path, writable=not dry_run)
                except (StoreCorrupt, StoreTooNew) as exc:
                    # this user's files only: the others sync on (left untouched, R17)
                    reason = state_unreadable(exc)
                    return RunResult(self.name, "failed", reason, errors=[{"error": reason}])
                try:
                    # every request, and the run as a whole, within [job]'s deadlines
                    with deadline.for_job(self.config.job):
                        return self._locked(user, settings, state)
                except (StoreCorrupt, StoreTooNew) as exc:
                    # pairs.json and run history are read when needed, before any write;
                    # a damaged pairs.json is recorded and waits for an operator
                    if exc.path not in (state.pairs_path, *state.history.paths):
                        raise
                    reason = state_unreadable(exc)
                    if not dry_run and exc.path == state.pairs_path:
                        kind = {"error_class": "permanent", "error_type": "StoreCorrupt"}
                        self._record(state, "failed", reason, extra=kind)
                        state.flush_runs()
                    return RunResult(self.name, "failed", reason, errors=[{"error": reason}])
        except StoreBusy:
            return RunResult(self.name, "busy", "another calsync run holds this user")

    def _locked(self, user: dict[str, Any], settings: Settings, state: UserState) -> RunResult:
        opts = self.options
        if not opts.init and not state.initialized:
            reason = f"not initialized: run `calsync init {self.name}` to pair both calendars"
            # recorded: the job then says it once, not in every cron mail (sync/health.py)
            if not opts.dry_run:
                self._record(state, "needs_operator", reason, needs="not_initialized")
                state.flush_runs()
            return RunResult(self.name, "needs_operator", reason, "not_initialized")
        deferred = deferred_until(state, self.now)
        if deferred is not None:
            # a server asked to be left alone until then: every run (cron, watch) skips
            return RunResult(self.name, "deferred", str((state.last_run or {})["reason"]))
        providers: dict[Side, Provider] = {}
        try:
            for side in SIDES:
                providers[side] = open_provider(
                    str(user[side]), self.config.providers, read_only=opts.dry_run
                )
            # list first: a provider can prove its identity from the listing it just
            # did (a still-valid sync token or delta link), saving a request per run
            self.report("listing both calendars")
            listings = list_sides(providers, state, make_window(settings, self.now))
            identity = providers["remote"].identity()
            if state.identity is not None and identity != state.identity:
                if not (opts.init and opts.accept_new_identity):
                    changed = identity_changed_reason(self.name)
                    if not opts.dry_run:
                        # recorded, so `status` stops saying the last result was ok; the
                        # pairs and caches in memory belong to another calendar: runs only
                        self._record(state, "needs_operator", changed, needs="identity_changed")
                        state.flush_runs()
                    return RunResult(
                        self.name,
                        "needs_operator",
                        changed,
                        "identity_changed",
                        calendars=calendar_change(
                            state,
                            providers["remote"].url,
                            identity,
                            remote_name(providers["remote"]),
                        ),
                    )
                state.reset_pairs()
                listings = list_sides(providers, state, make_window(settings, self.now))
            elif opts.init and state.identity is None:
                # no pairing is trusted before a first init, but the provider caches
                # were filled by this run's listing of these very calendars: dropping
                # them made the first sync after an init list and parse everything again
                state.pairs.clear()
            adopt_moved(state, providers["remote"], listings["remote"])
            return self._sync(settings, state, providers, listings)
        except Throttled as exc:
            # deferred, not failed: the run goes on with other users, later runs skip
            # this one until the server's back-off has passed
            self._record(state, "deferred", str(exc), retry_after=exc.retry_after)
            return RunResult(self.name, "deferred", str(exc))
        except ProviderError as exc:
            # transient or permanent: later runs back off, or wait for an operator
            self._record(state, "failed", str(exc), extra=error_fields(exc))
            return RunResult(self.name, "failed", str(exc), errors=[{"error": str(exc)}])
        finally:
            for provider in providers.values():
                provider.close()

    def _sync(
        self,
        settings: Settings,
        state: UserState,
        providers: dict[Side, Provider],
        listings: dict[Side, Listing],
    ) -> RunResult:
        opts = self.options
        window = make_window(settings, self.now)
        pairs: list[Pair] = []
        if self._quiet(settings, state, listings):
            plan = Plan(pairs_in_view=state.pairs_count)  # the planner's answer, unasked
        else:
            pairs = [Pair.from_json(p) for p in state.pairs.values()]
            self.report("reading new and changed items")
            views = fetch_views(providers, listings, pairs, window)
            observe(views, pairs, providers, state.meta, self.now)
            safety = Safety(
                self.config.safety.max_delete_share, self.config.safety.min_delete_count
            )
            planner = Planner(settings, window, self.now, init=opts.init, safety=safety)
            plan = planner.plan(pairs, views["crm"], views["remote"])
        plan.warnings[:0] = [w for side in SIDES for w in listings[side].warnings]
        if opts.dry_run:
            return RunResult(
                self.name, "planned", plan.guard or "", plan=plan, warnings=plan.warnings
            )
        if plan.guard and not opts.force:
            reason = (
                f"{plan.guard}: run `calsync sync {self.name} --dry-run` to see them, "
                f"then `calsync sync {self.name} --force` to apply"
            )
            self._record(state, "needs_operator", reason, needs="mass_delete")
            state.flush()
            return RunResult(self.name, "needs_operator", reason, "mass_delete", plan=plan)

        files = self.files
        # every file the run writes is read before its first write: a corrupt trash or
        # run history stops the run here with nothing written, not after the first delete
        expired = self._trash_expired()
        if plan.actions:
            state.history.load()
        applier = Applier(
            providers,
            state,
            files.log,
            files.trash,
            run_id=self.run_id,
            now=self.now,
            progress=opts.progress,
            cancel=opts.cancel,
        )
        if opts.init:
            state.meta["identity"] = providers["remote"].claim_identity()
            state.meta["initialized_at"] = self.now.isoformat(timespec="seconds")
            state.meta["remote_url"] = providers["remote"].url
            state.meta["remote_name"] = remote_name(providers["remote"])
        try:
            # deletes an earlier run sent without hearing back: the listing just made says
            # whether they happened, before this run's deletes reuse their trash entries
            plan.warnings += settle_pending(
                files.trash, files.log, providers, plan.actions, run_id=self.run_id, now=self.now
            )
            return self._apply(state, applier, plan, pairs)
        except (StoreError, OSError) as exc:
            # some writes may have happened: a failure (exit 1), never "nothing written"
            reason = os_error_line(exc) if isinstance(exc, OSError) else str(exc)
            with contextlib.suppress(StoreError, OSError):
                applier.flush()  # keep what was done, if the disk still takes it
                self._record(state, "failed", reason)
                state.flush()
            return RunResult(self.name, "failed", reason, errors=[{"error": reason}])
        finally:
            with contextlib.suppress(StoreError, OSError):
                self._purge(trash=expired)

    def _quiet(self, settings: Settings, state: UserState, listings: dict[Side, Listing]) -> bool:
        """A sync with nothing to do, seen from the listings alone (`nothing_changed`):
        not an init (it matches unpaired items), no skip_private (it reads the stored
        privacy), no change sighting kept from an earlier run (`observe` drops it).
        Decided from the digest of the pairings' ids and etags kept in state.json
        where it is known (storage/pairstore.py), so pairs.json is not even read."""
        if self.options.init or settings.skip_private or SEEN_KEY in state.meta:
            return False
        digest = state.pairs_digest
        if digest is None:  # not known without reading the pairings
            return nothing_changed(state.pairs.values(), listings)
        return nothing_changed_since(digest, listings)

    def _apply(
        self, state: UserState, applier: Applier, plan: Plan, pairs: Sequence[Pair]
    ) -> RunResult:
        outcome = applier.apply(plan.actions)
        if SEEN_KEY in state.meta:  # (state.pairs reads pairs.json: only when needed)
            settle(state.meta, pairs, state.pairs)
        if outcome.cancelled:
            status: Result = "cancelled"
        else:
            status = "failed" if outcome.errors else "ok"
        reason = f"{len(outcome.errors)} item(s) failed" if outcome.errors else ""
        result = RunResult(
            self.name,
            status,
            reason,
            counts=outcome.counts,
            errors=outcome.errors,
            warnings=plan.warnings,
            conflicts=outcome.conflicts,
        )
        self._record(state, status, reason, result)
        state.flush()
        return result

    def _record(
        self,
        state: UserState,
        status: str,
        reason: str,
        result: RunResult | None = None,
        *,
        retry_after: datetime | None = None,
        needs: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        if self.options.dry_run:
            return  # a dry run writes nothing, not even its own record
        self.recorder.record(
            state, status, reason, result, retry_after=retry_after, needs=needs, extra=extra
        )

    def _cutoff(self) -> datetime:
        return self.now - timedelta(days=self.config.retention_days)

    def _trash_expired(self) -> bool:
        """Whether the trash holds entries past retention; StoreCorrupt if unreadable."""
        stamp = self._cutoff().isoformat(timespec="seconds")
        entries = self.files.trash.entries(include_restored=True)
        return any(str(e.get("deleted_at", "")) < stamp for e in entries)

    def _purge(self, *, trash: bool) -> None:
        """Retention ([log] retention_days) for the change log and, if `trash`, the trash."""
        cutoff = self._cutoff()
        self.files.log.purge_before(cutoff)
        if trash:  # rewrite the trash file only when something has expired
            self.files.trash.purge_before(cutoff)


def run_user(
    workspace: Workspace, config: Config, name: str, options: SyncOptions | None = None
) -> RunResult:
    return UserRun(workspace, config, name, options or SyncOptions()).run()
