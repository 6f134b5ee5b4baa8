"""tui.services.fleet_state: every state and the one fix, from what a workspace stores.

Pure data, no app: the one function sync/health.py's health_of is to replace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.fleet import (
    FIX_CHECK,
    FIX_FORCE,
    FIX_IDENTITY,
    FIX_INIT,
    FIX_SYNC,
    FIX_WAIT,
    STATES,
    count_states,
    is_auth_failure,
    item_errors,
)
from tui.services import IDENTITY_QUESTION, UserSummary, fleet_state

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GUARD = "this sync would delete 9 of 12 item(s) in the CRM calendar; pass --force to continue"


def _s(result: str = "", reason: str = "", **kw: object) -> UserSummary:
    kw.setdefault("initialized", True)
    return UserSummary(last_result=result, last_reason=reason, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("enabled", "summary", "state", "action"),
    [
        (False, _s("failed", "boom"), "disabled", ""),
        (True, None, "", ""),  # not read yet
        (True, _s(initialized=False), "never", FIX_INIT),
        (True, _s("ok"), "ok", ""),
        (True, _s("skipped"), "ok", ""),
        (True, _s("needs_operator", IDENTITY_QUESTION), "needs_operator", FIX_IDENTITY),
        (True, _s("needs_operator", GUARD), "needs_operator", FIX_FORCE),
        (True, _s("failed", "x: credentials refused (HTTP 401)"), "failing", FIX_CHECK),
        (True, _s("failed", "Microsoft Entra refused app abc: bad secret"), "failing", FIX_CHECK),
        (True, _s("failed", "cannot reach x: connection refused"), "failing", FIX_SYNC),
        (
            True,
            _s("deferred", "busy", retry_after=NOW + timedelta(minutes=5)),
            "throttled",
            FIX_WAIT,
        ),
        (
            True,
            _s("deferred", "busy", retry_after=NOW - timedelta(minutes=5)),
            "deferred",
            FIX_SYNC,
        ),
        (True, _s("cancelled"), "deferred", FIX_SYNC),
        (True, _s(error="state.json: not JSON"), "needs_operator", ""),
    ],
)
def test_state_and_fix(enabled: bool, summary: UserSummary, state: str, action: str) -> None:
    got = fleet_state(enabled, summary, NOW)
    assert (got.state, got.action) == (state, action)
    assert got.state in (*STATES, "")


def test_throttled_says_until_when() -> None:
    until = NOW + timedelta(minutes=5)
    assert fleet_state(True, _s("deferred", retry_after=until), NOW).next_retry == until


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
