"""Put an item back exactly once: restores and reverts that may be retried.

A restore whose answer was lost (a 500 or a reset after the server stored the
item) leaves its trash entry unrestored, and the operator runs it again. The
second create then meets the first one's UID. Re-creating under a fresh UID at
that point would store the item twice, so the calendar is asked first: an item
already there with that UID, or else with the same start, end and title, *is*
the restored item. Only when neither is found does a UID the server keeps for a
deleted item (Google) lead to a copy under a fresh UID.

The look-up lists only the moment the item starts (a window of one second), from
the provider cache of the user's last sync when it has one, so it costs little
even on a large calendar.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from sync.engine.applier import fresh_uid
from sync.engine.transform import match_key
from sync.engine.whole import create_whole
from sync.model import Event
from sync.providers.base import Item, ItemRefused, Provider, Window


def already_there(
    provider: Provider, event: Event, cache: MutableMapping[str, Any] | None = None
) -> Item | None:
    """The item in the calendar that is `event`: same UID, else same start, end and title."""
    start = event.start_utc
    window = Window(start, start + timedelta(seconds=1))
    listing = provider.list_window(window, copy.deepcopy(dict(cache or {})))
    if not listing.etags:
        return None
    found = [i for i in provider.fetch(list(listing.etags)).values() if isinstance(i, Item)]
    for item in found:
        if item.event.uid == event.uid and item.event.recurrence_id == event.recurrence_id:
            return item
    shape = match_key(event)
    return next((i for i in found if match_key(i.event) == shape), None)


def create_once(
    provider: Provider,
    event: Event,
    cache: MutableMapping[str, Any] | None = None,
    text: str | None = None,
) -> tuple[Item, bool]:
    """Create `event` unless it is there already: (the item, created now).

    `text` is the deleted item's stored text: written whole where the provider can."""
    try:
        return create_whole(provider, event, text), True
    except ItemRefused as exc:
        if not exc.uid_conflict:
            raise
    existing = already_there(provider, event, cache)
    if existing is not None:
        return existing, False
    return create_whole(provider, event.replace(uid=fresh_uid()), text), True
