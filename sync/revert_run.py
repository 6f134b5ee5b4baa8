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

from storage import short_ids
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


def _log_entries(ws: Workspace, name: str) -> list[dict[str, Any]]:
    if not UserStore(ws).exists(name):
        raise service.OperationError(f"no user named {name!r}")
    return list(UserFiles(ws, name).log.newest_first())


def _runs(entries: list[dict[str, Any]]) -> list[str]:
    """The sync runs of a log, newest first ("operator" marks a revert or restore, no run)."""
    runs = (str(e.get("run") or "") for e in entries)
    return [run for run in dict.fromkeys(runs) if run and run != "operator"]


def resolve_run(ws: Workspace, name: str, given: str) -> str:
    """The run `given` names: its id, its short id (or 4+ characters of it), or the id,
    full or short, of any log entry the run made, as `calsync log` shows them."""
    entries = _log_entries(ws, name)
    runs = _runs(entries)
    if given.strip() in runs:
        return given.strip()
    try:
        return short_ids.resolve(given, runs, what="run", name=name)
    except short_ids.AmbiguousId:
        raise
    except short_ids.UnknownId:
        pass
    by_id = {str(e.get("id")): e for e in entries}
    log_id = short_ids.resolve(given, by_id, what="run or log entry", name=name)
    run = str(by_id[log_id].get("run") or "")
    if not run or run == "operator":
        raise service.OperationError(
            f"log entry {given!r} of user {name} was not made by a sync run (an operator's "
            f"revert or restore): undo it with `calsync revert {name} {given}`"
        )
    return run


def short_run_id(ws: Workspace, name: str, run_id: str) -> str:
    """The run's 8-character id, unambiguous among the user's runs."""
    return short_ids.short_ids(_runs(_log_entries(ws, name))).get(run_id, run_id)


def run_changes(ws: Workspace, name: str, run_id: str) -> list[dict[str, Any]]:
    """The run's changes, oldest first; OperationError when the run changed nothing."""
    changes = [
        e for e in _log_entries(ws, name) if e.get("run") == run_id and e.get("action") in CHANGES
    ]
    if not changes:
        raise service.OperationError(
            f"run {run_id!r} of user {name} changed nothing (see `calsync log {name}`)"
        )
    changes.reverse()
    return changes


def preview(ws: Workspace, name: str, run_id: str) -> list[dict[str, Any]]:
    """What reverting would do, newest change first, each with its log entry's short id."""
    short = short_ids.short_ids(str(e.get("id")) for e in _log_entries(ws, name))
    return [
        {
            "log_id": e.get("id"),
            "short_id": short.get(str(e.get("id"))),
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
