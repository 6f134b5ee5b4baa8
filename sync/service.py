"""The operations the CLI and the TUI call. No printing; results are plain data.

Everything that changes a calendar runs under the user's lock, so an operator
restoring from the TUI never races a cron run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from storage import short_ids
from storage.config import Config
from storage.errors import StoreError, state_unreadable
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace
from sync.engine.pairs import SIDES, Side
from sync.engine.runner import RunResult, SyncOptions, make_window, run_user
from sync.engine.whole import restore_target
from sync.health import clear, health_of, judge
from sync.model import Event, event_from_dict, event_to_dict
from sync.providers import deadline
from sync.providers.base import (
    BrokenItem,
    Provider,
    ProviderError,
)
from sync.providers.registry import open_provider
from sync.recreate import create_once
from sync.settings import effective_settings
from sync.window_limits import refuse_unservable


class OperationError(StoreError):
    """An operator request that cannot be carried out (unknown entry, already restored…)."""


def sync_user(
    ws: Workspace, config: Config, name: str, options: SyncOptions | None = None
) -> RunResult:
    user = UserStore(ws).get(name)  # UnknownUser before anything else
    refuse_unservable([user], config)  # a window the calendar cannot serve: exit 2
    return run_user(ws, config, name, options or SyncOptions())


def init_user(
    ws: Workspace, config: Config, name: str, options: SyncOptions | None = None
) -> RunResult:
    opts = options or SyncOptions()
    opts.init = True
    return sync_user(ws, config, name, opts)


# -- reading ---------------------------------------------------------------------------------


def user_status(ws: Workspace, config: Config, user: dict[str, Any]) -> dict[str, Any]:
    """One user's row. A state file that cannot be read fails this row only: its
    `state_error` (and `last_error`) says "state unreadable: FILE: why"."""
    settings, _ = effective_settings(user, config)
    row: dict[str, Any] = {
        "name": user["name"],
        "crm": user.get("crm"),
        "remote": user.get("remote"),
        "enabled": bool(user.get("enabled", True)),
        "initialized": None,
        "identity": None,
        "pairs": 0,
        "last_sync": None,
        "last_result": None,
        "last_reason": "",
        "counts": {},
        "last_error": "",
        "skip_private": settings.skip_private,
        "state_error": None,
    }
    try:
        state = UserFiles(ws, str(user["name"])).read_state()
    except StoreError as exc:
        problem = state_unreadable(exc)
        health = health_of(ws, config, user).to_json()
        return {**row, "state_error": problem, "last_error": problem, "health": health}
    last = state.last_run or {}
    return {
        **row,
        # transient or permanent, consecutive failures, next retry, what to run
        "health": judge(user, state.runs, config).to_json(),
        "initialized": state.initialized,
        "identity": state.identity,
        "pairs": state.pairs_count,
        "last_sync": last.get("finished"),
        "last_result": last.get("result"),
        "last_reason": last.get("reason") or "",
        "counts": last.get("counts") or {},
        "last_error": "; ".join(e.get("error", "") for e in last.get("errors") or []),
    }


def status(ws: Workspace, config: Config) -> list[dict[str, Any]]:
    return [user_status(ws, config, u) for u in UserStore(ws).all()]


def log_entries(
    ws: Workspace, name: str, limit: int | None = None, unreadable: list[str] | None = None
) -> list[dict[str, Any]]:
    """The newest entries; each line that could not be read is added to `unreadable`."""
    UserStore(ws).get(name)
    log = UserFiles(ws, name).log
    entries = log.entries(limit)
    if unreadable is not None:
        unreadable.extend(log.unreadable)
    return entries


def trash_entries(ws: Workspace, name: str) -> list[dict[str, Any]]:
    UserStore(ws).get(name)
    return UserFiles(ws, name).trash.entries()


def full_log_id(ws: Workspace, name: str, given: str) -> str:
    """The log entry `given` (a full id, a short id or a prefix of one) names."""
    UserStore(ws).get(name)
    return short_ids.resolve(given, UserFiles(ws, name).log.ids(), what="log entry", name=name)


def trash_id(ws: Workspace, name: str, given: str) -> str:
    """The trash entry `given` names; restored entries count (they say so when used)."""
    UserStore(ws).get(name)
    entries = UserFiles(ws, name).trash.entries(include_restored=True)
    ids = (str(e.get("id")) for e in entries if e.get("id"))
    return short_ids.resolve(given, ids, what="trash entry", name=name)


# -- restore and revert ----------------------------------------------------------------------


@contextmanager
def _open(ws: Workspace, config: Config, name: str, side: Side) -> Iterator[Provider]:
    """The user's calendar on `side`, its requests within [job]'s deadlines."""
    user = UserStore(ws).get(name)
    with deadline.for_job(config.job), open_provider(str(user[side]), config.providers) as p:
        yield p


def _create(
    files: UserFiles, side: Side, provider: Provider, event: Event, text: str | None = None
) -> tuple[str, Event]:
    """Create it once: a retried restore finds the item its lost answer stored; the
    item's stored text, where the trash kept it, is written whole."""
    item, _ = create_once(provider, event, _sync_cache(files, side, provider), text)
    return item.id, item.event


def _sync_cache(files: UserFiles, side: Side, provider: Provider) -> dict[str, Any] | None:
    """The provider cache the user's last sync left for this calendar (read, not kept)."""
    state = files.read_state()
    owner = state.meta.get("cache_owner", {}).get(side)
    return state.cache(side) if owner == provider.url else None


def _log(
    files: UserFiles,
    *,
    side: str,
    action: str,
    reason: str,
    item_id: str,
    before: Event | None,
    after: Event | None,
) -> str:
    now = datetime.now(UTC)
    # unique even for two operations on one item within a second (an undo run twice)
    entry_id = f"{now:%Y%m%dT%H%M%SZ}-op-{item_id[-8:]}-{action}-{uuid.uuid4().hex[:6]}"
    log = files.log
    log.add(
        {
            "id": entry_id,
            "time": now.isoformat(timespec="seconds"),
            "run": "operator",
            "side": side,
            "action": action,
            "reason": reason,
            "item_id": item_id,
            "other_side_id": None,
            "before": event_to_dict(before) if before else None,
            "after": event_to_dict(after) if after else None,
        }
    )
    log.flush()
    return entry_id


def restore(ws: Workspace, config: Config, name: str, entry_id: str) -> dict[str, Any]:
    """Re-create a trashed item on the side it was deleted from (R8)."""
    UserStore(ws).get(name)  # UnknownUser before anything is touched
    files = UserFiles(ws, name)
    entry_id = trash_id(ws, name, entry_id)
    if files.trash.get(entry_id) is None:  # checked again under the lock
        raise OperationError(f"no trash entry {entry_id!r} for user {name}")
    with files.locked():
        entry = files.trash.get(entry_id)
        if entry is None:
            raise OperationError(f"no trash entry {entry_id!r} for user {name}")
        if entry.get("restored_at"):
            raise OperationError(f"trash entry {entry_id} was already restored")
        # the item whole, and a remote multi-day original rather than its CRM copy
        target, original, text = restore_target(entry)
        side: Side = "crm" if target == "crm" else "remote"
        event = original.replace(last_modified=_now())
        with _open(ws, config, name, side) as provider:
            item_id, created = _create(files, side, provider, event, text)
        files.trash.mark_restored(entry_id)
        log_id = _log(
            files,
            side=side,
            action="restore",
            reason=f"restored from trash {entry_id}",
            item_id=item_id,
            before=None,
            after=created,
        )
    return {
        "restored": entry_id,
        "side": side,
        "item_id": item_id,
        "uid": created.uid,
        "log_id": log_id,
    }


def revert(ws: Workspace, config: Config, name: str, log_id: str) -> dict[str, Any]:
    """Put the item a logged change touched back to its "before" version."""
    UserStore(ws).get(name)  # UnknownUser before anything is touched
    files = UserFiles(ws, name)
    log_id = full_log_id(ws, name, log_id)
    if files.log.get(log_id) is None:  # a bad id creates no lock file
        raise OperationError(f"no log entry {log_id!r} for user {name}")
    with files.locked():
        entry = files.log.get(log_id)
        if entry is None:
            raise OperationError(f"no log entry {log_id!r} for user {name}")
        side: Side = entry["side"]
        if side not in SIDES:
            raise OperationError(f"log entry {log_id} names no calendar side")
        before = event_from_dict(entry["before"]) if entry.get("before") else None
        item_id = str(entry.get("item_id") or "")
        with _open(ws, config, name, side) as provider:
            current = provider.fetch([item_id]).get(item_id) if item_id else None
            if isinstance(current, BrokenItem):
                raise OperationError(f"the item is unreadable now: {current.error}")
            reason = f"revert of {log_id}"
            if before is None:
                if current is None:
                    raise OperationError("nothing to revert: the created item is already gone")
                trash_id = files.trash.put(
                    side=side, item_id=current.id, item=event_to_dict(current.event), reason=reason
                )
                provider.delete(current.id, current.etag, notify=False)
                new_id, after = current.id, None
                result_before: Event | None = current.event
            elif current is None:
                trash_id = None
                new_id, created = _create(
                    files, side, provider, before.replace(last_modified=_now())
                )
                after, result_before = created, None
            else:
                trash_id = None
                target = before.replace(uid=current.event.uid, last_modified=_now())
                updated = provider.update(current.id, current.etag, target, notify=False)
                new_id, after, result_before = updated.id, updated.event, current.event
        revert_id = _log(
            files,
            side=side,
            action="revert",
            reason=reason,
            item_id=new_id,
            before=result_before,
            after=after,
        )
    return {
        "reverted": log_id,
        "side": side,
        "item_id": new_id,
        "log_id": revert_id,
        "trash_id": trash_id,
    }


def check_user(
    ws: Workspace, config: Config, name: str, cleared: list[str] | None = None
) -> list[dict[str, Any]]:
    """Access checks for both calendars (SPEC R13); never raises for a failed check.

    When every check passes, the user's failures are cleared (sync/health.py): the job
    syncs a user it was leaving for an operator again; `cleared` then gets their name.
    """
    user = UserStore(ws).get(name)
    rows: list[dict[str, Any]] = []
    for side in SIDES:
        url = user.get(side)
        if not url:
            rows.append(
                {
                    "side": side,
                    "check": "calendar registered",
                    "ok": False,
                    "detail": "no mailbox registered",
                }
            )
            continue
        window = make_window(effective_settings(user, config)[0], _now())
        try:
            # a check creates nothing: no folder, no id file, no property
            with (
                deadline.for_job(config.job),
                open_provider(str(url), config.providers, read_only=True) as provider,
            ):
                results = provider.check()
                problem = provider.window_problem(window)
                if problem is not None:
                    results.append(("sync window served", False, problem))
        except ProviderError as exc:
            results = [("calendar reachable", False, str(exc))]
        rows += [{"side": side, "check": c, "ok": ok, "detail": d} for c, ok, d in results]
    if rows and all(r["ok"] for r in rows) and clear(ws, name, "check") and cleared is not None:
        cleared.append(name)
    return rows


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
