"""Pairs whose remote item the calendar now names otherwise (docs/google.md).

A user moved from Google's CalDAV endpoint to the Calendar API keeps the same
calendar (the same identity) but not the same item ids: CalDAV names an item by
its href, the API by its event id. Without help each paired item would look
deleted (its old id is gone) and its twin new. The remote provider says which old
ids it knows under a new one (`Provider.moved_ids`: the same UID and recurrence
id); those pairs take the new id and an empty etag, so the next step compares
contents and finds them unchanged, or changed, as they really are.
"""

from __future__ import annotations

import dataclasses

from storage.state import UserState
from sync.engine.pairs import Pair
from sync.providers.base import Listing, Provider


def adopt_moved(state: UserState, remote: Provider, listing: Listing) -> int:
    """Re-point pairs at the ids `remote` now gives their items; returns how many."""
    if type(remote).moved_ids is Provider.moved_ids:
        return 0  # the provider never renames: no need to look at the pairs
    stale: dict[str, Pair] = {}
    for data in state.pairs.values():
        item_id = str(data["remote"]["id"])
        if item_id not in listing.etags and item_id not in listing.broken:
            stale[item_id] = Pair.from_json(data)
    if not stale:
        return 0
    moved = remote.moved_ids({item_id: pair.remote.event for item_id, pair in stale.items()})
    taken = {str(d["remote"]["id"]) for d in state.pairs.values()}
    count = 0
    for old_id, new_id in moved.items():
        pair = stale.get(old_id)
        if pair is None or new_id in taken:
            continue  # never two pairs on one item
        taken.add(new_id)
        remote_side = pair.remote.renamed(new_id, "")
        state.pairs[pair.key] = dataclasses.replace(pair, remote=remote_side).to_json()
        count += 1
    return count
