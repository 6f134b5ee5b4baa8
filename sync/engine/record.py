"""What a run leaves behind: its result for the caller, and its record in runs.json.

The record is what `calsync status`, the job and the TUI judge a user's health
from (sync/health.py): a failed run keeps its error class and type, a run that
stopped for an operator says what it needs, a throttled one until when to wait.
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
        state.add_run(
            {
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
        )
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
