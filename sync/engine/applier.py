"""Performs a plan one action at a time.

A pairing is updated only after the provider call succeeded; an etag conflict
leaves the pair alone so the next run re-plans it; one failing item is recorded
and the rest go on. A deleted item reaches the trash *before* it is deleted, as a
pending entry until the server's answer says what happened (`sync.engine.pending`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from storage.changelog import ChangeLog
from storage.state import UserState
from storage.trash import Trash
from sync.engine.actions import Action
from sync.engine.pairs import Side, make_pair, other
from sync.engine.pending import UNKNOWN_NOTE, not_done
from sync.engine.whole import whole_entry
from sync.model import Event, event_to_dict
from sync.providers.base import (
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Provider,
    ProviderError,
)

#: progress is saved every FLUSH_EVERY actions, but not more often than every
#: FLUSH_SECONDS: each save rewrites the whole state file, so saving by count alone
#: made a large initial sync quadratic. A crash loses at most that much progress,
#: which the next run re-pairs by UID.
FLUSH_EVERY = 200
FLUSH_SECONDS = 3.0
Progress = Callable[[int, int, str], None]


@dataclass
class Outcome:
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            s: {"create": 0, "update": 0, "delete": 0} for s in ("crm", "remote")
        }
    )
    errors: list[dict[str, str]] = field(default_factory=list)
    conflicts: int = 0
    cancelled: bool = False


def fresh_uid() -> str:
    return f"{uuid.uuid4()}@calsync"


class Applier:
    def __init__(
        self,
        providers: dict[Side, Provider],
        state: UserState,
        log: ChangeLog,
        trash: Trash,
        *,
        run_id: str,
        now: datetime,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.providers = providers
        self.state = state
        self.log = log
        self.trash = trash
        self.run_id = run_id
        self.now = now
        self.progress = progress
        self.cancel = cancel
        self.outcome = Outcome()
        self._seq = 0
        #: trash entries of deletes done since the last flush, settled by the flush
        self._settled: list[str] = []
        self._flushed_at = time.monotonic()

    def apply(self, actions: list[Action]) -> Outcome:
        total = len(actions)
        # progress counts the writes: a pairing recorded without one (matched at init,
        # an etag refreshed after a folder was copied) is no item to wait for
        writes = sum(action.op != "pair" for action in actions)
        written = 0
        for done, action in enumerate(actions, 1):
            if self.cancel is not None and self.cancel.is_set():
                self.outcome.cancelled = True
                break
            try:
                self._apply_one(action)
            except EtagMismatch:
                # changed under us: the next run sees the new version and re-plans it
                self.outcome.conflicts += 1
            except ProviderError as exc:
                self.outcome.errors.append(
                    {
                        "side": action.side,
                        "op": action.op,
                        "item": _label(action),
                        "error": str(exc),
                    }
                )
            if done % FLUSH_EVERY == 0 and time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
                self.flush()
            if self.progress is not None and action.op != "pair":
                written += 1
                self.progress(written, writes, _label(action))
        if total:
            # with nothing applied nothing changed here; the runner writes the state
            # once at the end of every run anyway (a second rewrite of a 5,000-pair file
            # doubled a no-change run's storage cost)
            self.flush()
        return self.outcome

    def flush(self) -> None:
        # providers first: the state must never name a write a crash could take back
        for provider in self.providers.values():
            provider.flush()
        self.state.flush()
        self.log.flush()
        # last: a kill before this leaves the entries pending, and the next run finds
        # their deletions done and logged (sync.engine.pending)
        self.trash.settle(self._settled)
        self._settled = []
        self._flushed_at = time.monotonic()

    # -- one action ----------------------------------------------------------------------

    def _apply_one(self, action: Action) -> None:
        if action.op == "pair":
            assert action.crm is not None and action.remote is not None
            self._store(make_pair(action.crm, action.remote, action.origin), action.drop_key)
        elif action.op == "unpair":
            if action.drop_key:
                self.state.pairs.pop(action.drop_key, None)
        elif action.op == "create":
            self._create(action)
        elif action.op == "update":
            self._update(action)
        elif action.op == "delete":
            self._delete(action)

    def _create(self, action: Action) -> None:
        assert action.after is not None and action.source is not None
        provider = self.providers[action.side]
        event = action.after
        try:
            item = provider.create(event, notify=False)
        except ItemRefused as exc:
            if not exc.uid_conflict:
                raise
            if provider.capabilities.reuse_uid:
                # the UID is live there (an item outside the window, say): a copy under
                # another UID would be a duplicate, so report it and leave it
                raise ItemRefused(
                    event.uid,
                    f"an item with UID {event.uid} already exists in the {action.side} "
                    "calendar (outside the sync window?); not duplicated",
                ) from exc
            # this server keeps deleted items' UIDs (Google): the copy needs a fresh one
            event = event.replace(uid=fresh_uid())
            item = provider.create(event, notify=False)
        self._store_with_source(action, item)
        self._log(action, item.id, None, item.event)
        self.outcome.counts[action.side]["create"] += 1

    def _update(self, action: Action) -> None:
        assert action.after is not None and action.item_id and action.etag is not None
        item = self.providers[action.side].update(
            action.item_id, action.etag, action.after, notify=False
        )
        self._store_with_source(action, item)
        self._log(action, item.id, action.before, item.event)
        self.outcome.counts[action.side]["update"] += 1
        if action.then is not None:
            # the same pair again, now with the item just written as the other side
            self._apply_one(replace(action.then, source=item, origin=action.origin))

    def _delete(self, action: Action) -> None:
        assert action.before is not None and action.item_id and action.etag is not None
        # pending until the server's answer says what happened (sync.engine.pending)
        entry, made = self.trash.put_pending(
            side=action.side,
            item_id=action.item_id,
            item=event_to_dict(action.before),
            reason=action.reason,
            run=self.run_id,
            extra=whole_entry(self.providers[action.side], action),
        )
        try:
            self.providers[action.side].delete(action.item_id, action.etag, notify=False)
        except ItemNotFound:
            pass  # already gone: the outcome the action wanted
        except ProviderError as exc:
            if not_done(exc):
                if made:
                    self.trash.discard(entry)
                raise
            # no answer: the item may be gone. The entry and the pairing stay; the
            # next run's listing decides (never a deleted item without its entry)
            raise ProviderError(f"{exc}; {UNKNOWN_NOTE}") from exc
        # a kill or a crash mid-request (BaseException) leaves the entry pending too
        if action.drop_key:
            self.state.pairs.pop(action.drop_key, None)
        self._log(action, action.item_id, action.before, None, trash_id=entry)
        self._settled.append(entry)
        self.outcome.counts[action.side]["delete"] += 1

    # -- bookkeeping -----------------------------------------------------------------------

    def _store_with_source(self, action: Action, written: Item) -> None:
        assert action.source is not None
        crm, remote = (written, action.source) if action.side == "crm" else (action.source, written)
        self._store(make_pair(crm, remote, action.origin), action.drop_key)

    def _store(self, pair: Any, drop_key: str | None) -> None:
        if drop_key and drop_key != pair.key:
            self.state.pairs.pop(drop_key, None)
        self.state.pairs[pair.key] = pair.to_json()

    def _log(
        self,
        action: Action,
        item_id: str,
        before: Event | None,
        after: Event | None,
        *,
        trash_id: str | None = None,
    ) -> None:
        self._seq += 1
        extra = {"trash_id": trash_id} if trash_id else {}
        self.log.add(
            {
                "id": f"{self.run_id}-{self._seq}",
                "time": self.now.isoformat(timespec="seconds"),
                "run": self.run_id,
                "side": action.side,
                "action": action.op,
                "reason": action.reason,
                "item_id": item_id,
                "other_side_id": action.source.id if action.source else None,
                "before": event_to_dict(before) if before else None,
                "after": event_to_dict(after) if after else None,
                **extra,
            }
        )


def _label(action: Action) -> str:
    event = action.after or action.before or (action.crm.event if action.crm else None)
    subject = event.subject if event else "?"
    return f"{action.op} {action.side}: {subject}"


__all__ = ["Applier", "Outcome", "fresh_uid", "other"]
