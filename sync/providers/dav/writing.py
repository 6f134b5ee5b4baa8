"""Writing single CalDAV resources: conditional PUT and DELETE that settle a lost answer.

A create is a PUT with If-None-Match: * to an href named after the UID, so a repeat
after a lost answer meets 412 and the next sync pairs the stored item by UID; an
update or delete carries If-Match, so a repeat is a conflict (412) or finds the item
gone (404). See docs/lost-replies.md. Every write asks a scheduling server to send
no iTIP (Schedule-Reply: F, SCHEDULE-AGENT=CLIENT): calsync never sends invitations.
Occurrences of a recurring series are written by `series.py` on top of this.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sync.ical import recurrence, render_event
from sync.model import Event
from sync.providers.base import (
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    ProviderError,
    ensure_no_notify,
)
from sync.providers.dav import each
from sync.providers.dav.connection import DavConnection
from sync.providers.dav.http import host_of, refused_as_conflict
from sync.providers.dav.multistatus import preconditions

#: what a 409 to an update or delete says when the server says nothing more (the
#: caldav library's transport keeps no reason phrase: urllib3-future reads the status
#: line's code only): the causes seen from Google
_CONFLICT_CAUSES = (
    "a recurring event, or one organised on another calendar, that the server does not "
    "let this calendar change"
)
_NO_UID_CONFLICT = "{urn:ietf:params:xml:ns:caldav}no-uid-conflict"
_PROPFIND_ETAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)


def stamp() -> datetime:
    """LAST-MODIFIED for a write: calsync is the client revising the item now (RFC 5545)."""
    return datetime.now(UTC).replace(microsecond=0)


class DavWriting(DavConnection):
    """create, update and delete of items that are one resource each."""

    def _write_headers(self) -> dict[str, str]:
        # RFC 6638: ask a scheduling server not to send iTIP for this change
        return {"Content-Type": 'text/calendar; charset="utf-8"', "Schedule-Reply": "F"}

    def _etag_after_write(self, response: Any, item_id: str) -> str:
        etag = response.headers.get("ETag") if response.headers is not None else None
        if etag:
            return str(etag)
        # the server changed what we sent (allowed by RFC 4791), so it kept the etag back
        got = self._request("PROPFIND", self._href(item_id), _PROPFIND_ETAG, {"Depth": "0"})
        for result in self._parse_propfind(got):
            value = result.properties.get("{DAV:}getetag")
            if value:
                return str(value)
        raise ProviderError(f"{host_of(self.collection_url)}: no etag for {item_id} after writing")

    def _exists(self, item_id: str) -> bool:
        """Whether the server has `item_id` (a Depth-0 PROPFIND; only a 404 says no)."""
        got = self._request("PROPFIND", self._href(item_id), _PROPFIND_ETAG, {"Depth": "0"})
        return got.status not in (404, 410)

    def _parse_propfind(self, response: Any) -> list[Any]:
        if response.status not in (200, 207):
            return []
        try:
            return list(response.parse_propfind())
        except Exception:
            return []

    def _put(self, item_id: str, body: bytes, headers: dict[str, str]) -> Any:
        return self._request("PUT", self._href(item_id), body, {**self._write_headers(), **headers})

    def create(self, event: Event, *, notify: bool = False, base: str | None = None) -> Item:
        """`base`: the text of an item this one restores (the trash keeps it whole)."""
        ensure_no_notify(notify)
        event = recurrence.detach(event)  # never a second resource with the series' UID
        item_id = self._name_for(event.uid)
        event = event.replace(last_modified=stamp())
        headers = {"If-None-Match": "*"} if self.if_none_match else {}
        body = without_scheduling(render_event(event, base=base))
        response = self._put(item_id, body, headers)
        if response.status == 412:
            if not self._exists(item_id):
                # If-None-Match refused with nothing there: not a UID clash
                raise refused_as_conflict(host_of(self.collection_url), item_id)
            raise ItemRefused(
                item_id, f"an item with UID {event.uid!r} already exists", uid_conflict=True
            )
        self._check_write(response, item_id, "create")
        etag = self._etag_after_write(response, item_id)
        self._raw.pop(item_id, None)
        self._props = None  # the collection's sync token moved on
        return Item(item_id, etag, event)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        base = self._base_for(item_id, etag)
        event = event.replace(last_modified=stamp())
        body = without_scheduling(render_event(event, base=base))
        response = self._put(item_id, body, {"If-Match": etag})
        if response.status == 412:
            raise each.precondition_failed(self._request, self._href(item_id), item_id, etag)
        if response.status == 404:
            raise ItemNotFound(item_id)
        self._check_write(response, item_id, "update")
        new_etag = self._etag_after_write(response, item_id)
        self._raw.pop(item_id, None)
        self._props = None  # the collection's sync token moved on
        return Item(item_id, new_etag, event)

    def item_text(self, item_id: str, etag: str) -> str | None:
        """The item's stored iCalendar text, for the trash to keep it whole; None for
        an occurrence (its text is the whole series) or when it cannot be read."""
        if recurrence.split_id(item_id)[1] is not None:
            return None
        try:
            return self._base_for(item_id, etag)
        except ProviderError:
            return None

    def _base_for(self, item_id: str, etag: str) -> str:
        """The item's current text, so an update keeps what calsync does not map."""
        cached = self._raw.get(item_id)
        if cached is not None and cached[0] == etag:
            return cached[1]
        response = self._request("GET", self._href(item_id), "", {"Accept": "text/calendar"})
        if response.status == 404:
            raise ItemNotFound(item_id)
        if response.status != 200:
            raise ProviderError(
                f"{host_of(self.collection_url)}: GET {item_id} answered HTTP {response.status}"
            )
        current = response.headers.get("ETag")
        if current and current != etag:
            raise EtagMismatch(item_id, etag)
        return each.response_text(response)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        response = self._request(
            "DELETE", self._href(item_id), "", {"If-Match": etag, "Schedule-Reply": "F"}
        )
        if response.status == 412:
            raise each.precondition_failed(self._request, self._href(item_id), item_id, etag)
        if response.status in (404, 410):
            raise ItemNotFound(item_id)
        self._check_write(response, item_id, "delete")
        self._raw.pop(item_id, None)
        self._props = None

    def _check_write(self, response: Any, item_id: str, what: str) -> None:
        if 200 <= response.status < 300:
            return
        if response.status == 409 and what == "create":
            raise self._conflict(item_id, response)
        if response.status == 409:
            # not the UID case: Google answers 409 to an update of a recurring event
            # (vdirsyncer #963) and to a delete of an event whose organiser's calendar
            # this is not ("409 Can't delete a recurring event except on its
            # organizer's calendar", caldav4j #47); the server's words say which
            why = conflict_reason(response) or _CONFLICT_CAUSES
            raise ItemRefused(
                item_id, f"the server refused the {what} as a conflict (HTTP 409: {why})"
            )
        if response.status == 507:
            raise ItemRefused(item_id, "the server's storage is full (HTTP 507)")
        if response.status in (400, 415, 422):
            raise ItemRefused(item_id, f"the server rejected the data (HTTP {response.status})")
        raise ProviderError(
            f"{host_of(self.collection_url)}: {what} of {item_id} answered HTTP {response.status}"
        )

    def _conflict(self, item_id: str, response: Any) -> ProviderError:
        """A 409 to a create. RFC 4791 §5.3.2.1: CALDAV:no-uid-conflict says another
        resource holds the UID; Google's endpoint says it with a bare 409 when the UID
        was an event deleted before (calcurse #470; its provider overrides this)."""
        why = conflict_reason(response)
        return ItemRefused(
            item_id,
            f"conflict with an existing item (HTTP 409{': ' + why if why else ''})",
            uid_conflict=_NO_UID_CONFLICT in why,
        )


def conflict_reason(response: Any) -> str:
    """What a 409 says about itself, one line: its reason phrase when that is more than
    "Conflict", else the DAV:error preconditions (RFC 4918 §16), else a short text body."""
    phrase = " ".join(str(getattr(response, "reason", "") or "").split())
    if phrase and phrase.lower() != "conflict":
        return phrase[:160]
    try:
        text = each.response_text(response)
    except (AttributeError, TypeError):
        return ""
    found = preconditions(text.encode("utf-8"))
    if found:
        return ", ".join(found)[:160]
    if "<" in text or not text.strip():
        return ""  # markup that is no DAV:error (an HTML page): nothing to quote
    return " ".join(text.split())[:160]


def without_scheduling(body: bytes) -> bytes:
    """Mark ORGANIZER/ATTENDEE SCHEDULE-AGENT=CLIENT so a scheduling server sends no iTIP.

    RFC 6638 §7.1: with SCHEDULE-AGENT=CLIENT the server leaves scheduling to the
    client, and calsync never schedules. Items without attendees pass unchanged.
    """
    if b"ATTENDEE" not in body.upper() and b"ORGANIZER" not in body.upper():
        return body
    import icalendar

    cal = icalendar.Calendar.from_ical(body)
    for comp in cal.walk("VEVENT"):
        for name in ("ORGANIZER", "ATTENDEE"):
            values = comp.get(name)
            for value in values if isinstance(values, list) else [values]:
                if value is not None and hasattr(value, "params"):
                    value.params["SCHEDULE-AGENT"] = "CLIENT"
    return bytes(cal.to_ical())
