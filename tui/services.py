"""The TUI's one door into sync/: plain data in, plain data out, no Textual.

Every method may block (files, servers), so the app calls them only from thread
workers. Keeping them here means the screens never import sync/ or storage/ and a
test can drive the same calls without a terminal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from storage.config import Config, load_config
from storage.errors import StoreError, state_unreadable
from storage.short_ids import SHORT_LENGTH, short_ids
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace
from sync import revert_run, service, users
from sync.engine.runner import IDENTITY_CHANGED, IDENTITY_QUESTION, RunResult, SyncOptions
from sync.health import Health, health_of, judge
from sync.log_filter import BadFilter, LogFilter, typed_id
from sync.providers.base import ProviderError
from sync.settings import effective_settings
from tui.fleet import item_errors
from tui.fleet_state import UserSummary

#: seconds between auto-syncs when calsync.toml sets no `[job] interval`
DEFAULT_INTERVAL = 600
#: the newest log entries the browser loads; older ones stay reachable via the CLI
LOG_LIMIT = 5000

Clock = Callable[[], datetime]
Progress = Callable[[int, int, str], None]

# re-exported so screens need not import sync/
#: the TUI can ask: the statement and the question
IDENTITY_QUESTION = f"{IDENTITY_CHANGED} {IDENTITY_QUESTION}"
__all__ = [
    "IDENTITY_QUESTION",
    "SHORT_LENGTH",
    "BadFilter",
    "Health",
    "LogFilter",
    "RunResult",
    "Services",
    "UserSummary",
    "short_ids",
    "typed_id",
]
SETTING_FIELDS = users.SETTABLE

#: what an operation may raise that is the operator's to read, not a crash
OperatorError = (StoreError, ProviderError)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class UserRow:
    """What the users table needs from users.json alone: cheap for 1,000 users."""

    name: str
    crm: str
    remote: str
    enabled: bool

    @property
    def remote_kind(self) -> str:
        return calendar_kind(self.remote)


@dataclass(frozen=True)
class SettingValue:
    key: str
    value: Any
    source: str
    #: what the user record itself holds (None: not set there)
    own: Any


@dataclass(frozen=True)
class UserDetail:
    row: UserRow
    settings: list[SettingValue]
    identity: str | None
    initialized_at: str | None
    pairs: int
    last_run: Mapping[str, Any] | None
    #: every error of the last run, in full
    errors: list[str]
    state_error: str = ""
    #: transient/permanent, consecutive failures, next retry, what fixes it
    health: Health | None = None


@dataclass(frozen=True)
class CheckRow:
    side: str
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class LogPage:
    """The newest change-log entries as loaded, and the log's true size."""

    rows: list[dict[str, Any]]
    total: int
    #: every entry's short id, unambiguous over the whole log (full id → short)
    short: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.rows) >= self.total


def calendar_kind(url: str) -> str:
    scheme, sep, _ = url.partition(":")
    return scheme if sep else ""


def shown_address(url: str, root: Path | None = None) -> str:
    """The part after the scheme, fit for a screen: no credentials, short local paths."""
    if not url:
        return ""
    scheme, sep, rest = url.partition(":")
    if not sep:
        return url
    if rest.startswith(("http://", "https://")):
        parts = urlsplit(rest)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    if scheme == "folder" and root is not None:
        try:
            return str(Path(rest).relative_to(root))
        except ValueError:
            return rest
    return rest


class Services:
    def __init__(self, workspace: Workspace, *, clock: Clock = utc_now) -> None:
        self.workspace = workspace
        self.clock = clock
        self._config: Config | None = None
        self._config_stamp: float | None = None
        self._lock = threading.Lock()

    # -- config --------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """calsync.toml, re-read when it changed on disk (an operator may edit it meanwhile)."""
        path = self.workspace.config_path
        try:
            stamp: float | None = path.stat().st_mtime
        except OSError:
            stamp = None
        with self._lock:
            if self._config is None or stamp != self._config_stamp:
                self._config = load_config(path)
                self._config_stamp = stamp
            return self._config

    def interval(self) -> int:
        value = self.config.job.get("interval")
        return int(value) if isinstance(value, int) else DEFAULT_INTERVAL

    # -- users ---------------------------------------------------------------------------

    def users(self) -> list[UserRow]:
        return [
            UserRow(
                name=str(u["name"]),
                crm=str(u.get("crm") or ""),
                remote=str(u.get("remote") or ""),
                enabled=bool(u.get("enabled", True)),
            )
            for u in UserStore(self.workspace).all()
        ]

    def summary(self, name: str, record: Mapping[str, Any] | None = None) -> UserSummary:
        """The table's facts from the user's state file, and the user's health judged
        from the same run records as `calsync status` judges it (sync/health.py)."""
        if record is None:
            try:
                record = self.user_record(name)
            except StoreError:  # removed meanwhile: the table drops the row
                return UserSummary()
        return self._summary(name, record, self.config, self.clock())

    def summaries(self, names: Iterable[str]) -> Iterator[tuple[str, UserSummary]]:
        """Summaries of `names`; users.json and calsync.toml are read once for all."""
        records = {str(u["name"]): u for u in UserStore(self.workspace).all()}
        config, now = self.config, self.clock()
        for name in names:
            if name in records:
                yield name, self._summary(name, records[name], config, now)

    def _summary(
        self, name: str, record: Mapping[str, Any], config: Config, now: datetime
    ) -> UserSummary:
        try:
            state = UserFiles(self.workspace, name).read_state()
        except StoreError as exc:
            health = health_of(self.workspace, config, record, now)
            return UserSummary(error=state_unreadable(exc), health=health)
        last = state.last_run or {}
        finished = last.get("finished") or last.get("started")
        return UserSummary(
            initialized=state.initialized,
            last_sync=_parse_time(finished),
            last_result=str(last.get("result") or ""),
            last_reason=str(last.get("reason") or ""),
            counts=last.get("counts") or {},
            item_errors=item_errors(last.get("errors")),
            health=judge(record, state.runs, config, now),
        )

    def stamps(self, names: Iterable[str]) -> dict[str, int]:
        """A cheap fingerprint per user (and "" for users.json) to see outside changes.

        Every state write is a temp file renamed into the user's folder, which bumps the
        folder's mtime: one stat per user, however big the state file.
        """
        stamps = {"": _mtime(self.workspace.users_path)}
        for name in names:
            stamps[name] = _mtime(self.workspace.user_dir(name))
        return stamps

    def detail(self, name: str) -> UserDetail:
        record = UserStore(self.workspace).get(name)
        row = UserRow(
            name=name,
            crm=str(record.get("crm") or ""),
            remote=str(record.get("remote") or ""),
            enabled=bool(record.get("enabled", True)),
        )
        settings, sources = effective_settings(record, self.config)
        values = [
            SettingValue(key, getattr(settings, key), sources[key], record.get(key))
            for key in sources
        ]
        try:
            state = UserFiles(self.workspace, name).read_state()
        except StoreError as exc:
            problem = state_unreadable(exc)
            health = health_of(self.workspace, self.config, record, self.clock())
            return UserDetail(row, values, None, None, 0, None, [], problem, health)
        last = state.last_run
        errors = []
        for err in (last or {}).get("errors") or []:
            item = str(err.get("item") or "")
            text = str(err.get("error") or "")
            errors.append(f"{item}: {text}" if item else text)
        return UserDetail(
            row=row,
            settings=values,
            identity=state.identity,
            initialized_at=state.meta.get("initialized_at"),
            pairs=state.pairs_count,
            last_run=last,
            errors=[e for e in errors if e],
            health=judge(record, state.runs, self.config, self.clock()),
        )

    def runnable(self) -> list[str]:
        """Who a "sync all" or an auto-sync covers: enabled users with a remote (R11)."""
        return [u.name for u in self.users() if u.enabled and u.remote]

    def check_field(self, key: str, raw: str) -> Any:
        """Parse one form field as `calsync user set` would; UsageError says why not."""
        return users.parse_value(key, raw)

    def check_name(self, name: str) -> str:
        """A new user's name: valid and not taken (case-blind), as `calsync user add` checks."""
        return users.check_new_name(self.workspace, name)

    def add_user(self, name: str, crm: str, remote: str, settings: Mapping[str, str]) -> None:
        users.add_user(self.workspace, name, crm, remote, **dict(settings))

    def update_user(self, name: str, changes: Mapping[str, str]) -> None:
        if changes:
            users.set_user(self.workspace, name, changes)

    def set_enabled(self, name: str, enabled: bool) -> None:
        users.set_user(self.workspace, name, {"enabled": "yes" if enabled else "no"})

    def remove_user(self, name: str) -> Path | None:
        return users.remove_user(self.workspace, name)

    def user_record(self, name: str) -> dict[str, Any]:
        return UserStore(self.workspace).get(name)

    # -- runs ----------------------------------------------------------------------------

    def run(
        self,
        name: str,
        *,
        init: bool = False,
        dry_run: bool = False,
        force: bool = False,
        accept_new_identity: bool = False,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        scheduled: bool = False,
    ) -> RunResult:
        """One user's run. `scheduled` (auto-sync) runs as the server job does: a user
        backing off or waiting for an operator is left alone (sync/health.py)."""
        if scheduled:
            try:
                health = health_of(self.workspace, self.config, self.user_record(name))
            except OperatorError as exc:
                return RunResult(name, "failed", str(exc), errors=[{"error": str(exc)}])
            if health.held:  # quiet: the detail pane shows why and what fixes it
                return RunResult(name, "skipped", f"{health.state}: {health.reason}")
        options = SyncOptions(
            by_job=scheduled,
            init=init,
            dry_run=dry_run,
            force=force,
            accept_new_identity=accept_new_identity,
            progress=progress,
            cancel=cancel,
        )
        try:
            if init:
                return service.init_user(self.workspace, self.config, name, options)
            return service.sync_user(self.workspace, self.config, name, options)
        except OperatorError as exc:
            # a broken config or user record fails this user, never the whole run
            return RunResult(name, "failed", str(exc), errors=[{"error": str(exc)}])

    def is_initialized(self, name: str) -> bool:
        return bool(self.summary(name).initialized)

    def check(self, name: str) -> list[CheckRow]:
        return [
            CheckRow(str(r["side"]), str(r["check"]), bool(r["ok"]), str(r["detail"]))
            for r in service.check_user(self.workspace, self.config, name)
        ]

    # -- log and trash ----------------------------------------------------------------------

    def log(self, name: str, limit: int = LOG_LIMIT) -> LogPage:
        """The newest `limit` entries, and how many the log holds in all."""
        rows = service.log_entries(self.workspace, name, limit)
        log = UserFiles(self.workspace, name).log
        total = len(rows)
        if total >= limit:
            total = max(total, log.count())
        return LogPage(rows, total, short_ids(log.ids()))

    def revert(self, name: str, log_id: str) -> dict[str, Any]:
        return service.revert(self.workspace, self.config, name, log_id)

    def revert_run_preview(self, name: str, run_id: str) -> list[dict[str, Any]]:
        """What undoing the run would do, newest change first; nothing is written."""
        return revert_run.preview(self.workspace, name, run_id)

    def short_run_id(self, name: str, run_id: str) -> str:  # as revert-run shows it
        return revert_run.short_run_id(self.workspace, name, run_id)

    def revert_run(self, name: str, run_id: str) -> dict[str, Any]:
        return revert_run.revert_run(self.workspace, self.config, name, run_id)

    def trash(self, name: str) -> list[dict[str, Any]]:
        return service.trash_entries(self.workspace, name)

    def restore(self, name: str, entry_id: str) -> dict[str, Any]:
        return service.restore(self.workspace, self.config, name, entry_id)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
