"""A user's place in the fleet view, and the one fix, from sync/health.py's judgement.

`calsync status`, the server job and the TUI judge a user alike: `Services.summary`
reads the user's run records once and keeps `sync.health.judge`'s Health with the
rest of the summary; here that Health only becomes the fix the attention view
offers. Plain data, no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sync.health import Health
from tui.fleet import (
    FIX_CHECK,
    FIX_FORCE,
    FIX_IDENTITY,
    FIX_INIT,
    FIX_SYNC,
    FIX_WAIT,
    FleetState,
    ItemError,
    is_auth_failure,
)

#: the fix for each need a run records when it stops for an operator (RunResult.needs)
NEED_FIX = {
    "identity_changed": FIX_IDENTITY,
    "mass_delete": FIX_FORCE,
    "not_initialized": FIX_INIT,
}
#: the states that wait for a time (Health.next_retry) to pass
WAITING = ("throttled", "deferred")


@dataclass(frozen=True)
class UserSummary:
    """What the table shows from a user's state file (read lazily, in a worker)."""

    initialized: bool | None = None
    last_sync: datetime | None = None
    last_result: str = ""
    last_reason: str = ""
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    error: str = ""
    #: the items that failed in the last run
    item_errors: tuple[ItemError, ...] = ()
    #: the user's health as `calsync status` says it (None: not judged yet)
    health: Health | None = None


def fleet_state(enabled: bool, summary: UserSummary | None) -> FleetState:
    """A user's state and the one action that fixes it: the state is the Health's."""
    if not enabled:
        return FleetState("disabled")  # at once, while the summary is read again
    if summary is not None and summary.error:
        # the state file itself is unreadable: restoring it is the operator's, no key fixes it
        return FleetState("needs_operator", summary.error)
    health = summary.health if summary is not None else None
    if health is None:
        return FleetState("")  # not read yet
    state, reason = health.state, health.reason
    if state == "ok":
        return FleetState("ok")
    if state == "disabled":
        return FleetState(state, reason)
    if state == "never":
        return FleetState(state, reason, FIX_SYNC if summary and summary.initialized else FIX_INIT)
    if state == "throttled":
        return FleetState(state, reason, FIX_WAIT, health.next_retry)
    if state == "needs_operator":
        return FleetState(state, reason, operator_fix(health, summary))
    # failing, or deferred by the back-off until next_retry: an operator may try now
    return FleetState(state, reason, retry_fix(health), health.next_retry)


def operator_fix(health: Health, summary: UserSummary | None) -> str:
    if health.needs in NEED_FIX:
        return NEED_FIX[health.needs]
    if health.error_class is not None:
        # a permanent failure, or too many transient ones: `check` says what is wrong
        return FIX_CHECK
    # a run record from before runs said what they need: their reason says it
    reason = health.reason
    if reason.startswith("The current remote calendar"):
        return FIX_IDENTITY
    if "--force" in reason or "would delete" in reason:
        return FIX_FORCE
    return FIX_INIT if summary is None or not summary.initialized else FIX_CHECK


def retry_fix(health: Health) -> str:
    # a failed run record from before runs kept their error's type: guessed from the text
    if health.error_type is None and is_auth_failure(health.reason):
        return FIX_CHECK
    return FIX_SYNC


def due(states: Mapping[str, FleetState], now: datetime) -> list[str]:
    """The users whose wait is over: judged again, they are failing or back to normal."""
    return [
        name
        for name, s in states.items()
        if s.state in WAITING and s.next_retry is not None and s.next_retry <= now
    ]
