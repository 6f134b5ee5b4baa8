"""A CalDAV calendar collection as a calsync remote: `caldav:https://host/path/to/calendar/`.

Connection settings come from the `[caldav]` table of calsync.toml, optionally
refined per server by `[caldav.servers."https://host/"]` subtables (the longest
prefix of the calendar URL wins):

    [caldav]
    username = "anna"
    password_env = "CALSYNC_CALDAV_PASSWORD"   # or password_file / password_keyring
    # token_env = "..."                        # a bearer token instead of a password
    verify_tls = true                          # or a CA bundle path
    timeout = 30                               # seconds per socket read ([job] request_deadline: whole request)
    auth = "basic"                             # basic | digest | auto (negotiate on 401)

The provider is put together from the wing's parts, each a class over
`connection.DavConnection` (settings, credentials, requests, hrefs):

- `listing.py`: sync-collection (RFC 6578), the calendar-query fallback and
  calendar-multiget fill the cache's index, so a run with no changes costs one request;
- `series.py`: a recurring series is one resource listed as its occurrences, and an
  occurrence's edit or deletion is written into it;
- `writing.py`: conditional PUT and DELETE, so a lost answer is settled by the next
  run (docs/lost-replies.md);
- `cancelled.py`: a cancelled event or occurrence is listed as gone;
- here: the Provider contract's listing of a window, fetch, identity and check.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.ical import parse_event, recurrence
from sync.ical.recurrence import Series
from sync.occurrence_index import OccurrenceIndex
from sync.providers.base import (
    AuthFailed,
    BrokenItem,
    CalendarNotFound,
    ConfigError,
    Item,
    Listing,
    MalformedItem,
    ProviderError,
    Window,
)
from sync.providers.dav import identity
from sync.providers.dav.cancelled import LiveSeries, is_cancelled
from sync.providers.dav.http import Forbidden, host_of
from sync.providers.dav.listing import DavListing, SyncUnsupported
from sync.providers.dav.series import DavSeries

#: 2: series resources are kept in "series" and listed as occurrences; 3: cancelled
#: occurrences are no longer listed (`cancelled.py`), so no kept expansion holds them
CACHE_VERSION = 3
#: after sync-collection failed, try it again this much later (Google's 507 comes and goes)
SYNC_RETRY_AFTER = timedelta(days=7)
#: privileges (any of) that let the account create, change and delete items
_WRITE_PRIVILEGES = {"{DAV:}write", "{DAV:}all", "{DAV:}write-content"}


def _now() -> datetime:
    return datetime.now(UTC)


class CalDAVProvider(DavSeries, DavListing):
    """`caldav:URL`; the class attributes (scheme, section, ...) are `DavConnection`'s."""

    # -- identity -----------------------------------------------------------------------

    def identity(self) -> str:
        # list_window read the collection's properties moments ago in this run
        props = self._props if self._props is not None else self._collection_props()
        resource_id = props.get("{DAV:}resource-id")
        ident = f"{self.scheme}:{self.collection_url}"
        if isinstance(resource_id, str) and resource_id:
            ident = f"{ident}#{resource_id}"
        # a calendar re-created at this URL differs by a marker or its sync token
        return identity.identity(ident, props, replaced=self._replaced)

    def calendar_name(self) -> str | None:
        # DAV:displayname comes with the collection PROPFIND the listing already made
        props = self._props if self._props is not None else self._collection_props()
        name = props.get("{DAV:}displayname")
        return name if isinstance(name, str) and name.strip() else None

    def claim_identity(self) -> str:
        if self.dead_properties:
            identity.claim(
                self._props if self._props is not None else self._collection_props(),
                lambda body: self._listing_request("PROPPATCH", body, identity.HEADERS),
                lambda: self._collection_props(self._props_mode),
            )
        self._replaced = False  # init accepts the calendar as it is now
        return self.identity()

    # -- listing ------------------------------------------------------------------------

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        if cache.get("v") != CACHE_VERSION or cache.get("url") != self.collection_url:
            cache.clear()
            cache.update({"v": CACHE_VERSION, "url": self.collection_url, "index": {}})
        series = cache.get("series")
        if not isinstance(series, dict):
            series = cache["series"] = {}
        self._series = series
        self._replaced = False
        self._expanded = OccurrenceIndex(cache, "occurrences")
        # one PROPFIND answers both "did anything change?" (sync token, ctag) and
        # "is this still the same calendar?" (resource id): a no-change run costs one request
        self._collection_props(cache.get("mode"))
        retry_at = cache.get("sync_retry_at")
        if retry_at is None or retry_at <= _now().isoformat():
            try:
                self._sync_listing(cache)
                cache.pop("sync_retry_at", None)
                cache["mode"] = "sync"
                return self._window_of(cache, window)
            except SyncUnsupported:
                cache["sync_retry_at"] = (_now() + SYNC_RETRY_AFTER).isoformat()
                cache.pop("token", None)
                cache["index"] = {}
        cache["mode"] = "query"
        self._query_listing(cache, window)
        return self._window_of(cache, window)

    def _window_of(self, cache: MutableMapping[str, Any], window: Window) -> Listing:
        index: Mapping[str, list[Any]] = cache["index"]
        for stale in set(self._series) - set(index):
            del self._series[stale]
        listing = Listing(etags={})
        for item_id, (etag, when, problem) in index.items():
            kept = self._series.get(item_id)
            if problem:
                listing.broken[item_id] = BrokenItem(item_id, etag, problem)
            elif kept is not None and kept[0] == etag:
                self._list_series(item_id, etag, kept[1], window, listing)
            elif when is None or window.start <= datetime.fromisoformat(when) < window.end:
                listing.etags[item_id] = etag
        self._expanded.prune()
        return listing

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        wanted = list(dict.fromkeys(ids))
        resources = list(dict.fromkeys(recurrence.split_id(i)[0] for i in wanted))
        have = {i: self._raw[i] for i in resources if i in self._raw}
        needed = [i for i in resources if i not in have]
        if needed:
            for item_id, got in self._multiget(needed).items():
                if got is not None:
                    have[item_id] = got
                    self._raw[item_id] = got
        out: dict[str, Item | BrokenItem] = {}
        series: dict[str, Series | MalformedItem | None] = {}
        for item_id in wanted:
            resource, rid = recurrence.split_id(item_id)
            if resource not in have:
                continue  # the server does not have it: gone
            etag, data = have[resource]
            listed = self._expanded.event(resource, etag, rid) if rid else None
            if listed is not None:  # expanded by this run's listing: no second parse
                out[item_id] = Item(item_id, etag, listed)
                continue
            if resource not in series:
                try:
                    series[resource] = LiveSeries.parse(data, resource)
                except MalformedItem as exc:
                    series[resource] = exc
            found = series[resource]
            if isinstance(found, MalformedItem):
                out[item_id] = BrokenItem(item_id, etag, found.reason)
                continue
            if rid is not None or found is not None:
                # an occurrence of a series; a plain id whose resource became a series
                # is gone (its occurrences are the items now), as is an occurrence
                # whose resource no longer is one
                event = self._occurrence(resource, etag, rid, found) if rid else None
                if event is not None:
                    out[item_id] = Item(item_id, etag, event)
                continue
            parsed = self._parsed.get(item_id)
            if parsed is not None and parsed[0] == etag:
                out[item_id] = Item(item_id, etag, parsed[1])
                continue
            if "BEGIN:VEVENT" not in data.upper() or is_cancelled(data):
                continue  # no event, or a cancelled one: gone
            try:
                out[item_id] = Item(item_id, etag, parse_event(data, item_id))
            except MalformedItem as exc:
                out[item_id] = BrokenItem(item_id, etag, exc.reason)
        return out

    # -- operator checks ------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        host = host_of(self.collection_url)
        checks: list[tuple[str, bool, str]] = []
        try:
            self._auth()
        except ConfigError as exc:
            return [("credentials configured", False, str(exc))]
        try:
            props = self._collection_props()
        except Forbidden as exc:
            return [
                ("server reachable", True, host),
                ("credentials accepted", True, "signed in"),
                ("calendar exists", False, str(exc)),
            ]
        except AuthFailed as exc:
            return [("server reachable", True, host), ("credentials accepted", False, str(exc))]
        except CalendarNotFound as exc:
            return [
                ("server reachable", True, host),
                ("credentials accepted", True, "signed in"),
                ("calendar exists", False, str(exc)),
            ]
        except ProviderError as exc:
            return [("server reachable", False, str(exc))]
        checks.append(("server reachable", True, host))
        checks.append(("credentials accepted", True, "signed in"))
        name = props.get("{DAV:}displayname")
        checks.append(
            ("calendar exists", True, f"{self.collection_url}" + (f" ({name})" if name else ""))
        )
        privileges = props.get("{DAV:}current-user-privilege-set")
        if not isinstance(privileges, list):
            checks.append(("write permission", True, "the server does not report privileges"))
        elif _WRITE_PRIVILEGES & set(privileges) or {
            "{DAV:}bind",
            "{DAV:}unbind",
            "{DAV:}write-content",
        } <= set(privileges):
            checks.append(("write permission", True, "the account may change this calendar"))
        else:
            have = ", ".join(p.rpartition("}")[2] for p in privileges) or "none"
            checks.append(
                ("write permission", False, f"the account may not write to it (has: {have})")
            )
        return checks
