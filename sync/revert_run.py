"""Undo a whole run: every item one sync run changed, put back as it was before the run.

`calsync revert-run NAME RUN_ID` first shows what it would do (nothing is written);
with `--yes` it reverts the run's changes newest first, each through the same
operation as `calsync revert` (a created item is deleted into the trash, an updated one
gets its before-version back) — except that an item the run deleted is restored from
the trash entry the run made, so the trash never offers it a second time. The next
sync carries the reverted items to the other calendar as ordinary changes (deletions
there go to the trash, under the mass-deletion guard).

One change that cannot be reverted (the item was changed again since, or is gone)
is reported and the others still are.
"""

from __future__ import annotations

from typing import Any

from storage.config import Config
from storage.errors import StoreError
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace
from sync import service
from sync.providers.base import ProviderError

#: log actions a run makes that change a calendar (others, e.g. warnings, change nothing)
CHANGES = ("create", "update", "delete")


def _subject(entry: dict[str, Any]) -> str:
    item = entry.get("before") or entry.get("after") or {}
    return str(item.get("subject", ""))


def _undo(entry: dict[str, Any]) -> str:
    action = entry.get("action")
    if action == "create":
        return "delete the item the run created (into the trash)"
    if action == "delete":
        return "restore the item the run deleted"
    return "put back the version from before the run"


def run_changes(ws: Workspace, name: str, run_id: str) -> list[dict[str, Any]]:
    """The run's changes, oldest first; OperationError when the run changed nothing."""
    if not UserStore(ws).exists(name):
        raise service.OperationError(f"no user named {name!r}")
    files = UserFiles(ws, name)
    changes = [
        e for e in files.log.newest_first() if e.get("run") == run_id and e.get("action") in CHANGES
    ]
    if not changes:
        raise service.OperationError(
            f"run {run_id!r} of user {name} changed nothing (see `calsync log {name}`)"
        )
    changes.reverse()
    return changes


def preview(ws: Workspace, name: str, run_id: str) -> list[dict[str, Any]]:
    return [
        {
            "log_id": e.get("id"),
            "side": e.get("side"),
            "action": e.get("action"),
            "subject": _subject(e),
            "undo": _undo(e),
        }
        for e in reversed(run_changes(ws, name, run_id))
    ]


def _trash_entry(files: UserFiles, run_id: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    for trashed in files.trash.entries(include_restored=True):
        if trashed.get("run") == run_id and trashed.get("item_id") == entry.get("item_id"):
            return trashed
    return None


def revert_run(ws: Workspace, config: Config, name: str, run_id: str) -> dict[str, Any]:
    """Revert every change of the run, newest first; failures are reported per change."""
    changes = run_changes(ws, name, run_id)
    files = UserFiles(ws, name)
    reverted: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in reversed(changes):
        log_id = str(entry.get("id"))
        try:
            trashed = _trash_entry(files, run_id, entry) if entry["action"] == "delete" else None
            if trashed is not None and trashed.get("restored_at"):
                raise service.OperationError(f"already restored from trash entry {trashed['id']}")
            if trashed is not None:
                result = service.restore(ws, config, name, str(trashed["id"]))
            else:
                result = service.revert(ws, config, name, log_id)
        except (StoreError, ProviderError) as exc:
            failed.append({"log_id": log_id, "subject": _subject(entry), "error": str(exc)})
            continue
        reverted.append({"log_id": log_id, "subject": _subject(entry), **result})
    return {"run_id": run_id, "reverted": reverted, "failed": failed}
