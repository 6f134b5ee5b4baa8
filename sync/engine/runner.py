"""One user's sync or initialization, end to end.

Phases, after vdirsyncer: list both sides (ids + etags), fetch in bulk only what is
new or changed plus the paired items that vanished from a listing (a direct
lookup decides between "deleted" and "moved out of the window", R2), plan (pure),
guard, apply, record.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from storage.config import Config
from storage.errors import StoreBusy
from storage.state import UserFiles, UserState
from storage.users import UserStore
from storage.workspace import Workspace
from sync.engine.actions import Plan
from sync.engine.applier import Applier, Progress
from sync.engine.pairs import SIDES, Pair, Side, Synced
from sync.engine.pending import settle_pending
from sync.engine.planner import Planner, Safety, SideView
from sync.providers.base import BrokenItem, Item, Listing, Provider, ProviderError, Window
from sync.providers.registry import open_provider
from sync.runlog import Redactor
from sync.settings import Settings, effective_settings

IDENTITY_CHANGED = (
    "The current remote calendar is not the one used in earlier syncs. "
    "Initialize sync against the current calendar?"
)

Result = Literal["ok", "failed", "needs_operator", "busy", "skipped", "cancelled", "planned"]


@dataclass
class RunResult:
    user: str
    result: Result
    reason: str = ""
    #: why an operator is needed: "not_initialized" | "identity_changed" | "mass_delete"
    needs: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: int = 0
    duration: float = 0.0
    run_id: str = ""
    plan: Plan | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user": self.user,
            "result": self.result,
            "reason": self.reason,
            "needs": self.needs,
            "counts": self.counts,
            "errors": self.errors,
            "warnings": self.warnings,
            "conflicts": self.conflicts,
            "duration": round(self.duration, 3),
            "run_id": self.run_id,
        }
        if self.plan is not None:
            data["plan"] = [a.to_json() for a in self.plan.actions if a.writes]
            data["guard"] = self.plan.guard
        return data


def make_window(settings: Settings, now: datetime) -> Window:
    return Window(
        now - timedelta(days=settings.window_past_days),
        now + timedelta(days=settings.window_future_days),
    )


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


@dataclass
class SyncOptions:
    init: bool = False
    dry_run: bool = False
    force: bool = False
    #: answer "yes" to the identity-change question (init against a new calendar)
    accept_new_identity: bool = False
    lock_timeout: float = 2.0
    progress: Progress | None = None
    cancel: threading.Event | None = None
    now: datetime | None = None


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
        try:
            with self.files.locked(self.options.lock_timeout):
                state = UserState(self.files.state_path, writable=True)
                return self._locked(user, settings, state)
        except StoreBusy:
            return RunResult(self.name, "busy", "another calsync run holds this user")

    def _locked(self, user: dict[str, Any], settings: Settings, state: UserState) -> RunResult:
        opts = self.options
        if not opts.init and not state.initialized:
            return RunResult(
                self.name,
                "needs_operator",
                "not initialized: run `calsync init`",
                "not_initialized",
            )
        providers: dict[Side, Provider] = {}
        try:
            providers["crm"] = open_provider(str(user["crm"]), self.config.providers)
            providers["remote"] = open_provider(str(user["remote"]), self.config.providers)
            # list first: a provider can prove its identity from the listing it just
            # did (a still-valid sync token or delta link), saving a request per run
            listings = list_sides(providers, state, make_window(settings, self.now))
            identity = providers["remote"].identity()
            if state.identity is not None and identity != state.identity:
                if not (opts.init and opts.accept_new_identity):
                    return RunResult(
                        self.name, "needs_operator", IDENTITY_CHANGED, "identity_changed"
                    )
                state.reset_pairs()
                listings = list_sides(providers, state, make_window(settings, self.now))
            elif opts.init and state.identity is None:
                # no pairing is trusted before a first init, but the provider caches
                # were filled by this run's listing of these very calendars: dropping
                # them made the first sync after an init list and parse everything again
                state.pairs.clear()
            return self._sync(settings, state, providers, identity, listings)
        except ProviderError as exc:
            self._record(state, "failed", str(exc))
            return RunResult(self.name, "failed", str(exc), errors=[{"error": str(exc)}])
        finally:
            for provider in providers.values():
                provider.close()

    def _sync(
        self,
        settings: Settings,
        state: UserState,
        providers: dict[Side, Provider],
        identity: str,
        listings: dict[Side, Listing],
    ) -> RunResult:
        opts = self.options
        window = make_window(settings, self.now)
        pairs = [Pair.from_json(p) for p in state.pairs.values()]
        views = fetch_views(providers, listings, pairs, window)
        safety = Safety(self.config.safety.max_delete_share, self.config.safety.min_delete_count)
        planner = Planner(settings, window, self.now, init=opts.init, safety=safety)
        plan = planner.plan(pairs, views["crm"], views["remote"])
        plan.warnings[:0] = [w for side in SIDES for w in listings[side].warnings]
        if opts.dry_run:
            return RunResult(
                self.name, "planned", plan.guard or "", plan=plan, warnings=plan.warnings
            )
        if plan.guard and not opts.force:
            reason = f"{plan.guard}; pass --force to continue"
            self._record(state, "needs_operator", reason)
            state.flush()
            return RunResult(self.name, "needs_operator", reason, "mass_delete", plan=plan)

        files = self.files
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
            state.meta["identity"] = identity
            state.meta["initialized_at"] = self.now.isoformat(timespec="seconds")
            state.meta["remote_url"] = providers["remote"].url
        # deletes an earlier run sent without hearing back: the listing just made says
        # whether they happened, before this run's deletes reuse their trash entries
        plan.warnings += settle_pending(
            files.trash, files.log, providers, plan.actions, run_id=self.run_id, now=self.now
        )
        outcome = applier.apply(plan.actions)
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
        self._purge()
        return result

    def _record(
        self, state: UserState, status: str, reason: str, result: RunResult | None = None
    ) -> None:
        reason = self.redact(reason)
        state.add_run(
            {
                "id": self.run_id,
                "started": self.now.isoformat(timespec="seconds"),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "kind": "init" if self.options.init else "sync",
                "result": status,
                "reason": reason,
                "counts": result.counts if result else {},
                "errors": self.redact.value(result.errors[:50] if result else [{"error": reason}]),
                "warnings": self.redact.value(result.warnings[:50] if result else []),
            }
        )
        if status == "failed" and result is None:
            state.flush_runs()

    def _purge(self) -> None:
        """Retention ([log] retention_days) for the change log and the trash."""
        cutoff = self.now - timedelta(days=self.config.retention_days)
        self.files.log.purge_before(cutoff)
        trash = self.files.trash
        stamp = cutoff.isoformat(timespec="seconds")
        # rewrite the trash file only when something has expired
        if any(str(e.get("deleted_at", "")) < stamp for e in trash.entries(include_restored=True)):
            trash.purge_before(cutoff)


def list_sides(
    providers: dict[Side, Provider], state: UserState, window: Window
) -> dict[Side, Listing]:
    return {
        side: providers[side].list_window(window, _cache(state, side, providers[side]))
        for side in SIDES
    }


def _cache(state: UserState, side: Side, provider: Provider) -> dict[str, Any]:
    """The side's provider cache, emptied when the side now points at another calendar,
    so no provider ever reads a sync token or index made for a different one."""
    owners = state.meta.setdefault("cache_owner", {})
    cache = state.cache(side)
    if owners.get(side) != provider.url:
        cache.clear()
        owners[side] = provider.url
    return cache


def gather(
    providers: dict[Side, Provider], state: UserState, pairs: Sequence[Pair], window: Window
) -> dict[Side, SideView]:
    """List both sides, then fetch in bulk what is new, changed or missing."""
    return fetch_views(providers, list_sides(providers, state, window), pairs, window)


def fetch_views(
    providers: dict[Side, Provider],
    listings: dict[Side, Listing],
    pairs: Sequence[Pair],
    window: Window,
) -> dict[Side, SideView]:
    """Fetch in bulk only what is new, changed, or paired and missing from a listing."""
    stored: dict[Side, dict[str, Synced]] = {
        side: {p.side(side).id: p.side(side) for p in pairs} for side in SIDES
    }
    views: dict[Side, SideView] = {}
    for side in SIDES:
        listing = listings[side]
        partner: Side = "remote" if side == "crm" else "crm"
        partner_listed = {
            p.side(side).id for p in pairs if p.side(partner).id in listings[partner].etags
        }
        known = stored[side]
        changed = [
            i for i, etag in listing.etags.items() if i not in known or known[i].etag != etag
        ]
        missing = [
            i
            for i, synced in known.items()
            if i not in listing.etags
            and i not in listing.broken
            and (window.contains(synced.event) or i in partner_listed)
        ]
        fetched = providers[side].fetch(changed + missing) if (changed or missing) else {}
        view = SideView(
            broken={i: b.error for i, b in listing.broken.items()},
            listed_nothing=not listing.etags and not listing.broken,
            trusted_mtime=providers[side].capabilities.trusted_mtime,
        )
        for item_id, etag in listing.etags.items():
            if item_id in known and known[item_id].etag == etag:
                view.current[item_id] = known[item_id].as_item()
            else:
                _take(view, item_id, fetched.get(item_id))
        for item_id in missing:
            got = fetched.get(item_id)
            if got is None:
                view.gone.add(item_id)
            else:
                _take(view, item_id, got)
        views[side] = view
    return views


def _take(view: SideView, item_id: str, got: Item | BrokenItem | None) -> None:
    if isinstance(got, Item):
        view.current[item_id] = got
    elif isinstance(got, BrokenItem):
        view.broken[item_id] = got.error
    # None: listed a moment ago and gone now; the next run decides


def run_user(
    workspace: Workspace, config: Config, name: str, options: SyncOptions | None = None
) -> RunResult:
    return UserRun(workspace, config, name, options or SyncOptions()).run()
