"""Google Calendar through the Calendar API v3: `google:CALENDAR_ID`.

    [google]
    service_account_file = "/etc/calsync/google-sa.json"  # domain-wide delegation, or
    # client_id + client_secret_env + token_file           # per-user consent (auth.py)
    # requests_per_minute = 500    # calsync's own budget per user (Google allows 600)
    # max_retry_wait = 120         # a longer back-off defers the user instead
    # timeout = 30                 # seconds per socket read ([job] request_deadline: whole)
    # api_url = "https://www.googleapis.com/calendar/v3"   (tests point it elsewhere)

The scope is `calendar.events` and nothing more. Listing: listing.py (sync tokens
over the window). Writes: `events.insert` / `patch` / `delete`, each with
`sendUpdates=none`, updates and deletes with `If-Match` on the etag the engine saw
(412 is a conflict). An insert names the event's id itself (derived from the UID),
so an insert repeated after a lost answer finds the event the first one made
instead of adding a second. Google keeps a deleted event's iCalUID (409): the
engine then retries with a fresh UID.

calsync never writes an event that would touch other people: one with attendees
besides the calendar itself, or one another calendar organizes (an invitation;
Google answers `forbiddenForNonOrganizer` to most such writes anyway). Such items
carry NOTIFIES_ATTENDEES, so the engine keeps their version; a write that still
reaches here is refused before any request.

Recurring series: each instance is an item (id `MASTERID_20260302T090000Z`), with
the series' iCalUID as UID and its `originalStartTime` as recurrence id; a cancelled
instance leaves the listing (the engine trashes its CRM copy). Items made from the
CRM are single events (`sync.ical.recurrence.detach`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

from sync.ical.recurrence import detach
from sync.model import Event
from sync.providers.base import (
    BrokenItem,
    CalendarNotFound,
    Capabilities,
    ConfigError,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Listing,
    NotifyRefused,
    Provider,
    ProviderError,
    Window,
    ensure_no_notify,
)
from sync.providers.google.budget import REAL_CLOCK, Clock
from sync.providers.google.client import GoogleClient, GoogleHTTPError, read_settings
from sync.providers.google.listing import WindowLister
from sync.providers.google.mapping import (
    MappingError,
    event_from_google,
    event_to_google,
    notifies,
)
from sync.providers.known_texts import KnownTexts

#: what Google allows in an event id (base32hex), plus an instance's `_20260302T090000Z`
_EVENT_ID = re.compile(r"[A-Za-z0-9_]{5,1024}")
_NO_MAIL = {"sendUpdates": "none"}


def event_id_for(uid: str) -> str:
    """The id calsync gives the event it inserts for `uid` (base32hex, lower case)."""
    digest = hashlib.sha256(uid.encode("utf-8")).digest()[:20]
    return "cs" + base64.b32hexencode(digest).decode().rstrip("=").lower()


class MeetingWouldNotify(NotifyRefused):
    def __init__(self, item_id: str, calendar_id: str) -> None:
        super().__init__(
            f"item {item_id} is a meeting with other people on {calendar_id}: changing it "
            "would notify them, so the Google version is kept"
        )
        self.item_id = item_id


class GoogleProvider(Provider):
    scheme: ClassVar[str] = "google"
    #: Google keeps a deleted event's iCalUID: a re-insert is 409 (the engine renames)
    capabilities: ClassVar[Capabilities] = Capabilities(reuse_uid=False)

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        self.calendar_id = self.calendar_id_of(url)
        self.conf = read_settings(self.settings)
        #: how the request budget and back-off read the time (tests speed it up)
        self.clock: Clock = REAL_CLOCK
        self._client: GoogleClient | None = None
        self._lister: WindowLister | None = None
        self._items: dict[str, list[Any]] = {}
        self._texts = KnownTexts()
        #: id -> etag of events that would notify someone, or use default reminders
        self._notifying: dict[str, str] = {}
        self._default_reminders: dict[str, str] = {}

    # -- addressing -------------------------------------------------------------------------

    @classmethod
    def calendar_id_of(cls, url: str) -> str:
        _, _, calendar_id = url.partition(":")
        calendar_id = calendar_id.strip()
        if not calendar_id or any(c in calendar_id for c in "/?#\\") or " " in calendar_id:
            raise ConfigError(
                f"calendar {url!r}: expected google:CALENDAR_ID (e.g. google:anna@example.com)"
            )
        return calendar_id

    @classmethod
    def normalize_url(cls, url: str) -> str:
        return f"{cls.scheme}:{cls.calendar_id_of(url)}"

    @property
    def client(self) -> GoogleClient:
        if self._client is None:
            self._client = GoogleClient(self.conf, self.calendar_id, self.clock)
        return self._client

    @property
    def lister(self) -> WindowLister:
        if self._lister is None:
            self._lister = WindowLister(self.client, self._events_path(), self.calendar_id)
        return self._lister

    def _events_path(self, event_id: str = "") -> str:
        path = f"/calendars/{quote(self.calendar_id, safe='@')}/events"
        return f"{path}/{quote(event_id, safe='')}" if event_id else path

    # -- reading ------------------------------------------------------------------------------

    def identity(self) -> str:
        # the calendar itself, however it is reached: the same as over CalDAV
        if self._lister is None or self._lister.access_role is None:
            self._probe()
        return f"google:{self.calendar_id}"

    def _probe(self) -> dict[str, Any]:
        try:
            page = self.client.request(
                "GET", self._events_path(), params={"maxResults": "1"}
            ).json()
        except GoogleHTTPError as exc:
            if exc.status == 404:
                raise CalendarNotFound(
                    f"Google calendar {self.calendar_id} does not exist or is not shared "
                    f"with {self.client.subject}"
                ) from None
            raise
        self.lister.access_role = page.get("accessRole")
        self.lister.summary = page.get("summary")
        return dict(page)

    def calendar_name(self) -> str | None:
        # events.list names the calendar in every page ("summary: Title of the calendar",
        # developers.google.com/calendar/api/v3/reference/events/list): the listing or
        # identity's probe read it; else one probe of a single event, as identity() does
        if self._lister is None or self._lister.summary is None:
            self._probe()
        name = self.lister.summary
        return name if isinstance(name, str) and name.strip() else None

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        try:
            listing = self.lister.run(window, cache)
        except GoogleHTTPError as exc:
            if exc.status == 404:
                raise CalendarNotFound(
                    f"Google calendar {self.calendar_id} does not exist or is not shared "
                    f"with {self.client.subject}"
                ) from None
            raise
        self._items = cache["items"]
        return listing

    def _get(self, event_id: str) -> dict[str, Any] | None:
        seen = self.lister.seen.get(event_id)
        if seen is not None:
            return seen
        if not _EVENT_ID.fullmatch(event_id):
            return None  # no id Google gives: a name from another adapter, or garbage
        try:
            data = self.client.request("GET", self._events_path(event_id)).json()
        except GoogleHTTPError as exc:
            if exc.status in (404, 410):
                return None
            raise
        if not isinstance(data, dict) or data.get("status") == "cancelled":
            return None  # Google still answers for a deleted event, as cancelled
        self.lister.seen[event_id] = data
        return data

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        out: dict[str, Item | BrokenItem] = {}
        for event_id in ids:
            data = self._get(event_id) if event_id else None
            if data is not None:
                out[event_id] = self._item(data)
        return out

    def _item(self, data: Mapping[str, Any]) -> Item | BrokenItem:
        event_id, etag = str(data.get("id") or ""), str(data.get("etag") or "")
        # as the event is now: attendees may have been added or removed since
        self._notifying.pop(event_id, None)
        if notifies(data):
            self._notifying[event_id] = etag
        if (data.get("reminders") or {}).get("useDefault"):
            self._default_reminders[event_id] = etag
        try:
            event = event_from_google(data)
        except MappingError as exc:
            return BrokenItem(event_id, etag, str(exc))
        self._texts.remember(event_id, etag, event.text)
        return Item(event_id, etag, event)

    def _written(self, data: Any, event_id: str) -> Item:
        if not isinstance(data, dict) or not data.get("id"):
            raise ProviderError(f"Google answered a write to {self.calendar_id} without the event")
        self.lister.seen[str(data["id"])] = data
        item = self._item(data)
        if isinstance(item, BrokenItem):
            raise ProviderError(f"Google stored item {event_id} unreadably: {item.error}")
        return item

    # -- writing ---------------------------------------------------------------------------

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        event = detach(event)  # calsync never makes series: an occurrence becomes a single item
        body = event_to_google(event)
        event_id = event_id_for(event.uid)
        body.update({"id": event_id, "iCalUID": event.uid})
        try:
            response = self.client.request(
                "POST", self._events_path(), params=_NO_MAIL, json_body=body
            )
        except GoogleHTTPError as exc:
            if exc.status != 409:
                raise ItemRefused(event.uid, exc.google_message or str(exc)) from None
            mine = self._lost_create(event_id, event)
            if mine is not None:
                return mine
            raise ItemRefused(
                event.uid,
                "Google keeps this UID for another or a deleted event (HTTP 409 duplicate)",
                uid_conflict=True,
            ) from None
        return self._written(response.json(), event.uid)

    def _lost_create(self, event_id: str, event: Event) -> Item | None:
        """After a dropped answer the insert was sent again: the first one made it."""
        if not self.client.resent:
            return None
        data = self._get(event_id)
        if data is None or data.get("iCalUID") != event.uid:
            return None
        item = self._item(data)
        return item if isinstance(item, Item) else None

    def _refuse_meeting(self, item_id: str, etag: str) -> None:
        if item_id not in self._notifying and self.lister.seen.get(item_id) is None:
            data = self._get(item_id)
            if data is None:
                raise ItemNotFound(item_id)
            self._item(data)
        if item_id in self._notifying:
            raise MeetingWouldNotify(item_id, self.calendar_id)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        self._refuse_meeting(item_id, etag)
        same_text = self._texts.same(item_id, etag, event.text)
        body = event_to_google(
            event,
            # the web editor's HTML stays when the CRM did not change the text
            with_text=not same_text,
            keep_reminders=event.reminder is None and self._default_reminders.get(item_id) == etag,
        )
        try:
            response = self.client.request(
                "PATCH",
                self._events_path(item_id),
                params=_NO_MAIL,
                json_body=body,
                headers={"If-Match": etag},
            )
        except GoogleHTTPError as exc:
            raise self._write_error(exc, item_id, etag) from None
        return self._written(response.json(), item_id)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        self._refuse_meeting(item_id, etag)
        try:
            self.client.request(
                "DELETE", self._events_path(item_id), params=_NO_MAIL, headers={"If-Match": etag}
            )
        except GoogleHTTPError as exc:
            raise self._write_error(exc, item_id, etag) from None
        self.lister.seen.pop(item_id, None)

    def _write_error(self, exc: GoogleHTTPError, item_id: str, etag: str) -> ProviderError:
        if exc.status == 412:
            return EtagMismatch(item_id, etag)
        if exc.status in (404, 410):
            return ItemNotFound(item_id)
        if exc.status == 403 and exc.reason == "forbiddenForNonOrganizer":
            return MeetingWouldNotify(item_id, self.calendar_id)
        if exc.status in (400, 403, 409):
            return ItemRefused(item_id, exc.google_message or str(exc))
        return exc

    # -- a calendar reached through another adapter before (docs/google.md) ----------------

    def moved_ids(self, before: Mapping[str, Event]) -> dict[str, str]:
        """{old id: event id} for paired items an earlier adapter of this calendar (Google's
        CalDAV endpoint, which names items by href: `….ics`) named otherwise: the event
        with the same iCalUID and recurrence id. An id of the API's own form that is not
        listed is out of the window or deleted, and left to the engine."""
        legacy = {i: e for i, e in before.items() if not _EVENT_ID.fullmatch(i)}
        if not legacy:
            return {}
        listed = {(row[2], row[3]): event_id for event_id, row in self._items.items()}
        moved: dict[str, str] = {}
        for old_id, event in legacy.items():
            found = listed.get((event.uid, event.recurrence_id))
            if found is None:
                found = self._by_uid(event.uid, event.recurrence_id)
            if found is not None:
                moved[old_id] = found
        return moved

    def _by_uid(self, uid: str, recurrence_id: str | None) -> str | None:
        """An event outside the listed window, by iCalUID (one request)."""
        params = {"iCalUID": uid, "singleEvents": "true", "maxResults": "250"}
        page = self.client.request("GET", self._events_path(), params=params).json()
        for entry in page.get("items") or ():
            item = self._item(entry)
            if isinstance(item, Item) and item.event.recurrence_id == recurrence_id:
                self.lister.seen[item.id] = entry
                return item.id
        return None

    # -- operator checks ---------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        try:
            self.client.token()
        except ProviderError as exc:
            return [("credentials accepted", False, str(exc))]
        rows = [("credentials accepted", True, f"acting as {self.client.subject}")]
        try:
            role = self._probe().get("accessRole") or "unknown"
        except ProviderError as exc:
            return [*rows, ("calendar reachable", False, str(exc))]
        rows.append(("calendar reachable", True, f"google:{self.calendar_id}"))
        writable = role in ("writer", "owner")
        detail = (
            f"{self.client.subject} is {role} of {self.calendar_id}"
            if writable
            else f"{self.client.subject} may only read {self.calendar_id} ({role}): share it "
            "with 'Make changes to events'"
        )
        rows.append(("calendar writable", writable, detail))
        return rows

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
