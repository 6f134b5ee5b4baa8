"""The trash holds an item whole, so a restore puts back exactly what was deleted.

A trash entry always has the mapped fields (`item`). Beside them:

* ``raw``: the item's stored iCalendar text, where the provider keeps one
  (CalDAV): attendees, X-APPLE-* and every other property calsync does not map;
  a restore writes the item on top of it.
* ``source``: when a copy is deleted because its partner was deleted on the
  other side, the partner as last synced. A remote multi-day item's CRM copy is
  a one-day activity titled "… (until DATE)"; restoring that copy would give the
  remote a one-day item with that title, so the remote original is restored
  instead and the next sync makes its CRM copy again.
"""

from __future__ import annotations

import inspect
from typing import Any

from sync.engine.actions import Action
from sync.model import Event, event_from_dict, event_to_dict
from sync.providers.base import Item, Provider

__all__ = ["create_whole", "restore_target", "whole_entry"]


def whole_entry(provider: Provider, action: Action) -> dict[str, Any]:
    """What a trash entry keeps beside the mapped fields of a deleted item."""
    extra: dict[str, Any] = {}
    read = getattr(provider, "item_text", None)
    if read is not None and action.item_id and action.etag is not None:
        try:
            text = read(action.item_id, action.etag)
        except Exception:  # the trash must never stop a delete it guards; fields suffice
            text = None
        if isinstance(text, str):
            extra["raw"] = text
    if action.source is not None:
        extra["source"] = {
            "side": "remote" if action.side == "crm" else "crm",
            "item": event_to_dict(action.source.event),
        }
    return extra


def restore_target(entry: dict[str, Any]) -> tuple[str, Event, str | None]:
    """(side, event, text) a restore re-creates for this trash entry."""
    source = entry.get("source")
    if entry["side"] == "crm" and isinstance(source, dict) and source.get("side") == "remote":
        original = event_from_dict(source["item"])
        if original.is_multiday and original.recurrence_id is None:
            return "remote", original, None
    raw = entry.get("raw")
    return str(entry["side"]), event_from_dict(entry["item"]), raw if isinstance(raw, str) else None


def create_whole(provider: Provider, event: Event, text: str | None) -> Item:
    """Create `event`, on top of the deleted item's `text` where the provider can."""
    if text is not None and "base" in inspect.signature(provider.create).parameters:
        created: Item = provider.create(event, notify=False, base=text)  # type: ignore[call-arg]
        return created
    return provider.create(event, notify=False)
