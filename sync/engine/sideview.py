"""What one run learned about each side, and what that says about a stored pair's side.

Per pair, each side is SAME, CHANGED, GONE (a direct lookup confirmed the deletion),
BROKEN (unparseable) or UNSEEN (not listed, not looked up). `sync.engine.views`
builds the views; the planner reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from sync.engine.conflict import When
from sync.engine.pairs import Synced
from sync.providers.base import Item


class Status(Enum):
    SAME = "same"
    CHANGED = "changed"
    GONE = "gone"
    BROKEN = "broken"
    UNSEEN = "unseen"


@dataclass
class SideView:
    """What the runner learned about one side in this run."""

    #: listed in the window, or looked up and still there (events complete)
    current: dict[str, Item] = field(default_factory=dict)
    #: paired items listed with the etag they were last synced with: the stored
    #: side stands for them, its event decoded only if the plan needs it
    same: dict[str, Synced] = field(default_factory=dict)
    #: paired ids a direct lookup confirmed deleted, or whose id a new item now has
    gone: set[str] = field(default_factory=set)
    #: paired ids listed for a new item with another UID (`Capabilities.reuses_ids`):
    #: the pair's item is gone (in `gone`), the item in `current` is unpaired
    reused: set[str] = field(default_factory=set)
    broken: dict[str, str] = field(default_factory=dict)
    #: the windowed listing itself was empty
    listed_nothing: bool = False
    #: the side's modification times can be trusted (R3)
    trusted_mtime: bool = True
    #: changed items without a trusted modification time: when the change was
    #: observed (`sync.engine.observed`)
    observed: dict[str, When] = field(default_factory=dict)


def status_of(synced: Synced, view: SideView) -> tuple[Status, Item | None]:
    if synced.id in view.broken:
        return Status.BROKEN, None
    if synced.id in view.gone:
        return Status.GONE, None
    listed = view.same.get(synced.id)
    if listed is not None and listed.etag == synced.etag:
        return Status.SAME, None  # the caller takes the stored side if it needs one
    # (another pair's stored side under the same id, in a state two pairs share an
    # item: compared as the listed item it stands for, as before the fast path)
    item = listed.as_item() if listed is not None else view.current.get(synced.id)
    if item is None:
        return Status.UNSEEN, None
    # changed only when etag AND content hash changed (a touched file is no change)
    if item.etag == synced.etag or item.event.content_hash() == synced.hash:
        return Status.SAME, item
    return Status.CHANGED, item
