"""Deletes whose outcome is unknown: a lost reply, a run killed mid-request.

A delete's trash entry is written *pending* before the request goes out
(`Trash.put_pending`). When the server answers, the applier settles it (done) or
discards it (refused: nothing was deleted). When no answer came — a 500 or a reset
after the request may have reached the server, a timeout, a kill — the entry and
the pairing both stay, because the item may or may not be gone. An unknown outcome
is not a failure to delete: it is a question the next listing answers.

`settle_pending` asks it at the start of the next run's apply phase:

- the run deletes the item again (it is still there): the applier reuses the
  pending entry, so one deleted item keeps one trash entry;
- the item is gone: the delete happened; the entry is settled and, unless the
  interrupted run logged it already, the deletion is logged now;
- the item is still there and nothing deletes it any more (edited meanwhile): no
  delete happened, the entry is discarded;
- the side cannot be read now: the entry stays pending for a later run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from storage.changelog import ChangeLog
from storage.trash import Trash
from sync.engine.actions import Action
from sync.engine.pairs import SIDES, Side
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConfigError,
    EtagMismatch,
    ItemRefused,
    NotifyRefused,
    Provider,
    ProviderError,
)

#: errors with which a server (or calsync itself) says "I did not do it": the only
#: ones after which a pending entry is dropped. Any other error leaves the outcome open.
NOT_DONE: tuple[type[ProviderError], ...] = (
    EtagMismatch,
    AuthFailed,
    ItemRefused,
    NotifyRefused,
    ConfigError,
    CalendarNotFound,
)

UNKNOWN_NOTE = (
    "the server's answer was lost, so the delete may or may not have happened; "
    "the item stays in the trash and the next sync checks it"
)

#: how far back the change log is searched for a deletion an interrupted run logged
LOG_LOOKBACK = timedelta(days=2)


def not_done(exc: BaseException) -> bool:
    """True when `exc` proves the write was not carried out."""
    return isinstance(exc, NOT_DONE)


def settle_pending(
    trash: Trash,
    log: ChangeLog,
    providers: Mapping[Side, Provider],
    actions: Iterable[Action],
    *,
    run_id: str,
    now: datetime,
) -> list[str]:
    """Resolve the pending trash entries against the calendars; returns operator notes."""
    entries = trash.pending()
    if not entries:
        return []
    redo = {(a.side, a.item_id) for a in actions if a.op == "delete"}
    settled: list[str] = []
    dropped: list[str] = []
    gone: list[dict[str, Any]] = []
    for side in SIDES:
        todo = []
        for entry in entries:
            if entry.get("side") != side:
                continue
            if entry.get("restored_at"):
                settled.append(str(entry["id"]))  # an operator put it back already
            elif (side, entry.get("item_id")) not in redo:
                todo.append(entry)
        if not todo:
            continue
        try:
            found = providers[side].fetch([str(e["item_id"]) for e in todo])
        except ProviderError:
            continue  # cannot tell now: they stay pending
        for entry in todo:
            if str(entry["item_id"]) in found:
                dropped.append(str(entry["id"]))
            else:
                gone.append(entry)
    logged = _logged(log, gone)
    for entry in gone:
        if entry["id"] not in logged:
            log.add(_log_entry(entry, run_id, now))
        settled.append(str(entry["id"]))
    log.flush()  # the log first: a kill now leaves the entry pending, never unlogged
    trash.settle(settled)
    trash.discard(dropped)
    return [
        f"a delete whose answer was lost earlier did happen: {_subject(e)} is in the trash"
        for e in gone
    ]


def _subject(entry: Mapping[str, Any]) -> str:
    item = entry.get("item") or {}
    return repr(str(item.get("subject", "?")))


def _logged(log: ChangeLog, entries: list[dict[str, Any]]) -> set[str]:
    """Ids of these entries whose deletion the change log holds already."""
    if not entries:
        return set()
    wanted = {str(e["id"]) for e in entries}
    oldest = min(str(e.get("deleted_at", "")) for e in entries)
    try:
        stop = (datetime.fromisoformat(oldest) - LOG_LOOKBACK).isoformat(timespec="seconds")
    except ValueError:
        stop = ""
    found: set[str] = set()
    for logged in log.newest_first():
        trash_id = logged.get("trash_id")
        if trash_id in wanted:
            found.add(str(trash_id))
            if found == wanted:
                break
        if str(logged.get("time", "")) < stop:
            break
    return found


def _log_entry(entry: Mapping[str, Any], run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "id": f"{run_id}-trash-{entry['id']}",
        "time": now.isoformat(timespec="seconds"),
        "run": run_id,
        "side": entry.get("side"),
        "action": "delete",
        "reason": f"{entry.get('reason', '')} (confirmed after the server's answer was lost)",
        "item_id": entry.get("item_id"),
        "other_side_id": None,
        "before": entry.get("item"),
        "after": None,
        "trash_id": entry["id"],
    }
