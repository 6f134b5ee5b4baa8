"""A Microsoft 365 mailbox's calendar through Microsoft Graph: `graph:anna@example.com`.

Exchange Online is closing EWS to third-party applications, so for most
organizations this is how calsync reaches Outlook. One app registration serves
every mailbox (app-only, client credentials), configured once in calsync.toml's
`[graph]` table (settings.py).

Listing is `calendarView/delta` over the sync window widened to whole months (so
the delta link survives the window's daily move). The delta link and an index
{id: [etag, start (UTC ISO) or None, organized-meeting flag, series master id or None]} live in the provider
cache: a run with no changes costs one request. Writes carry If-Match; creates a
`transactionId`, so the retry after a dropped connection gets the event the lost
answer made, and after a 5xx the next sync finds it by its UID (a create first looks
the UID up). An update repeated with the old etag is a conflict (412). calsync
never adds attendees, and since Graph cannot write a meeting the mailbox organizes
without notifying its attendees, such writes are refused (`meetings.MeetingWouldNotify`)
and the remote version stays.

Recurring series: the calendar view lists each occurrence and exception of a
series under an id of its own, naming its master (`seriesMasterId`) and its
original start (`originalStart`). Each is one item: id = the occurrence id, uid =
the series' UID (calsync's property on the master if it has one, else the
master's iCalUId: an occurrence's own iCalUId differs per occurrence), recurrence
id = the original start (UTC ISO; the date for all-day series), as CalDAV and
EWS give them. Masters are learned in bulk (one filtered listing of the
calendar's series masters) only when an occurrence of an unknown series is
fetched, and kept in the provider cache {master id: uid}, so a run with no
changes still costs one request. Editing an occurrence PATCHes it (Graph makes it
an exception); deleting one DELETEs only it; an occurrence its series no longer
has answers 404, which confirms it gone. Items made from the CRM are always
single events (`sync.ical.recurrence.detach`). A series contributes at most
`max_occurrences` (default 500) occurrences to a listing, with a warning.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, ClassVar

from sync.ical.recurrence import detach, max_occurrences
from sync.model import Event
from sync.providers.base import (
    BrokenItem,
    Capabilities,
    ConfigError,
    Item,
    ItemRefused,
    Listing,
    Provider,
    ProviderError,
    Window,
    ensure_no_notify,
)
from sync.providers.graph.checks import check
from sync.providers.graph.client import (
    PREFER_TEXT,
    PREFER_TZ,
    GraphClient,
    GraphHTTPError,
    write_error,
)
from sync.providers.graph.delta import (
    DeltaIndex,
    read_delta,
    window_listing,
)
from sync.providers.graph.mailbox import MailboxCalendar
from sync.providers.graph.mapping import (
    UID_PROPERTY,
    MappingError,
    event_from_graph,
    event_to_graph,
    plain_text,
    series_master_of,
    uid_of,
)
from sync.providers.graph.meetings import refuse_meeting, remember
from sync.providers.graph.series import SeriesWrites, check_view_span
from sync.providers.graph.settings import read_settings
from sync.providers.known_texts import KnownTexts
from sync.providers.wire import iso_utc, month_ceil, month_floor

CACHE_VERSION = 3


class GraphProvider(Provider):
    scheme: ClassVar[str] = "graph"
    #: Graph holds every synced field; lastModifiedDateTime is set by the server on
    #: every change, and calsync's UID lives in its own extended property
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        self.mailbox = self._mailbox_of(url)
        self.conf = read_settings(self.settings)
        self._client: GraphClient | None = None
        self._box: MailboxCalendar | None = None
        #: id -> (etag, attendees if the mailbox organizes it as a meeting, else 0)
        self._meetings: dict[str, tuple[str, int]] = {}
        #: set by list_window when a stored delta link proved the calendar unchanged
        self._proven_identity: str | None = None
        self._listed_cache: MutableMapping[str, Any] | None = None
        self.max_occurrences = max_occurrences(self.conf.table, "graph")
        #: series master id -> the series' UID (persisted as the cache's "masters")
        self._masters: dict[str, str] = {}
        #: masters looked up this run and not found (their occurrences are broken)
        self._missing_masters: set[str] = set()
        #: series written this run, and the text each fetched item had
        self._series = SeriesWrites()
        self._texts = KnownTexts()

    # -- addressing ---------------------------------------------------------------------

    @staticmethod
    def _mailbox_of(url: str) -> str:
        scheme, _, rest = url.partition(":")
        mailbox = rest.strip()
        if scheme.lower() != "graph" or not mailbox:
            raise ConfigError(f"calendar {url!r} is not of the form graph:MAILBOX")
        if any(c in mailbox for c in "/?#\\ ") or mailbox.count("@") > 1:
            raise ConfigError(
                f"calendar {url!r}: the mailbox must be an SMTP address or a user id "
                "(graph:anna@example.com)"
            )
        return mailbox.lower()

    @classmethod
    def normalize_url(cls, url: str) -> str:
        return f"graph:{cls._mailbox_of(url)}"

    @property
    def client(self) -> GraphClient:
        if self._client is None:
            self._client = GraphClient(self.conf, self.mailbox)
        return self._client

    @property
    def box(self) -> MailboxCalendar:
        if self._box is None:
            self._box = MailboxCalendar(self.client, self.mailbox, self.conf.page_size)
        return self._box

    # -- reading ------------------------------------------------------------------------

    def identity(self) -> str:
        if self._proven_identity is not None:
            return self._proven_identity
        ident = f"graph:{self.mailbox}/calendar/{self.box.calendar()['id']}"
        if self._listed_cache is not None:
            self._listed_cache["identity"] = ident
        return ident

    def calendar_name(self) -> str | None:
        # the calendar resource identity() read (asked once per run); only an init whose
        # delta link proved the calendar unchanged (no identity read) asks for it here
        name = self.box.calendar().get("name")
        return name if isinstance(name, str) and name.strip() else None

    def window_problem(self, window: Window) -> str | None:
        try:
            check_view_span(month_floor(window.start), month_ceil(window.end), self.mailbox)
        except ConfigError as exc:
            return str(exc)
        return None

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        start, end = month_floor(window.start), month_ceil(window.end)
        check_view_span(start, end, self.mailbox)
        range_start, range_end = iso_utc(start), iso_utc(end)
        key: dict[str, Any] = {
            "v": CACHE_VERSION,
            "mailbox": self.mailbox,
            "graph": self.conf.graph_url,
            "range": [range_start, range_end],
        }
        state = dict(cache) if cache.get("key") == key and cache.get("delta_link") else {}
        # a master's UID never changes: keep what is known even when the range moves on
        before = cache.get("key") or {}
        same_calendar = (
            before.get("mailbox") == self.mailbox and before.get("graph") == key["graph"]
        )
        known_masters = dict(cache.get("masters") or {}) if same_calendar else {}
        items: dict[str, list[Any]] = {k: list(v) for k, v in (state.get("items") or {}).items()}
        #: series master id -> its etag (masters are never items: series.py)
        series_etags: dict[str, str] = dict(state.get("series") or {})
        link: str | None = state.get("delta_link")
        index, delta, relisted = read_delta(
            self.box,
            (range_start, range_end),
            link,
            DeltaIndex(items, series_etags, self._meetings),
        )
        items, series_etags = index.items, index.series
        # a stored delta link that still worked is tied to the calendar it was made
        # for: the calendar is the one recorded, and asking for its id again would
        # cost a request every run
        proven = state.get("identity") if link and not relisted else None
        referenced = {entry[3] for entry in items.values() if entry[3]}
        self._masters = {m: str(uid) for m, uid in known_masters.items() if m in referenced}
        cache.clear()
        cache.update(
            {
                "key": key,
                "delta_link": str(delta),
                "items": items,
                "series": series_etags,
                "masters": self._masters,
            }
        )
        if proven:
            cache["identity"] = proven
        self._proven_identity = str(proven) if proven else None
        self._listed_cache = cache
        return window_listing(items, window, self.max_occurrences, self._series_uid)

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        found: dict[str, dict[str, Any]] = {}
        for item_id in ids:
            data = self.box.get_event(item_id) if item_id else None
            if data is None:
                continue
            remember(self._meetings, data)
            found[item_id] = data
        unknown = {series_master_of(d) for d in found.values()} - {None} - set(self._masters)
        if unknown - self._missing_masters:
            self._learn_masters({m for m in unknown if m})
        return {item_id: self._item(data, item_id) for item_id, data in found.items()}

    def _learn_masters(self, wanted: set[str]) -> None:
        """The UIDs of series masters, in bulk: one listing of the calendar's masters
        (paged), then a GET for any it did not name (a master in another calendar)."""
        self.box.learn_masters(self._masters)
        for master_id in sorted(wanted - set(self._masters)):
            data = self.box.get_event(master_id)
            if data is None or data.get("type") != "seriesMaster":
                self._missing_masters.add(master_id)
            else:
                self._masters[master_id] = uid_of(data)

    def _series_uid(self, master_id: str) -> str | None:
        if master_id not in self._masters and master_id not in self._missing_masters:
            self._learn_masters({master_id})
        return self._masters.get(master_id)

    def _item(
        self, data: Mapping[str, Any], item_id: str, uid: str | None = None
    ) -> Item | BrokenItem:
        etag = str(data.get("@odata.etag") or "")
        try:
            event = event_from_graph(data)
        except MappingError as exc:
            return BrokenItem(item_id, etag, str(exc))
        master = series_master_of(data)
        if master is not None:
            # an occurrence's own iCalUId differs per occurrence: the series' UID is the master's
            uid = self._series_uid(master)
            if uid is None:
                return BrokenItem(item_id, etag, f"its series master {master} was not found")
        if uid is not None and event.uid != uid:
            event = event.replace(uid=uid)
        self._texts.remember(item_id, etag, event.text)
        return Item(item_id, etag, event)

    # -- writing ------------------------------------------------------------------------

    def _written(self, data: Any, item_id: str, uid: str) -> Item:
        if not isinstance(data, dict) or not data.get("id"):
            raise ProviderError(f"Graph answered a write for {self.mailbox} without the event")
        remember(self._meetings, data)
        item = self._item(data, str(data["id"]), uid)
        if isinstance(item, BrokenItem):
            raise ProviderError(f"Graph stored item {item_id} unreadably: {item.error}")
        return item

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        event = detach(event)  # calsync never makes series: an occurrence becomes a single item
        # Graph would happily store a second event with the same UID property; the UID
        # is calsync's identity of an item, so refuse like a CalDAV server does
        holder = self.box.uid_holder(event.uid)
        if holder is not None:
            raise ItemRefused(event.uid, f"UID already used by item {holder}", uid_conflict=True)
        body = event_to_graph(event)
        # Graph drops a repeated POST with the same transactionId, so a retry after a
        # lost answer cannot create a duplicate
        body["transactionId"] = str(uuid.uuid4())
        try:
            response = self.client.request(
                "POST",
                self.box.user_path("/events"),
                json_body=body,
                headers={"Prefer": f"{PREFER_TZ}, {PREFER_TEXT}"},
            )
        except GraphHTTPError as exc:
            raise ItemRefused(event.uid, exc.graph_message or str(exc)) from None
        return self._written(response.json(), event.uid, event.uid)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        refuse_meeting(self._meetings, item_id, etag, self.mailbox, self.box.get_event)
        body = event_to_graph(event)
        if event.recurrence_id is not None:
            # the series' UID lives on its master; written onto the exception, a second
            # event would claim it
            body["singleValueExtendedProperties"] = [
                p for p in body["singleValueExtendedProperties"] if p["id"] != UID_PROPERTY
            ]
        if self._same_text(item_id, etag, event.text):
            # the text is as Outlook has it: sending it back as plain text would flatten
            # the HTML body (formatting, inline images, the Teams join block)
            del body["body"]
        while True:
            try:
                response = self.client.request(
                    "PATCH",
                    self.box.event_path(item_id),
                    json_body=body,
                    headers={"If-Match": etag, "Prefer": f"{PREFER_TZ}, {PREFER_TEXT}"},
                )
                break
            except GraphHTTPError as exc:
                fresh = self._own_series_change(exc, item_id)
                if fresh is None:
                    raise write_error(exc, item_id, etag) from None
                etag = fresh
        data = response.json()
        self._series.wrote(series_master_of(data) if isinstance(data, dict) else None)
        return self._written(data, item_id, event.uid)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        # deleting a meeting on the organizer's calendar sends cancellations
        refuse_meeting(self._meetings, item_id, etag, self.mailbox, self.box.get_event)
        while True:
            try:
                self.client.request(
                    "DELETE", self.box.event_path(item_id), headers={"If-Match": etag}
                )
                break
            except GraphHTTPError as exc:
                fresh = self._own_series_change(exc, item_id)
                if fresh is None:
                    raise write_error(exc, item_id, etag) from None
                etag = fresh
        self._meetings.pop(item_id, None)
        rows = (self._listed_cache or {}).get("items") or {}
        self._series.wrote(rows[item_id][3] if item_id in rows else None)

    def _same_text(self, item_id: str, etag: str, text: str) -> bool:
        same = self._texts.same(item_id, etag, text)
        if same is None:
            data = self.box.get_event(item_id)
            if data is not None and data.get("@odata.etag") == etag:
                self._texts.remember(item_id, etag, plain_text(data.get("body")))
            same = self._texts.same(item_id, etag, text)
        return bool(same)

    def _own_series_change(self, exc: GraphHTTPError, item_id: str) -> str | None:
        """The etag to retry a refused (412) occurrence write with, when only calsync's own
        earlier write to the same series changed it (series.SeriesWrites)."""
        if exc.status != 412:
            return None
        return self._series.retry_etag(item_id, self.box.get_event)

    # -- operator checks ------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        return check(self)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self._box = None
