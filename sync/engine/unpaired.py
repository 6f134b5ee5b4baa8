"""Items with no pair yet: which of them the planner considers, keyed for matching.

The planner (`sync.engine.planner`) pairs what is left by UID first, then, at an
initial sync, by start, end and subject (`sync.engine.matching`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from sync.engine.actions import Action, Plan
from sync.engine.conflict import SIDE_NAME
from sync.engine.pairs import SIDES, Side, other, pair_key
from sync.engine.sideview import SideView
from sync.engine.transform import clash_uid, is_private_for, new_copy, stamp
from sync.model import Event
from sync.providers.base import Item, Window
from sync.settings import Settings


def unpaired_items(
    views: dict[Side, SideView],
    paired_ids: dict[Side, set[str]],
    window: Window,
    settings: Settings,
    plan: Plan,
) -> dict[Side, list[Item]]:
    """Each side's items in the window that no pair holds (private ones left out
    under `skip_private`, with one warning saying how many), in id order."""
    fresh: dict[Side, list[Item]] = {}
    skipped_private = 0
    for side in SIDES:
        items = []
        for item_id, item in sorted(views[side].current.items()):
            if item_id in paired_ids[side] or not window.contains(item.event):
                continue
            if settings.skip_private and is_private_for(side, item.event):
                skipped_private += 1
                continue
            items.append(item)
        fresh[side] = items
    if skipped_private:
        plan.warnings.append(f"{skipped_private} private item(s) not synced (skip_private)")
    return fresh


def remote_by_pair_key(
    remote: list[Item], paired_keys: set[str], plan: Plan
) -> tuple[dict[str, Item], dict[int, str]]:
    """The unpaired remote items by pair key, and for each whose UID another remote
    item already holds (`id(item)` ->) the UID its CRM copy gets instead."""
    by_key: dict[str, Item] = {}
    clashing: dict[int, str] = {}
    for item in remote:
        key = pair_key(item.event)
        if key in by_key or key in paired_keys:
            # two resources with one UID (sabre/dav allows it) are two items: the
            # copy gets a UID of its own, or both copies would share one pair
            clashing[id(item)] = clash_uid(item.event.uid, item.id)
            plan.warnings.append(
                f"remote item {item.id} has the UID {item.event.uid!r} of another "
                f"remote item; its CRM copy gets the UID {clashing[id(item)]!r}"
            )
            key = pair_key(item.event.replace(uid=clashing[id(item)]))
        by_key[key] = item
    return by_key, clashing


def create_actions(
    unmatched: Mapping[Side, list[Item]],
    copies: Mapping[int, Event],
    clashing: Mapping[int, str],
    settings: Settings,
    now: datetime,
) -> Iterator[Action]:
    """A create on the other side for every item left unmatched: its copy worked out
    for matching (`copies`, by `id(item)`) when there is one, else a new copy."""
    for side, items in unmatched.items():
        for item in items:
            made = copies.get(id(item))
            after = (
                new_copy(item.event, side, settings, now)
                if made is None
                else made.replace(last_modified=stamp(now))
            )
            if id(item) in clashing:
                after = after.replace(uid=clashing[id(item)])
            yield Action(
                "create",
                other(side),
                f"new in {SIDE_NAME[side]}",
                after=after,
                source=item,
                origin=side,
            )
