"""Both sides of one run: list each (ids + etags), then fetch in bulk only what is new,
changed, or paired and missing from a listing (a direct lookup decides between
"deleted" and "moved out of the window", R2). The planner reads the views this makes.

Where a provider hands a deleted item's id to a new item (`Capabilities.reuses_ids`),
a paired id listed with another UID is both: the paired item is gone, the listed
one is new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from storage.pairstore import listings_digest
from storage.state import UserState
from sync.engine.pairs import SIDES, Pair, Side, Synced
from sync.engine.sideview import SideView
from sync.model import Event
from sync.providers.base import BrokenItem, Item, Listing, Provider, Window


def list_sides(
    providers: dict[Side, Provider], state: UserState, window: Window
) -> dict[Side, Listing]:
    return {
        side: providers[side].list_window(window, _cache(state, side, providers[side]))
        for side in SIDES
    }


def _cache(state: UserState, side: Side, provider: Provider) -> dict[str, Any]:
    """The side's provider cache, emptied when the side now points at another calendar,
    so no provider ever reads a sync token or index made for a different one."""
    owners = state.meta.setdefault("cache_owner", {})
    cache = state.cache(side)
    if owners.get(side) != provider.url:
        cache.clear()
        owners[side] = provider.url
    return cache


def gather(
    providers: dict[Side, Provider], state: UserState, pairs: Sequence[Pair], window: Window
) -> dict[Side, SideView]:
    """List both sides, then fetch in bulk what is new, changed or missing."""
    return fetch_views(providers, list_sides(providers, state, window), pairs, window)


def fetch_views(
    providers: dict[Side, Provider],
    listings: dict[Side, Listing],
    pairs: Sequence[Pair],
    window: Window,
) -> dict[Side, SideView]:
    """Fetch in bulk only what is new, changed, or paired and missing from a listing.

    A paired item listed with the etag it was synced with goes into the view's `same`
    as its stored side, undecoded: a run with nothing to do decodes no stored event.
    """
    stored: dict[Side, dict[str, Synced]] = {
        "crm": {p.crm.id: p.crm for p in pairs},
        "remote": {p.remote.id: p.remote for p in pairs},
    }
    views: dict[Side, SideView] = {}
    for side in SIDES:
        listing = listings[side]
        partner: Side = "remote" if side == "crm" else "crm"
        known = stored[side]
        changed = [
            i for i, etag in listing.etags.items() if i not in known or known[i].etag != etag
        ]
        unlisted = [i for i in known if i not in listing.etags and i not in listing.broken]
        missing: list[str] = []
        if unlisted:
            partner_etags = listings[partner].etags
            partner_listed = {p.side(side).id for p in pairs if p.side(partner).id in partner_etags}
            missing = [
                i for i in unlisted if i in partner_listed or window.contains(known[i].event)
            ]
        fetched = providers[side].fetch(changed + missing) if (changed or missing) else {}
        view = SideView(
            broken={i: b.error for i, b in listing.broken.items()},
            listed_nothing=not listing.etags and not listing.broken,
            trusted_mtime=providers[side].capabilities.trusted_mtime,
        )
        holders: dict[str, list[Synced]] = {}
        if providers[side].capabilities.reuses_ids:
            for pair in pairs:
                holders.setdefault(pair.side(side).id, []).append(pair.side(side))
        for item_id, etag in listing.etags.items():
            synced = known.get(item_id)
            if synced is not None and synced.etag == etag:
                view.same[item_id] = synced
            else:
                _take(view, item_id, fetched.get(item_id), holders.get(item_id, []))
        for item_id in missing:
            got = fetched.get(item_id)
            if got is None:
                view.gone.add(item_id)
            else:
                _take(view, item_id, got, holders.get(item_id, []))
        views[side] = view
    return views


def _identity(event: Event) -> tuple[str, str | None]:
    return event.uid, event.recurrence_id


def _take(
    view: SideView, item_id: str, got: Item | BrokenItem | None, paired: Sequence[Synced] = ()
) -> None:
    """Put what a fetch returned into the view. `paired`, where ids can be reused: the
    pairs' sides that hold this id; an item with the UID of none of them is new."""
    if isinstance(got, Item):
        view.current[item_id] = got
        if paired and all(_identity(got.event) != _identity(p.event) for p in paired):
            # the paired item was deleted and its id given to a new one
            view.gone.add(item_id)
            view.reused.add(item_id)
    elif isinstance(got, BrokenItem):
        view.broken[item_id] = got.error
    # None: listed a moment ago and gone now; the next run decides


def nothing_changed(stored: Iterable[Mapping[str, Any]], listings: dict[Side, Listing]) -> bool:
    """Whether both listings show exactly the stored pairs' items, each with the etag it
    was synced with, and nothing unreadable: then every pair is SAME on both sides,
    nothing is new or gone, and the plan is empty — decided from the stored ids and
    etags alone, without building a pair (issue 17)."""
    if listings["crm"].broken or listings["remote"].broken:
        return False
    crm, remote = listings["crm"].etags, listings["remote"].etags
    crm_ids: set[str] = set()
    remote_ids: set[str] = set()
    for pair in stored:
        c, r = pair["crm"], pair["remote"]
        if crm.get(c["id"]) != c["etag"] or remote.get(r["id"]) != r["etag"]:
            return False
        crm_ids.add(c["id"])
        remote_ids.add(r["id"])
    # every listed item is a pair's (distinct ids: two pairs sharing one item and an
    # unpaired item beside them must not look like a match in numbers)
    return len(crm_ids) == len(crm) and len(remote_ids) == len(remote)


def nothing_changed_since(digest: str, listings: dict[Side, Listing]) -> bool:
    """`nothing_changed`'s answer from the stored pairings' digest (storage/pairstore.py),
    without reading them: nothing unreadable, and both listings hash to it."""
    if listings["crm"].broken or listings["remote"].broken:
        return False
    return digest == listings_digest(listings["crm"].etags, listings["remote"].etags)
