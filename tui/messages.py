"""What the workers report, in the past tense. Workers only post these; handlers own state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from textual.message import Message

from tui.fleet_state import UserSummary
from tui.services import CheckRow, RunResult, UserDetail, UserRow

RunKind = Literal["sync", "init", "preview", "all", "auto"]


@dataclass(frozen=True)
class RunRequest:
    """One press of a run key: who, what, and the operator's answers so far."""

    kind: RunKind
    names: tuple[str, ...]
    force: bool = False
    accept_new_identity: bool = False
    #: init instead of sync (set for a preview or apply on a user not yet initialized)
    init: bool = False

    @property
    def label(self) -> str:
        if not self.names:
            who = "every enabled user"
        else:
            who = self.names[0] if len(self.names) == 1 else f"{len(self.names)} users"
        verb = {
            "sync": "Initializing" if self.init else "Syncing",
            "init": "Initializing",
            "preview": "Planning",
            "all": "Syncing",
            "auto": "Auto-sync:",
        }[self.kind]
        return f"{verb} {who}"


class UsersLoaded(Message):
    def __init__(self, rows: list[UserRow], interval: int) -> None:
        super().__init__()
        self.rows = rows
        self.interval = interval


class SummariesLoaded(Message):
    def __init__(self, summaries: Mapping[str, UserSummary]) -> None:
        super().__init__()
        self.summaries = summaries


class StampsRead(Message):
    """The workspace's fingerprints (tui.services.Services.stamps), to spot outside changes."""

    def __init__(self, stamps: dict[str, int]) -> None:
        super().__init__()
        self.stamps = stamps


class DetailLoaded(Message):
    def __init__(self, name: str, detail: UserDetail | None, error: str = "") -> None:
        super().__init__()
        self.name = name
        self.detail = detail
        self.error = error


class RunProgressed(Message):
    """Many per second on a big run; a newer one replaces one still queued."""

    def __init__(self, done: int, total: int, label: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.label = label

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgressed)


class UserRunFinished(Message):
    def __init__(self, result: RunResult, summary: UserSummary, init: bool) -> None:
        super().__init__()
        self.result = result
        self.summary = summary
        #: the run was (or, for a preview, would be) an initialization
        self.init = init


class RunFinished(Message):
    def __init__(self, request: RunRequest, results: list[RunResult]) -> None:
        super().__init__()
        self.request = request
        self.results = results


class CheckFinished(Message):
    def __init__(self, name: str, rows: list[CheckRow]) -> None:
        super().__init__()
        self.name = name
        self.rows = rows


class UsersChanged(Message):
    """A user was added, edited, enabled/disabled or removed; `note` says what happened."""

    def __init__(self, note: str, select: str | None = None) -> None:
        super().__init__()
        self.note = note
        self.select = select


class OperationFailed(Message):
    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


@dataclass
class Entries:
    """Log or trash entries as loaded, plus the id to keep selected."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    select: str | None = None
    #: how many there are in all (more than `rows` when only the newest were loaded)
    total: int | None = None
    #: each entry's short id (full id → short), unambiguous among all of the user's
    short: dict[str, str] = field(default_factory=dict)


class EntriesLoaded(Message):
    def __init__(self, entries: Entries) -> None:
        super().__init__()
        self.entries = entries


class EntryActionDone(Message):
    """A revert or restore went through; `note` is the line to show."""

    def __init__(self, note: str, select: str | None = None) -> None:
        super().__init__()
        self.note = note
        self.select = select
