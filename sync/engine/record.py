"""What a run leaves behind: its result for the caller, and its record in runs.json.

The record is what `calsync status`, the job and the TUI judge a user's health
from (sync/health.py): a failed run keeps its error class and type, a run that
stopped for an operator says what it needs, a throttled one until when to wait.

Consecutive quiet runs (`quiet`: ok, nothing written, nothing to report) by the same
origin share one record: the newest replaces the one before and carries `repeats` (how
many runs it stands for; absent means 1) and `since` (when the first of them started).
A job every 10 minutes makes 144 runs a day, almost all of them quiet: so the 200
records kept (MAX_RUNS_KEPT) hold every meaningful event of weeks, not of a day and a
half, and a quiet user's runs.json stays a few records long (issue 17).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from storage.state import UserState
from sync.engine.actions import Plan
from sync.runlog import Redactor

Result = Literal[
    "ok", "failed", "needs_operator", "busy", "skipped", "cancelled", "planned", "deferred"
]


@dataclass
class RunResult:
    user: str
    result: Result
    reason: str = ""
    #: why an operator is needed: "not_initialized" | "identity_changed" | "mass_delete",
    #: or "attention": the job left the user alone after failures (sync/health.py)
    needs: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: int = 0
    duration: float = 0.0
    run_id: str = ""
    plan: Plan | None = None
    #: for "identity_changed": the recorded and the current calendar (calendar_change)
    calendars: dict[str, dict[str, str]] = field(default_factory=dict)

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
            data["plan"] = [a.to_json() for a in self.plan.writes]
            data["guard"] = self.plan.guard
        return data


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


#: the fields of a quiet run's record: any other (needs, retry_after, error_class,
#: cleared, an applier's extra) marks a run worth a record of its own
QUIET_FIELDS = frozenset(
    {"by", "id", "started", "finished", "kind", "result", "reason", "counts", "errors"}
    | {"warnings", "repeats", "since"}
)


def quiet(run: dict[str, Any]) -> bool:
    """A sync that went through and changed, found and reported nothing."""
    counts = run.get("counts") or {}
    return (
        run.get("result") == "ok"
        and run.get("kind") == "sync"
        and not run.get("reason")
        and not run.get("errors")
        and not run.get("warnings")
        and isinstance(counts, dict)
        and not any(n for side in counts.values() if isinstance(side, dict) for n in side.values())
        and run.keys() <= QUIET_FIELDS
    )


def coalesced(previous: dict[str, Any] | None, run: dict[str, Any]) -> dict[str, Any] | None:
    """`run` standing for itself and `previous` too, where both are quiet runs of the
    same origin (job or operator); None where `run` needs a record of its own."""
    if previous is None or not quiet(run) or not quiet(previous):
        return None
    if previous.get("by") != run.get("by"):
        return None
    repeats = int(previous.get("repeats") or 1) + 1
    return {**run, "repeats": repeats, "since": previous.get("since") or previous.get("started")}


@dataclass(frozen=True)
class RunRecorder:
    """Writes one run's record into the user's runs: who ran it, when, and how it ended."""

    run_id: str
    started: datetime
    kind: str
    #: "job" for the server job's runs, "operator" for the ones an operator asked for
    by: str
    redact: Redactor

    def record(
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
        fields: dict[str, Any] = dict(extra or {})
        if retry_after:
            fields["retry_after"] = retry_after.isoformat(timespec="seconds")
        if needs:
            fields["needs"] = needs
        fields["by"] = self.by
        run = {
            **fields,
            "id": self.run_id,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "kind": self.kind,
            "result": status,
            "reason": self.redact(reason),
            "counts": result.counts if result else {},
            "errors": self.redact.value(result.errors[:50] if result else [{"error": reason}]),
            "warnings": self.redact.value(result.warnings[:50] if result else []),
        }
        # a conflict is settled by a write, but a record does not keep the count: asked here
        settled = result is not None and not result.conflicts
        merged = coalesced(state.last_run, run) if settled else None
        if merged is not None:
            state.replace_last_run(merged)
        else:
            # a quiet run's record is kept apart (last-run.json) while later runs may
            # replace it: the history is then neither read nor rewritten (issue 17)
            state.add_run(run, replaceable=settled and quiet(run))
        if status in ("failed", "deferred") and result is None:
            state.flush_runs()


def deferred_until(state: UserState, now: datetime) -> datetime | None:
    """When the last run was deferred by a throttling server: until when, if still ahead."""
    last = state.last_run or {}
    text = last.get("retry_after")
    if last.get("result") != "deferred" or not text:
        return None
    try:
        until = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return until if until > now else None
