"""Listing a CalDAV collection into the provider cache's index, in as few requests as it takes.

The index maps item id -> [etag, start (UTC ISO) or None, parse error or None]; the
provider (`provider.py`) turns it into the window's listing. Three REPORTs fill it:

- sync-collection (RFC 6578): the sync token and the index live in the cache, so a
  run after a change asks only for what changed since the token.
- calendar-query: a time-range query of etags, for servers without sync-collection
  (or failing it); the collection's ctag says when nothing changed at all.
- calendar-multiget: changed items fetched in bulk, never one GET per item (with a
  fallback to GETs where a server refuses the whole REPORT, `each.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sync.ical import parse_event
from sync.providers.base import CalendarNotFound, MalformedItem, ProviderError, Window
from sync.providers.dav import each, identity
from sync.providers.dav.cancelled import LiveSeries, is_cancelled
from sync.providers.dav.connection import DavConnection
from sync.providers.dav.http import Forbidden, host_of

#: hrefs per calendar-multiget; keeps each reply a sane size
MULTIGET_CHUNK = 250
#: statuses with which a server says "I do not do sync-collection (now)"
SYNC_UNSUPPORTED = {400, 403, 405, 409, 415, 500, 501, 507}

_CS = "http://calendarserver.org/ns/"
_SYNC_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>"
    "<d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"
)
_QUERY_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/></d:prop>"
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
    '<c:time-range start="{start}" end="{end}"/>'
    "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
)
_MULTIGET_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"
)


class SyncUnsupported(ProviderError):
    """sync-collection does not work on this collection; list by time range instead."""


def xml_text(value: str) -> str:
    """`value` as XML character data: what xml.sax.saxutils.escape does, without
    importing it (it imports urllib.request, ~3 ms of every run's start-up)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class DavListing(DavConnection):
    """The three listing REPORTs; each fills the cache's "index"."""

    # sync-collection (RFC 6578)

    def _sync_listing(self, cache: MutableMapping[str, Any]) -> None:
        token = cache.get("token")
        known = self._props or {}
        if token and known.get("{DAV:}sync-token") == token:
            return  # identity() just read the collection's token: nothing changed
        index: dict[str, list[Any]] = dict(cache.get("index") or {}) if token else {}
        refused_from: dict[str, list[Any]] | None = None
        missing: list[str] = []
        while True:
            try:
                response = self._listing_request(
                    "REPORT",
                    _SYNC_REPORT.format(token=xml_text(token or "")),
                    # RFC 6578 §3.2: the report is defined for Depth 0 only; the depth
                    # of the listing is the body's DAV:sync-level
                    {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"},
                )
            except Forbidden as exc:
                # RFC 6578 §3.2: 403 + DAV:valid-sync-token is "token expired": start over.
                # (A 403 that names a usage limit never gets here: it is throttling,
                # retried in `http`/`probe`, and the token is kept.)
                # A 403 without a token is a server refusing sync-collection; if it is
                # really about access, the time-range listing will say so.
                if not token:
                    raise SyncUnsupported(str(exc)) from None
                result = None
            else:
                result = self._parse_sync(response, token)
            if result is None:  # the token is no longer valid: list everything afresh
                refused_from = index
                token, index, missing = None, {}, []
                continue
            for href in result.deleted:
                gone = self._id_of(href)
                if gone is not None:
                    index.pop(gone, None)
                    self._raw.pop(gone, None)
                    self._series.pop(gone, None)
            for entry in result.changed:
                item_id = self._id_of(entry.href)
                if item_id is None:
                    continue
                if entry.status == 404:
                    index.pop(item_id, None)
                elif entry.etag and entry.calendar_data:
                    self._remember(index, item_id, entry.etag, entry.calendar_data)
                else:  # some servers leave the data (or etag) out: fetch those in bulk
                    missing.append(item_id)
            if result.truncated and result.sync_token in (None, token):
                # a server that truncates without moving its token would loop forever
                raise SyncUnsupported("truncated sync reply without a new token")
            token = result.sync_token
            if not result.truncated:
                break
        if missing:
            for item_id, got in self._multiget(missing).items():
                if got is None:
                    index.pop(item_id, None)
                else:
                    self._remember(index, item_id, *got)
        cache["token"] = token
        cache["index"] = index
        if refused_from is not None:
            self._replaced = identity.replaced(refused_from, index)

    def _parse_sync(self, response: Any, token: str | None) -> Any:
        if response.status == 404:
            raise CalendarNotFound(f"calendar {self.collection_url} does not exist (HTTP 404)")
        if response.status in (200, 207):
            self._readable(response, "REPORT sync-collection")
            try:
                return response.parse_sync_collection()
            except Exception as exc:
                raise SyncUnsupported(str(exc)) from None
        if token and response.status in SYNC_UNSUPPORTED:
            return None  # e.g. 409/507 for a token the server forgot: retry without it
        if response.status in SYNC_UNSUPPORTED:
            raise SyncUnsupported(f"HTTP {response.status}")
        raise ProviderError(
            f"{host_of(self.collection_url)}: sync-collection answered HTTP {response.status}"
        )

    def _remember(self, index: dict[str, list[Any]], item_id: str, etag: str, data: str) -> None:
        if "BEGIN:VEVENT" not in data.upper():
            # Google keeps VTIMEZONE-only leftovers; they are not events
            index.pop(item_id, None)
            return
        self._raw[item_id] = (etag, data)
        self._series.pop(item_id, None)
        try:
            if (parsed := LiveSeries.parse(data, item_id)) is not None:
                # its occurrences are listed from the kept text (`_window_of`)
                self._series[item_id] = [etag, data]
                self._read_series[item_id] = (etag, parsed)
                index[item_id] = [etag, None, None]
                return
            if is_cancelled(data):
                index.pop(item_id, None)  # a cancelled event is a deletion (`cancelled.py`)
                return
            event = parse_event(data, item_id)
        except MalformedItem as exc:
            index[item_id] = [etag, None, exc.reason]
            return
        self._parsed[item_id] = (etag, event)
        index[item_id] = [etag, event.start_utc.isoformat(), None]

    # calendar-query fallback

    def _query_listing(self, cache: MutableMapping[str, Any], window: Window) -> None:
        if self._props_mode != "query":
            # a first run asked for no change marker; the next run compares this one
            self._collection_props("query")
        ctag = (self._props or {}).get(f"{{{_CS}}}getctag")
        span = [window.start.astimezone(UTC).isoformat(), window.end.astimezone(UTC).isoformat()]
        cached = cache.get("window")
        if (
            ctag
            and cache.get("ctag") == ctag
            and isinstance(cached, list)
            and cached[0] <= span[0]
            and span[1] <= cached[1]
        ):
            return  # nothing changed in the collection, and the window is covered
        body = _QUERY_REPORT.format(start=_utc_stamp(window.start), end=_utc_stamp(window.end))
        response = self._request(
            "REPORT",
            self.collection_url,
            body,
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if response.status == 404:
            raise CalendarNotFound(f"calendar {self.collection_url} does not exist (HTTP 404)")
        if response.status not in (200, 207):
            raise ProviderError(
                f"{host_of(self.collection_url)}: calendar-query answered HTTP {response.status}"
            )
        old: Mapping[str, list[Any]] = cache.get("index") or {}
        index: dict[str, list[Any]] = {}
        for result in self._parse_query(response):
            item_id = self._id_of(result.href)
            if item_id is not None and result.status != 404 and result.etag:
                row = old.get(item_id)
                known = row is not None and row[0] == result.etag and (row[1] or row[2])
                index[item_id] = row if known else [result.etag, None, None]  # type: ignore[assignment]
        # a resource not read yet may hold a series, which is listed by its occurrences:
        # read the new and changed ones now (the engine would fetch them anyway)
        unknown = [
            i
            for i, (etag, when, problem) in index.items()
            if when is None and not problem and self._series.get(i, [""])[0] != etag
        ]
        for item_id, got in self._multiget(unknown).items() if unknown else ():
            if got is None:
                index.pop(item_id, None)
            else:
                self._remember(index, item_id, *got)
        cache["index"] = index
        cache["window"] = span
        if ctag:
            cache["ctag"] = ctag
        else:
            cache.pop("ctag", None)

    def _parse_query(self, response: Any) -> list[Any]:
        self._readable(response, "REPORT")
        try:
            return list(response.parse_calendar_query())
        except Exception as exc:
            raise ProviderError(
                f"{host_of(self.collection_url)}: unreadable REPORT reply: {exc}"
            ) from None

    # bulk fetch

    def _multiget(self, ids: Sequence[str]) -> dict[str, tuple[str, str] | None]:
        """id -> (etag, data), or None where the server says the item is gone."""
        found: dict[str, tuple[str, str] | None] = {}
        for start in range(0, len(ids), MULTIGET_CHUNK):
            chunk = list(ids[start : start + MULTIGET_CHUNK])
            body = _MULTIGET_REPORT.format(
                hrefs="".join(f"<d:href>{xml_text(self._path(i))}</d:href>" for i in chunk)
            )
            response = self._request(
                "REPORT",
                self.collection_url,
                body,
                {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            )
            if response.status == 404:
                # not proof of a missing calendar: sabre/dav 1.8 refuses the whole
                # REPORT when one href is gone (each.py)
                found.update(each.fetch_ids(self._request, self.collection_url, chunk, self._href))
                continue
            if response.status not in (200, 207):
                raise ProviderError(
                    f"{host_of(self.collection_url)}: calendar-multiget answered HTTP "
                    f"{response.status}"
                )
            for result in self._parse_query(response):
                item_id = self._id_of(result.href)
                if item_id is None:
                    continue
                if result.status == 404 or not result.calendar_data:
                    found[item_id] = None
                else:
                    found[item_id] = (result.etag or "", result.calendar_data)
        return found
