"""Recurring series on CalDAV: one resource, listed as its occurrences, written whole.

A resource holding a recurring series is listed as its occurrences in the window
(`href#<original start UTC>`, see `sync.ical.recurrence`); its text is kept in the
cache ("series": {href: [etag, text]}) so the occurrences can be worked out again as
the window moves without asking the server. An occurrence edited in the CRM becomes
an override component in the same resource, a deleted one an EXDATE, both written
with If-Match on the resource's etag. A CRM item is never written as a series: a
create of an occurrence makes a single item (`sync.ical.recurrence.detach`).
"""

from __future__ import annotations

from sync.ical import recurrence
from sync.ical.recurrence import Series
from sync.model import Event
from sync.providers.base import (
    BrokenItem,
    EtagMismatch,
    Item,
    ItemNotFound,
    Listing,
    MalformedItem,
    Window,
    ensure_no_notify,
)
from sync.providers.dav.cancelled import LiveSeries
from sync.providers.dav.writing import DavWriting, stamp, without_scheduling


class DavSeries(DavWriting):
    """Occurrences: listed from the kept text, written into the series' resource."""

    # listing

    def _list_series(
        self, item_id: str, etag: str, data: str, window: Window, listing: Listing
    ) -> None:
        if self._raw.get(item_id, ("", ""))[0] != etag:
            self._raw[item_id] = (etag, data)  # the base for a write, with no GET
        try:
            self._expanded.list_series(
                item_id,
                etag,
                lambda: self._parsed_series(item_id, etag, data),
                window,
                self.max_occurrences,
                listing,
            )
        except MalformedItem as exc:
            listing.broken[item_id] = BrokenItem(item_id, etag, exc.reason)

    def _parsed_series(self, item_id: str, etag: str, data: str) -> Series | None:
        """The series this run's listing already parsed, else parsed now (once per run)."""
        read = self._read_series.pop(item_id, None)
        return read[1] if read is not None and read[0] == etag else LiveSeries.parse(data, item_id)

    def _occurrence(
        self, resource: str, etag: str, rid: str, series: Series | None
    ) -> Event | None:
        listed = self._expanded.event(resource, etag, rid)
        if listed is not None or series is None:
            return listed
        try:
            return series.occurrence(rid)
        except MalformedItem:
            return None

    # writing

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        resource, rid = recurrence.split_id(item_id)
        if rid is None:
            return super().update(item_id, etag, event)
        return self._update_occurrence(item_id, resource, rid, etag, event)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        resource, rid = recurrence.split_id(item_id)
        if rid is None:
            super().delete(item_id, etag)
        else:
            self._delete_occurrence(item_id, resource, rid, etag)

    def _current_etag(self, resource: str, etag: str) -> str:
        """`etag`, or the resource's etag after this run's own writes if those replaced it.

        Every occurrence of a series shares the resource's etag, and the engine holds
        the etag it listed: after calsync wrote one occurrence, a second write to the
        same series in the run would fail If-Match although only calsync changed it.
        Only etags this provider replaced itself are followed.
        """
        seen = self._superseded.get(resource)
        return seen[1] if seen is not None and etag in seen[0] else etag

    def _series_base(self, item_id: str, resource: str, etag: str) -> tuple[str, str]:
        current = self._current_etag(resource, etag)
        try:
            return current, self._base_for(resource, current)
        except EtagMismatch:
            raise EtagMismatch(item_id, etag) from None
        except ItemNotFound:
            raise ItemNotFound(item_id) from None

    def _write_series(
        self, item_id: str, resource: str, current: str, etag: str, body: bytes | None
    ) -> str | None:
        """PUT the new text (DELETE when None) with If-Match; the new etag, if any."""
        if body is None:
            response = self._request(
                "DELETE", self._href(resource), "", {"If-Match": current, "Schedule-Reply": "F"}
            )
        else:
            body = without_scheduling(body)
            response = self._put(resource, body, {"If-Match": current})
        if response.status == 412:
            raise EtagMismatch(item_id, etag)
        if response.status in (404, 410):
            raise ItemNotFound(item_id)
        self._check_write(response, item_id, "update" if body is not None else "delete")
        self._props = None  # the collection's sync token moved on
        self._raw.pop(resource, None)
        if body is None:
            return None
        kept_as_sent = bool(response.headers is not None and response.headers.get("ETag"))
        new_etag = self._etag_after_write(response, resource)
        if kept_as_sent:  # RFC 4791 5.3.4: an ETag on PUT means the server stored our text
            self._raw[resource] = (new_etag, body.decode("utf-8"))
        old, _ = self._superseded.get(resource, (set(), ""))
        self._superseded[resource] = (old | {current}, new_etag)
        return new_etag

    def _update_occurrence(
        self, item_id: str, resource: str, rid: str, etag: str, event: Event
    ) -> Item:
        current, base = self._series_base(item_id, resource, etag)
        event = event.replace(recurrence_id=rid, last_modified=stamp())
        try:
            body = recurrence.override(base, resource, event)
        except ItemNotFound:
            raise ItemNotFound(item_id) from None
        new_etag = self._write_series(item_id, resource, current, etag, body)
        assert new_etag is not None
        written = LiveSeries.parse(body, resource)
        got = written.occurrence(rid) if written is not None else None
        return Item(item_id, new_etag, got or event)

    def _delete_occurrence(self, item_id: str, resource: str, rid: str, etag: str) -> None:
        current, base = self._series_base(item_id, resource, etag)
        try:
            body = recurrence.exclude(base, resource, rid)
        except ItemNotFound:
            raise ItemNotFound(item_id) from None
        self._write_series(item_id, resource, current, etag, body)
