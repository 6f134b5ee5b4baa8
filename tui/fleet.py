"""The fleet's vocabulary: a user's state, the one action that fixes it, item errors.

Plain data, no Textual: the users table, its summary line, the attention view and
the item-errors table all speak it, and `tui.services.fleet_state` derives it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

#: every state a user can be in, worst first (the order of the state sort)
STATES = ("needs_operator", "failing", "throttled", "deferred", "never", "ok", "disabled")
STATE_LABEL = {
    "ok": "ok",
    "failing": "failing",
    "needs_operator": "needs operator",
    "throttled": "throttled",
    "deferred": "deferred",
    "disabled": "disabled",
    "never": "never synced",
}
STATE_STYLE = {
    "ok": "green",
    "failing": "bold red",
    "needs_operator": "bold yellow",
    "throttled": "cyan",
    "deferred": "cyan",
    "disabled": "dim",
    "never": "yellow",
}


@dataclass(frozen=True)
class StateFilter:
    """One entry of the summary line: a key, a label, and the states it shows."""

    key: str
    label: str
    states: frozenset[str]


#: the summary line over the users table, in order (short, to fit 80 columns); "all" shows everyone
FILTERS = (
    StateFilter("0", "all", frozenset(STATES)),
    StateFilter("1", "ok", frozenset({"ok"})),
    StateFilter("2", "failing", frozenset({"failing"})),
    StateFilter("3", "operator", frozenset({"needs_operator"})),
    # throttled or deferred: both wait for a later run
    StateFilter("4", "throttled", frozenset({"throttled", "deferred"})),
    StateFilter("5", "disabled", frozenset({"disabled"})),
    StateFilter("6", "never", frozenset({"never"})),
)
FILTER_BY_KEY = {f.key: f for f in FILTERS}
#: the states the attention view lists
ATTENTION = frozenset({"needs_operator", "failing", "throttled", "deferred"})

# the one action that fixes a user, as the attention view offers it
FIX_IDENTITY = "identity"  # answer the identity question, then initialize
FIX_FORCE = "preview_force"  # preview what the deletion guard stopped, then apply with force
FIX_INIT = "init"
FIX_CHECK = "check"  # check the calendars and credentials
FIX_SYNC = "sync"  # try again now
FIX_WAIT = "wait"  # nothing to press: the server asked for time
FIX_LABEL = {
    FIX_IDENTITY: "Answer the calendar question",
    FIX_FORCE: "Preview, then delete",
    FIX_INIT: "Initialize",
    FIX_CHECK: "Check the calendars",
    FIX_SYNC: "Sync again",
    FIX_WAIT: "Wait",
}

_AUTH = re.compile(
    r"credential|password|unauthori[sz]ed|forbidden|access (is )?denied|permission|"
    r"\b40[13]\b|consent|authori[sz]ation|certificate|refused app|token request",
    re.IGNORECASE,
)


def is_auth_failure(reason: str) -> bool:
    """Whether a failure reads like refused credentials or missing permissions."""
    return bool(_AUTH.search(reason))


@dataclass(frozen=True)
class FleetState:
    state: str
    #: why, in the engine's words (empty when all is well)
    reason: str = ""
    #: one of the FIX_* actions, or "" when nothing needs doing
    action: str = ""
    next_retry: datetime | None = None

    @property
    def label(self) -> str:
        return STATE_LABEL.get(self.state, self.state)


@dataclass(frozen=True)
class ItemError:
    """One item that failed in a user's latest run, as the run record keeps it."""

    side: str
    op: str
    item: str
    error: str


def item_errors(errors: object) -> tuple[ItemError, ...]:
    """The item-level errors of a run record's `errors` (a run-level one names no item)."""
    if not isinstance(errors, list):
        return ()
    return tuple(
        ItemError(str(e.get("side") or ""), str(e.get("op") or ""), str(e["item"]), str(e["error"]))
        for e in errors
        if isinstance(e, dict) and e.get("item") and e.get("error")
    )


def count_states(states: Iterable[str]) -> dict[str, int]:
    """How many users each summary-line filter shows."""
    tally = Counter(states)
    return {f.key: sum(tally[s] for s in f.states) for f in FILTERS}
