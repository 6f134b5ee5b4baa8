"""When each side's changes were first observed, for conflicts without LAST-MODIFIED (R3).

A changed item whose side gives no trustworthy modification time is dated by the
calendar's own clock where it has one (`Provider.change_time`: a folder's file time),
else by the first listing that saw its new etag. That first sighting is kept in the
state ("seen": {side: {item id: [etag, time]}}) for paired items until the change is
synced, so a run that could not apply it (a guard, a failure) does not make the
change look newer on the next run than it is. Nothing is kept when nothing changed,
so a no-change run still writes no state.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

from sync.engine.conflict import FIRST_SEEN, When
from sync.engine.pairs import SIDES, Pair, Side
from sync.engine.sideview import SideView
from sync.providers.base import Provider

SEEN_KEY = "seen"
FILE_WRITTEN = "file written"


def observe(
    views: Mapping[Side, SideView],
    pairs: Sequence[Pair],
    providers: Mapping[Side, Provider],
    meta: MutableMapping[str, Any],
    now: datetime,
) -> None:
    """Fill each view's `observed` and update the kept first sightings in `meta`."""
    before = meta.get(SEEN_KEY)
    kept_before: Mapping[str, Any] = before if isinstance(before, dict) else {}
    kept_now: dict[str, dict[str, list[str]]] = {}
    for side in SIDES:
        view = views[side]
        synced = {p.side(side).id: p.side(side).etag for p in pairs}
        old = kept_before.get(side)
        old_seen: Mapping[str, Any] = old if isinstance(old, dict) else {}
        keep: dict[str, list[str]] = {}
        for item_id, item in view.current.items():
            if synced.get(item_id) == item.etag:
                continue  # unchanged since the last sync
            if view.trusted_mtime and item.event.last_modified is not None:
                continue  # dated by its LAST-MODIFIED
            written = providers[side].change_time(item)
            if written is not None:
                view.observed[item_id] = When(written, FILE_WRITTEN)
                continue
            first = _first_seen(old_seen.get(item_id), item.etag) or now
            view.observed[item_id] = When(first, FIRST_SEEN)
            if item_id in synced:
                keep[item_id] = [item.etag, first.isoformat()]
        if keep:
            kept_now[side] = keep
    if kept_now:
        meta[SEEN_KEY] = kept_now
    else:
        meta.pop(SEEN_KEY, None)


def _first_seen(entry: Any, etag: str) -> datetime | None:
    if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == etag):
        return None
    try:
        return datetime.fromisoformat(str(entry[1]))
    except ValueError:
        return None


def settle(
    meta: MutableMapping[str, Any],
    before: Sequence[Pair],
    after: Mapping[str, Mapping[str, Any]],
) -> None:
    """After applying: keep only the sightings of changes still waiting to be synced,
    i.e. whose pair this run did not rewrite (a failed write, an etag race)."""
    seen = meta.get(SEEN_KEY)
    if not isinstance(seen, dict):
        return
    old = {(side, p.side(side).id): p.side(side).etag for p in before for side in SIDES}
    now = {
        (side, str(p[side]["id"])): str(p[side]["etag"]) for p in after.values() for side in SIDES
    }
    for side, entries in list(seen.items()):
        for item_id in list(entries if isinstance(entries, dict) else ()):
            key = (side, item_id)
            if key not in now or now[key] != old.get(key):
                del entries[item_id]  # synced, overwritten or unpaired in this run
        if not entries:
            del seen[side]
    if not seen:
        del meta[SEEN_KEY]
