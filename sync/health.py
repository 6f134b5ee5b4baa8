"""A user's health: is their sync working, and if not, what fixes it.

Failures come in two classes, as in Dynamics 365 server-side synchronization:

* **transient** — the network, a timeout, a 5xx, throttling. The server job retries
  them on later runs with a growing back-off (5 min, 10, 20, … at most 6 h); after
  `[job] attention_after` consecutive failures (default 10) the user needs an
  operator.
* **permanent** — credentials refused, the mailbox or calendar not found, a
  permission missing, an unusable URL. The user needs an operator at once.

A user that needs an operator is left alone by the job (no run, no repeated error
in the run log or in cron's mail) until an operator acts: an explicit `calsync sync`
or `init` of that user, `calsync retry NAME`, `calsync user set NAME ...`, or a
`calsync check NAME` that passes. The last three mark the newest run record
"cleared"; an explicit run counts from itself.

Everything here is computed from the run records in the user's runs.json: the
record of a failed run carries `error_class` and `error_type` (see `classify`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from storage.config import Config
from storage.errors import StoreError, state_unreadable
from storage.runs import newest_quiet_run
from storage.runs import read_runs as read_runs
from storage.state import UserFiles, UserState
from storage.workspace import Workspace
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConfigError,
    ConnectionFailed,
    NotifyRefused,
    ProviderError,
    Throttled,
)

HealthState = Literal[
    "ok", "failing", "needs_operator", "throttled", "deferred", "disabled", "never"
]
ErrorClass = Literal["transient", "permanent"]
STATES: tuple[HealthState, ...] = (
    "ok",
    "failing",
    "needs_operator",
    "throttled",
    "deferred",
    "disabled",
    "never",
)
#: consecutive transient failures before a user needs an operator (`[job] attention_after`)
DEFAULT_ATTENTION_AFTER = 10
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
#: the exception types whose failure no retry can fix
PERMANENT: tuple[type[BaseException], ...] = (
    AuthFailed,
    CalendarNotFound,
    ConfigError,
    NotifyRefused,
)
#: who cleared a user's failures, as recorded on the newest run
CLEARED_BY = ("check", "retry", "user set")


@dataclass(frozen=True, slots=True)
class Health:
    """One user's health, for `status`, `--json`, the job and the TUI.

    `state` is one of STATES; `error_class` "transient", "permanent" or None;
    `failures` the consecutive failed runs since the last good or operator-cleared
    one; `next_retry` when the job tries again (UTC; None: at its next run, or never
    without an operator); `reason` one line; `action` the one thing to run; `needs` and
    `error_type` (e.g. "mass_delete", "AuthFailed") let a screen pick its own fix.
    """

    state: str
    error_class: str | None
    failures: int
    next_retry: datetime | None
    reason: str
    action: str
    needs: str | None = None
    error_type: str | None = None

    @property
    def held(self) -> bool:
        """The server job leaves this user out for now (back-off, throttling, operator)."""
        if self.state in ("throttled", "deferred"):
            return True
        return self.state == "needs_operator" and self.error_class is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "error_class": self.error_class,
            "failures": self.failures,
            "next_retry": self.next_retry.isoformat(timespec="seconds")
            if self.next_retry
            else None,
            "reason": self.reason,
            "action": self.action,
            "needs": self.needs,
            "error_type": self.error_type,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        retry = _time(data.get("next_retry"))
        return cls(
            str(data.get("state") or "never"),
            data.get("error_class") or None,
            int(data.get("failures") or 0),
            retry,
            str(data.get("reason") or ""),
            str(data.get("action") or ""),
            data.get("needs") or None,
            data.get("error_type") or None,
        )


# -- classification ---------------------------------------------------------------------


def classify(exc: BaseException) -> ErrorClass:
    """The one place a failure is classed: permanent if no retry can fix it."""
    if isinstance(exc, Throttled):
        return "transient"
    return "permanent" if isinstance(exc, PERMANENT) else "transient"


def error_fields(exc: BaseException) -> dict[str, str]:
    """What a failed run's record keeps about its error, for `health_of` to read."""
    kinds = (*PERMANENT, Throttled, ConnectionFailed, ProviderError)
    kind = next((k for k in kinds if isinstance(exc, k)), type(exc))
    return {"error_class": classify(exc), "error_type": kind.__name__}


def backoff(failures: int) -> timedelta:
    """The wait after the `failures`-th consecutive transient failure: 5 min, doubling."""
    if failures < 1:
        return timedelta(0)
    wait: timedelta = BACKOFF_BASE * 2 ** min(failures - 1, 16)
    return min(BACKOFF_MAX, wait)


def attention_after(config: Config) -> int:
    return int(config.job.get("attention_after") or DEFAULT_ATTENTION_AFTER)


# -- judging ----------------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _hhmm(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _disabled(user: Mapping[str, Any], config: Config) -> Health | None:
    name = user.get("name")
    if config.job.get("enabled") is False:
        why, fix = "the job is turned off ([job] enabled = false)", "set [job] enabled = true"
        return Health("disabled", None, 0, None, why, f"{fix} in calsync.toml to turn it on")
    if not user.get("enabled", True):
        fix = f"run `calsync user set {name} enabled=yes` to turn sync on"
        return Health("disabled", None, 0, None, "sync is turned off for this user", fix)
    if not user.get("remote"):
        fix = f"run `calsync user set {name} remote=URL` to register the mailbox"
        return Health("disabled", None, 0, None, "no mailbox registered", fix)
    return None


def needs_action(name: str, needs: str | None, reason: str) -> str:
    """What to run for a run that stopped for an operator (identity, guard, init)."""
    if needs == "identity_changed" or reason.startswith("The current remote calendar"):
        return f"run `calsync init {name} --yes` to accept the new calendar"
    if needs == "mass_delete" or "--force" in reason:
        return (
            f"run `calsync sync {name} --dry-run` to see the deletions, "
            f"then `calsync sync {name} --force` to apply them"
        )
    return f"run `calsync init {name}` to pair both calendars"


def permanent_action(name: str, error_type: str) -> str:
    if error_type == "AuthFailed":
        return (
            f"fix the credentials or the access rights in calsync.toml, "
            f"then run `calsync check {name}`"
        )
    if error_type == "CalendarNotFound":
        return (
            f"once the calendar exists run `calsync check {name}`, or point {name} at the "
            f"right one with `calsync user set {name} remote=URL`"
        )
    if error_type == "StoreCorrupt":
        return (
            f"put {name}'s pairs.json back from a backup, or move {name}'s state.json and "
            f"pairs.json away and run `calsync init {name}` (it pairs the items again by "
            f"UID, no duplicates); then run `calsync sync {name}`"
        )
    return f"fix the calendar's settings in calsync.toml, then run `calsync check {name}`"


def _streak(runs: Sequence[Mapping[str, Any]]) -> tuple[int, Mapping[str, Any] | None]:
    """(consecutive failed runs, the newest of them) since the last ok or cleared run.

    A run an operator asked for starts the count afresh: it counts, the runs before
    it do not. Throttled and cancelled runs neither count nor break the streak.
    """
    failures = 0
    newest: Mapping[str, Any] | None = None
    for run in reversed(runs):
        result = run.get("result")
        if run.get("cleared") or result in ("ok", "needs_operator") or _item_errors(run):
            break
        if result == "failed":
            failures += 1
            newest = newest or run
        if run.get("by") == "operator":
            break
    return failures, newest


def _item_errors(run: Mapping[str, Any]) -> bool:
    """The run went through but some items failed: retried every run, never backed off."""
    errors = run.get("errors") or []
    return bool(errors) and all(isinstance(e, Mapping) and e.get("item") for e in errors)


def judge(
    user: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    config: Config,
    now: datetime | None = None,
) -> Health:
    """The health of `user` from their run records (oldest first); pure."""
    now = now or datetime.now(UTC)
    name = str(user.get("name"))
    disabled = _disabled(user, config)
    if disabled is not None:
        return disabled
    if not runs:
        init = f"run `calsync init {name}` to pair both calendars"
        return Health("never", None, 0, None, "never synced", init)
    failures, newest = _streak(runs)
    retry_now = f"run `calsync sync {name}` to try now"
    for run in reversed(runs):
        result = run.get("result")
        lines = str(run.get("reason") or "").strip().splitlines()
        line = lines[0] if lines else str(result)
        until = _time(run.get("retry_after")) if result == "deferred" else None
        if until is not None and until > now and not run.get("cleared"):
            wait = f"wait: the job retries after {_hhmm(until)}, as the server asked"
            return Health("throttled", "transient", failures, until, line, wait)
        if result == "ok":
            return Health("ok", None, 0, None, "", "")
        if run.get("cleared"):
            why = f"failures cleared by `calsync {run['cleared']}`; the next job run tries again"
            return Health("failing", None, 0, None, why, retry_now)
        if result in ("cancelled", "deferred"):
            continue
        if result == "needs_operator":
            action, needs = needs_action(name, run.get("needs"), line), run.get("needs")
            return Health("needs_operator", None, failures, None, line, action, needs or None)
        if result == "failed" and _item_errors(run):
            see = (
                "fix the items listed by `calsync status --json` in their calendar, then "
                f"run `calsync sync {name}` (every run retries them)"
            )
            return Health("failing", None, 0, None, line, see)
        if result == "failed":
            return _failed(name, run, newest or run, failures, config, now, line)
    return Health("ok", None, 0, None, "", "")


def _failed(
    name: str,
    run: Mapping[str, Any],
    newest: Mapping[str, Any],
    failures: int,
    config: Config,
    now: datetime,
    line: str,
) -> Health:
    failures, kind = max(failures, 1), run.get("error_type") or None
    if run.get("error_class") == "permanent":
        action = permanent_action(name, str(kind or ""))
        return Health("needs_operator", "permanent", failures, None, line, action, None, kind)
    if failures >= attention_after(config):
        why = f"{line} ({failures} failures in a row)"
        fix = f"run `calsync check {name}`: once it passes, the job syncs {name} again"
        return Health("needs_operator", "transient", failures, None, why, fix, None, kind)
    finished = _time(newest.get("finished") or newest.get("started")) or now
    retry = finished + backoff(failures)
    state = "deferred" if retry > now else "failing"
    when = f"after {_hhmm(retry)}" if retry > now else "at its next run"
    wait = f"wait for the job's retry {when}, or run `calsync sync {name}` now"
    return Health(state, "transient", failures, retry, line, wait, None, kind)


# -- reading and clearing ---------------------------------------------------------------


def health_of(
    ws: Workspace, config: Config, user: Mapping[str, Any], now: datetime | None = None
) -> Health:
    """The health of `user` (their users.json record) from what the workspace stores.

    A state file that cannot be read needs an operator, without an error class: the
    job still runs the user, whose run then fails naming the file.
    """
    try:
        newest = newest_quiet_run(ws, str(user["name"]))
        if newest is not None and newest.get("result") == "ok":
            # an ok newest record decides alone (`judge`): the history is not read
            return judge(user, [newest], config, now)
        runs = read_runs(ws, str(user["name"]))
    except StoreError as exc:
        # the run says so itself each time (and leaves the file alone): not held back
        fix = f"restore {user['name']}'s state from a backup or move the file away"
        return Health("needs_operator", None, 0, None, state_unreadable(exc), fix)
    return judge(user, runs, config, now)


def clear(ws: Workspace, name: str, by: str, *, lock_timeout: float = 2.0) -> bool:
    """Forgive the user's failures: the job runs them again at its next pass.

    Marks the newest run record; True if there was something to clear. A user whose
    run is going on right now is left as is (that run records its own outcome).
    """
    if by not in CLEARED_BY:
        raise ValueError(by)
    files = UserFiles(ws, name)
    if not files.state_path.with_name("runs.json").exists() and not files.state_path.exists():
        return False  # nothing recorded: and a check must create no file
    try:
        with files.locked(lock_timeout):
            state = UserState(files.state_path, writable=True)
            last = state.last_run
            if last is None or last.get("result") == "ok" or last.get("cleared"):
                return False
            last["cleared"] = by
            last["cleared_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            state.flush_runs()
            return True
    except StoreError:
        return False


def _signature(run: Mapping[str, Any]) -> tuple[Any, ...]:
    errors = run.get("errors") or []
    texts = sorted(
        f"{e.get('item', '')}: {e.get('error', '')}" for e in errors if isinstance(e, dict)
    )
    return (run.get("result"), run.get("reason"), tuple(texts))


def is_repeat(ws: Workspace, name: str, run_id: str, before: Health, after: Health) -> bool:
    """Run `run_id` (just recorded) did not succeed, in just the way the run before it
    did not, and the user's standing (needing an operator or not) is unchanged:
    nothing new to tell the operator."""
    if after.state == "ok" or (before.state == "needs_operator") != (
        after.state == "needs_operator"
    ):
        return False
    try:
        runs = read_runs(ws, name)
    except StoreError:
        return False
    if len(runs) < 2 or runs[-1].get("id") != run_id or runs[-2].get("cleared"):
        return False
    return _signature(runs[-1]) == _signature(runs[-2])


def cleared_line(name: str, by: str) -> str:
    return f"{name}: failures cleared ({by}); the next job run syncs {name} again"
