"""events.list over the sync window, full or incremental, into the provider cache.

The first listing asks for the window widened to whole months (`timeMin`/`timeMax`,
`singleEvents=true`: each instance of a series is an item of its own) and keeps
Google's `nextSyncToken`, which comes only on the last page. Later runs send just
that token: Google refuses `timeMin`/`timeMax` beside it and answers with every
event changed since, deleted ones (and cancelled instances) as `status: cancelled`.
An expired token is 410 `fullSyncRequired`: the window is listed again, once.
(developers.google.com/workspace/calendar/api/guides/sync)

The cache holds {event id: [etag, start (UTC ISO) or None, iCalUID, recurrence id]}
for every event the token has reported, in the window or not; the listing filters
on start. The full JSON of each event listed in this run is kept in memory so the
engine's fetch of new and changed items costs no further request.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from sync.providers.base import BrokenItem, Listing, Window
from sync.providers.google.client import GoogleClient, GoogleHTTPError
from sync.providers.google.mapping import MappingError, recurrence_id_of, start_instant
from sync.providers.wire import iso_utc, month_ceil, month_floor

CACHE_VERSION = "gapi-1"


def index_row(entry: dict[str, Any]) -> list[Any]:
    try:
        start: str | None = start_instant(entry).isoformat()
        recurrence = recurrence_id_of(entry)
    except MappingError:
        start, recurrence = None, None
    return [str(entry.get("etag") or ""), start, str(entry.get("iCalUID") or ""), recurrence]


class WindowLister:
    """One listing of one calendar; `seen` keeps the events it read, by id."""

    def __init__(self, client: GoogleClient, events_path: str, calendar_id: str) -> None:
        self.client = client
        self.events_path = events_path
        self.calendar_id = calendar_id
        self.seen: dict[str, dict[str, Any]] = {}
        #: the calendar's accessRole, as the last page said
        self.access_role: str | None = None
        #: the calendar's title: every events.list page carries it as `summary`
        self.summary: str | None = None

    def run(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        start, end = month_floor(window.start), month_ceil(window.end)
        key = {
            "v": CACHE_VERSION,
            "calendar": self.calendar_id,
            "api": self.client.conf.api_url,
            "range": [iso_utc(start), iso_utc(end)],
        }
        token = cache.get("sync_token") if cache.get("key") == key else None
        items: dict[str, list[Any]] = (
            {k: list(v) for k, v in (cache.get("items") or {}).items()} if token else {}
        )
        full = {
            "timeMin": key["range"][0],
            "timeMax": key["range"][1],
            "singleEvents": "true",
            "showDeleted": "false",
        }
        try:
            token = self._pages(items, {"syncToken": token} if token else full)
        except GoogleHTTPError as exc:
            if exc.status != 410 or not token:
                raise
            # the sync token expired on Google's side: one full listing, not an error
            items.clear()
            token = self._pages(items, full)
        cache.clear()
        cache.update({"key": key, "sync_token": token, "items": items})
        return self._window(items, window)

    def _pages(self, items: dict[str, list[Any]], params: dict[str, str]) -> str:
        params = {**params, "maxResults": str(self.client.conf.page_size)}
        if "syncToken" in params:
            params["singleEvents"] = "true"  # the same as the full listing's, as Google asks
        while True:
            page = self.client.request("GET", self.events_path, params=params).json()
            self.access_role = page.get("accessRole") or self.access_role
            self.summary = page.get("summary") or self.summary
            for entry in page.get("items") or ():
                self._absorb(items, entry)
            next_page = page.get("nextPageToken")
            if next_page:
                params = {**params, "pageToken": str(next_page)}
                continue
            token = page.get("nextSyncToken")
            if not token:
                raise GoogleHTTPError(
                    200,
                    "",
                    "",
                    f"Google's listing of {self.calendar_id} ended without a sync token",
                )
            return str(token)

    def _absorb(self, items: dict[str, list[Any]], entry: dict[str, Any]) -> None:
        event_id = str(entry.get("id") or "")
        if not event_id:
            return
        if entry.get("status") == "cancelled":
            # a deleted event, or a cancelled instance of a series: gone from the listing;
            # a deleted series takes its instances (`MASTERID_…`) with it
            for gone in [event_id, *(i for i in items if i.startswith(f"{event_id}_"))]:
                items.pop(gone, None)
                self.seen.pop(gone, None)
            return
        items[event_id] = index_row(entry)
        self.seen[event_id] = entry

    @staticmethod
    def _window(items: dict[str, list[Any]], window: Window) -> Listing:
        listing = Listing(etags={})
        for event_id, (etag, start_text, _uid, _rid) in items.items():
            if start_text is None:
                listing.broken[event_id] = BrokenItem(event_id, etag, "unreadable start time")
                continue
            if window.start <= datetime.fromisoformat(start_text) < window.end:
                listing.etags[event_id] = etag
        return listing
