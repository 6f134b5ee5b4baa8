"""tui.fleet_state: every state and the one fix, from sync/health.py's Health.

Pure data, no app: the state is the one `judge` gives `calsync status`; only the fix
is the TUI's (the keys it offers instead of a command line).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.config import Config
from sync.engine.runner import IDENTITY_CHANGED, identity_changed_reason
from sync.health import judge
from tui.fleet import (
    FIX_CHECK,
    FIX_FORCE,
    FIX_IDENTITY,
    FIX_INIT,
    FIX_SYNC,
    FIX_WAIT,
    STATES,
    FleetState,
    count_states,
    is_auth_failure,
    item_errors,
)
from tui.fleet_state import UserSummary, due, fleet_state

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
USER = {"name": "anna", "crm": "folder:/c", "remote": "folder:/r"}
GUARD = "this sync would delete 9 of 12 item(s) in the CRM calendar; pass --force to continue"
AUTH = "x: credentials refused (HTTP 401)"


def run(result: str, reason: str = "", minutes_ago: int = 60, **extra: Any) -> dict[str, Any]:
    when = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {"started": when, "finished": when, "result": result, "reason": reason, **extra}


def _s(*runs: dict[str, Any], initialized: bool = True, **user: Any) -> UserSummary:
    health = judge({**USER, **user}, list(runs), Config(), NOW)
    return UserSummary(initialized=initialized, health=health)


def permanent(kind: str) -> dict[str, str]:
    return {"error_class": "permanent", "error_type": kind}


TRANSIENT = {"error_class": "transient", "error_type": "ConnectionFailed"}
SOON = (NOW + timedelta(minutes=5)).isoformat()


@pytest.mark.parametrize(
    ("enabled", "summary", "state", "action"),
    [
        (False, _s(run("failed", "boom")), "disabled", ""),
        (True, None, "", ""),  # not read yet
        (True, UserSummary(), "", ""),  # not judged yet
        (True, _s(enabled=False), "disabled", ""),  # users.json says so, not yet the row
        (True, _s(remote=""), "disabled", ""),  # no mailbox: the job leaves it alone
        (True, _s(initialized=False), "never", FIX_INIT),
        (True, _s(run("ok")), "ok", ""),
        (True, _s(run("ok"), run("skipped")), "ok", ""),
        (
            True,
            _s(run("needs_operator", identity_changed_reason("anna"), needs="identity_changed")),
            "needs_operator",
            FIX_IDENTITY,
        ),
        (True, _s(run("needs_operator", GUARD, needs="mass_delete")), "needs_operator", FIX_FORCE),
        (
            True,
            _s(run("needs_operator", "not initialized", needs="not_initialized")),
            "needs_operator",
            FIX_INIT,
        ),
        # permanent failures need an operator at once; `check` says what is wrong
        (True, _s(run("failed", AUTH, **permanent("AuthFailed"))), "needs_operator", FIX_CHECK),
        (
            True,
            _s(run("failed", "gone", **permanent("CalendarNotFound"))),
            "needs_operator",
            FIX_CHECK,
        ),
        # transient: backing off (deferred) right after, failing once the wait is over
        (True, _s(run("failed", "no route", 1, **TRANSIENT)), "deferred", FIX_SYNC),
        (True, _s(run("failed", "no route", 60, **TRANSIENT)), "failing", FIX_SYNC),
        (
            True,
            _s(*[run("failed", "no route", 60 + n, **TRANSIENT) for n in range(10, 0, -1)]),
            "needs_operator",
            FIX_CHECK,
        ),
        (True, _s(run("deferred", "busy", 1, retry_after=SOON)), "throttled", FIX_WAIT),
        (True, _s(run("ok"), run("deferred", "busy", 10, retry_after=NOW.isoformat())), "ok", ""),
        (True, _s(run("ok"), run("cancelled")), "ok", ""),
        (True, UserSummary(error="state.json: not JSON"), "needs_operator", ""),
        # records from before runs kept their need or their error's type: read from the text
        (True, _s(run("needs_operator", IDENTITY_CHANGED)), "needs_operator", FIX_IDENTITY),
        (True, _s(run("needs_operator", GUARD)), "needs_operator", FIX_FORCE),
        (True, _s(run("failed", AUTH)), "failing", FIX_CHECK),
        (
            True,
            _s(run("failed", "Microsoft Entra refused app abc: bad secret")),
            "failing",
            FIX_CHECK,
        ),
        (True, _s(run("failed", "cannot reach x: connection refused")), "failing", FIX_SYNC),
    ],
)
def test_state_and_fix(enabled: bool, summary: UserSummary, state: str, action: str) -> None:
    got = fleet_state(enabled, summary)
    assert (got.state, got.action) == (state, action)
    assert got.state in (*STATES, "")
    if summary is not None and summary.health is not None and enabled:
        assert got.state == summary.health.state  # the state is always `calsync status`'s


def test_waits_say_until_when_and_end() -> None:
    throttled = fleet_state(True, _s(run("deferred", "busy", 1, retry_after=SOON)))
    assert throttled.next_retry == datetime.fromisoformat(SOON)
    backing_off = fleet_state(True, _s(run("failed", "no route", 1, **TRANSIENT)))
    assert backing_off.next_retry == NOW - timedelta(minutes=1) + timedelta(minutes=5)
    states = {"a": throttled, "b": backing_off, "c": FleetState("ok")}
    assert due(states, NOW) == []
    assert due(states, NOW + timedelta(minutes=5)) == ["a", "b"]  # judged again then


def test_auth_words_and_not() -> None:
    assert is_auth_failure("Google refused the credentials for cal@example.com: invalid_grant")
    assert is_auth_failure("HTTP 403 Forbidden")
    assert not is_auth_failure("cannot reach cal.example.com: connection refused")
    assert not is_auth_failure("HTTP 503 from server (retry 4033)")


def test_item_errors_only_name_items() -> None:
    errors = [
        {"error": "run-level: no item"},
        {"side": "crm", "op": "update", "item": "Budget [b]", "error": "HTTP 412"},
        "not a dict",
        {"side": "remote", "item": "no error text"},
    ]
    assert [(e.side, e.item, e.error) for e in item_errors(errors)] == [
        ("crm", "Budget [b]", "HTTP 412")
    ]
    assert item_errors(None) == ()


def test_counts_per_filter() -> None:
    counts = count_states(["ok", "ok", "failing", "throttled", "deferred", "never", "disabled"])
    assert counts == {"0": 7, "1": 2, "2": 1, "3": 0, "4": 2, "5": 1, "6": 1}
