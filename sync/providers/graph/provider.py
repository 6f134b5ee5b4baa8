"""A Microsoft 365 mailbox's calendar through Microsoft Graph: `graph:anna@example.com`.

Exchange Online is closing EWS to third-party applications, so for most
organizations this is how calsync reaches Outlook. One app registration serves
every mailbox (app-only, client credentials), configured once in calsync.toml:

    [graph]
    tenant_id = "11111111-2222-3333-4444-555555555555"
    client_id = "66666666-7777-8888-9999-000000000000"
    client_secret_env = "CALSYNC_GRAPH_SECRET"   # or client_secret_file / _keyring
    # certificate_file = "/etc/calsync/graph.pem" # instead: PEM key + certificate, mode 0600
    # thumbprint = "A1B2..."                       # only if the file holds no certificate
    # authority = "https://login.microsoftonline.us"   # sovereign clouds
    # graph_url = "https://graph.microsoft.us"
    verify_tls = true                             # or a CA bundle path
    timeout = 30                                  # seconds per socket read ([job] request_deadline: whole)

Listing is `calendarView/delta` over the sync window widened to whole months (so
the delta link survives the window's daily move). The delta link and an index
{id: [etag, start (UTC ISO) or None, organized-meeting flag, series master id or None]} live in the provider
cache: a run with no changes costs one request. Writes carry If-Match; creates a
`transactionId`, so the retry after a dropped connection gets the event the lost
answer made, and after a 5xx the next sync finds it by its UID (a create first looks
the UID up). An update repeated with the old etag is a conflict (412). calsync
never adds attendees, and since Graph cannot write a meeting the mailbox organizes
without notifying its attendees, such writes are refused (`MeetingWouldNotify`)
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
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from sync.ical.recurrence import detach, max_occurrences
from sync.model import Event
from sync.providers.base import (
    BrokenItem,
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
from sync.providers.graph.client import GraphClient, GraphHTTPError, read_settings
from sync.providers.graph.delta import DeltaIndex
from sync.providers.graph.mapping import (
    UID_PROPERTY,
    MappingError,
    event_from_graph,
    event_to_graph,
    is_organized_meeting,
    plain_text,
    series_master_of,
    uid_of,
)
from sync.providers.graph.series import (
    SeriesWrites,
    check_view_span,
    read_instances,
)
from sync.providers.graph.zones import ZONE_PROPERTY
from sync.providers.known_texts import KnownTexts

CACHE_VERSION = 3
_PREFER_TZ = 'outlook.timezone="UTC"'
_PREFER_TEXT = 'outlook.body-content-type="text"'
_EXPAND_UID = (
    f"singleValueExtendedProperties($filter=id eq '{UID_PROPERTY}' or id eq '{ZONE_PROPERTY}')"
)
#: GetItem answers for an occurrence its series no longer has (Exchange's own codes)
_NO_OCCURRENCE = (
    "ErrorItemNotFound",
    "ErrorInvalidIdMalformed",
    "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
)


class MeetingWouldNotify(NotifyRefused):
    """The item is a meeting this mailbox organizes: writing it would notify attendees."""

    def __init__(self, item_id: str, mailbox: str, attendees: int) -> None:
        super().__init__(
            f"item {item_id} is a meeting {mailbox} organizes with {attendees} attendee(s): "
            "changing it would notify them, so the Outlook version is kept"
        )
        self.item_id = item_id


def _month_floor(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def _month_ceil(value: datetime) -> datetime:
    floor = _month_floor(value)
    if floor == value.astimezone(UTC):
        return floor
    return datetime(floor.year + floor.month // 12, floor.month % 12 + 1, 1, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self._calendar: dict[str, Any] | None = None
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

    def _user_path(self, suffix: str = "") -> str:
        return f"/users/{quote(self.mailbox, safe='@')}{suffix}"

    def _event_path(self, item_id: str) -> str:
        return self._user_path(f"/events/{quote(item_id, safe='=-_')}")

    # -- reading ------------------------------------------------------------------------

    def _calendar_resource(self) -> dict[str, Any]:
        if self._calendar is None:
            data = self.client.request("GET", self._user_path("/calendar")).json()
            if not isinstance(data, dict) or not data.get("id"):
                raise ProviderError(f"Graph returned no calendar for {self.mailbox}")
            self._calendar = data
        return self._calendar

    def identity(self) -> str:
        if self._proven_identity is not None:
            return self._proven_identity
        ident = f"graph:{self.mailbox}/calendar/{self._calendar_resource()['id']}"
        if self._listed_cache is not None:
            self._listed_cache["identity"] = ident
        return ident

    def _remember(self, data: Mapping[str, Any]) -> None:
        item_id, etag = str(data.get("id") or ""), str(data.get("@odata.etag") or "")
        if item_id and etag and "attendees" in data:
            attendees = len(data.get("attendees") or ()) if is_organized_meeting(data) else 0
            self._meetings[item_id] = (etag, attendees)

    def window_problem(self, window: Window) -> str | None:
        try:
            check_view_span(_month_floor(window.start), _month_ceil(window.end), self.mailbox)
        except ConfigError as exc:
            return str(exc)
        return None

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        start, end = _month_floor(window.start), _month_ceil(window.end)
        check_view_span(start, end, self.mailbox)
        range_start, range_end = _iso(start), _iso(end)
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
        relisted = False
        initial = (
            self._user_path("/calendarView/delta"),
            {"startDateTime": range_start, "endDateTime": range_end},
        )
        index = DeltaIndex(items, series_etags, self._meetings)
        path, params = (link, None) if link else initial
        prefer = f"{_PREFER_TZ}, {_PREFER_TEXT}, odata.maxpagesize={self.conf.page_size}"
        while True:
            try:
                response = self.client.request(
                    "GET", path, params=params, headers={"Prefer": prefer}
                )
            except GraphHTTPError as exc:
                if exc.status != 410 or relisted:
                    raise
                # the sync state expired on the server: one full re-list, not an error
                relisted = True
                items, series_etags, (path, params) = {}, {}, initial
                index = DeltaIndex(items, series_etags, self._meetings)
                continue
            page = response.json()
            for entry in page.get("value") or ():
                index.absorb(entry)
            next_link = page.get("@odata.nextLink")
            if next_link:
                path, params = str(next_link), None
                continue
            delta = page.get("@odata.deltaLink")
            if not delta:
                raise ProviderError(
                    f"Graph's delta listing for {self.mailbox} ended without a delta link"
                )
            break
        if link and not relisted:
            # a changed master may mean occurrences deleted or moved without a delta
            # entry of their own: read the series' instances instead
            for master in sorted(index.changed):
                found = read_instances(
                    self.client,
                    self._user_path(),
                    master,
                    range_start,
                    range_end,
                    page_size=self.conf.page_size,
                    prefer=_PREFER_TZ,
                )
                index.reconcile(master, found)
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
        listing = Listing(etags={})
        series: dict[str, list[tuple[datetime, str]]] = {}
        for item_id, (etag, start_text, _meeting, master) in items.items():
            if start_text is None:
                listing.broken[item_id] = BrokenItem(item_id, etag, "unreadable start time")
                continue
            start_at = datetime.fromisoformat(start_text)
            if window.start <= start_at < window.end:
                listing.etags[item_id] = etag
                if master:
                    series.setdefault(master, []).append((start_at, item_id))
        self._cap(listing, series)
        return listing

    def _cap(self, listing: Listing, series: Mapping[str, list[tuple[datetime, str]]]) -> None:
        """At most `max_occurrences` occurrences of one series, the earliest, with a warning."""
        cap = self.max_occurrences
        for master, found in series.items():
            if len(found) <= cap:
                continue
            for _start, item_id in sorted(found)[cap:]:
                del listing.etags[item_id]
            # worth a lookup only here: the operator knows a series by its UID
            name = self._series_uid(master) or master
            listing.warnings.append(
                f"recurring series {name} has more than {cap} "
                f"occurrences in the window; only the first {cap} are synced "
                "(setting max_occurrences)"
            )

    def _get_event(self, item_id: str) -> dict[str, Any] | None:
        try:
            response = self.client.request(
                "GET",
                self._event_path(item_id),
                params={"$expand": _EXPAND_UID},
                headers={"Prefer": f"{_PREFER_TZ}, {_PREFER_TEXT}"},
            )
        except GraphHTTPError as exc:
            # only 404 / ErrorItemNotFound (and the codes of an occurrence its series no
            # longer has) confirm an item gone; any other 400 is a request error, and
            # taking it for a deletion would trash the CRM copy
            if exc.status == 404 or exc.code in _NO_OCCURRENCE:
                return None
            raise
        except ItemNotFound:
            return None
        data = response.json()
        return data if isinstance(data, dict) else None

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        found: dict[str, dict[str, Any]] = {}
        for item_id in ids:
            data = self._get_event(item_id) if item_id else None
            if data is None:
                continue
            self._remember(data)
            found[item_id] = data
        unknown = {series_master_of(d) for d in found.values()} - {None} - set(self._masters)
        if unknown - self._missing_masters:
            self._learn_masters({m for m in unknown if m})
        return {item_id: self._item(data, item_id) for item_id, data in found.items()}

    def _learn_masters(self, wanted: set[str]) -> None:
        """The UIDs of series masters, in bulk: one listing of the calendar's masters
        (paged), then a GET for any it did not name (a master in another calendar)."""
        path: str = self._user_path("/calendar/events")
        params: dict[str, str] | None = {
            "$filter": "type eq 'seriesMaster'",
            "$select": "id,iCalUId",
            "$expand": _EXPAND_UID,
            "$top": str(min(self.conf.page_size, 1000)),
        }
        while True:
            page = self.client.request("GET", path, params=params).json()
            for master in page.get("value") or ():
                if master.get("id"):
                    self._masters[str(master["id"])] = uid_of(master)
            next_link = page.get("@odata.nextLink")
            if not next_link:
                break
            path, params = str(next_link), None
        for master_id in sorted(wanted - set(self._masters)):
            data = self._get_event(master_id)
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
        self._remember(data)
        item = self._item(data, str(data["id"]), uid)
        if isinstance(item, BrokenItem):
            raise ProviderError(f"Graph stored item {item_id} unreadably: {item.error}")
        return item

    def _holder_of(self, uid: str) -> str | None:
        """The id of the event already carrying calsync UID `uid`, if any."""
        literal = uid.replace("'", "''")
        response = self.client.request(
            "GET",
            self._user_path("/calendar/events"),
            params={
                "$filter": (
                    f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' "
                    f"and ep/value eq '{literal}')"
                ),
                "$select": "id",
                "$expand": _EXPAND_UID,
                "$top": "25",
            },
        )
        # Exchange compares the value without regard to case: 'abc' finds 'ABC', which
        # is another UID, so only an exact match is a clash
        found = [e for e in response.json().get("value") or () if uid_of(e) == uid]
        return str(found[0].get("id")) if found else None

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        event = detach(event)  # calsync never makes series: an occurrence becomes a single item
        # Graph would happily store a second event with the same UID property; the UID
        # is calsync's identity of an item, so refuse like a CalDAV server does
        holder = self._holder_of(event.uid)
        if holder is not None:
            raise ItemRefused(event.uid, f"UID already used by item {holder}", uid_conflict=True)
        body = event_to_graph(event)
        # Graph drops a repeated POST with the same transactionId, so a retry after a
        # lost answer cannot create a duplicate
        body["transactionId"] = str(uuid.uuid4())
        try:
            response = self.client.request(
                "POST",
                self._user_path("/events"),
                json_body=body,
                headers={"Prefer": f"{_PREFER_TZ}, {_PREFER_TEXT}"},
            )
        except GraphHTTPError as exc:
            raise ItemRefused(event.uid, exc.graph_message or str(exc)) from None
        return self._written(response.json(), event.uid, event.uid)

    def _refuse_meeting(self, item_id: str, etag: str) -> None:
        known = self._meetings.get(item_id)
        if known is None or known[0] != etag:
            data = self._get_event(item_id)
            if data is None:
                raise ItemNotFound(item_id)
            self._remember(data)
            known = self._meetings.get(item_id, (etag, 0))
        if known[1]:
            raise MeetingWouldNotify(item_id, self.mailbox, known[1])

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        self._refuse_meeting(item_id, etag)
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
                    self._event_path(item_id),
                    json_body=body,
                    headers={"If-Match": etag, "Prefer": f"{_PREFER_TZ}, {_PREFER_TEXT}"},
                )
                break
            except GraphHTTPError as exc:
                fresh = self._own_series_change(exc, item_id)
                if fresh is None:
                    raise self._write_error(exc, item_id, etag) from None
                etag = fresh
        data = response.json()
        self._series.wrote(series_master_of(data) if isinstance(data, dict) else None)
        return self._written(data, item_id, event.uid)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        # deleting a meeting on the organizer's calendar sends cancellations
        self._refuse_meeting(item_id, etag)
        while True:
            try:
                self.client.request("DELETE", self._event_path(item_id), headers={"If-Match": etag})
                break
            except GraphHTTPError as exc:
                fresh = self._own_series_change(exc, item_id)
                if fresh is None:
                    raise self._write_error(exc, item_id, etag) from None
                etag = fresh
        self._meetings.pop(item_id, None)
        rows = (self._listed_cache or {}).get("items") or {}
        self._series.wrote(rows[item_id][3] if item_id in rows else None)

    def _same_text(self, item_id: str, etag: str, text: str) -> bool:
        same = self._texts.same(item_id, etag, text)
        if same is None:
            data = self._get_event(item_id)
            if data is not None and data.get("@odata.etag") == etag:
                self._texts.remember(item_id, etag, plain_text(data.get("body")))
            same = self._texts.same(item_id, etag, text)
        return bool(same)

    def _own_series_change(self, exc: GraphHTTPError, item_id: str) -> str | None:
        """The etag to retry a refused (412) occurrence write with, when only calsync's own
        earlier write to the same series changed it (series.SeriesWrites)."""
        if exc.status != 412:
            return None
        return self._series.retry_etag(item_id, self._get_event)

    def _write_error(self, exc: GraphHTTPError, item_id: str, etag: str) -> ProviderError:
        if exc.status == 412:
            return EtagMismatch(item_id, etag)
        if exc.status == 404 or exc.code in ("ErrorItemNotFound", "ErrorInvalidIdMalformed"):
            return ItemNotFound(item_id)
        if exc.status == 400:
            return ItemRefused(item_id, exc.graph_message or str(exc))
        return exc

    # -- operator checks ------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        rows: list[tuple[str, bool, str]] = []
        try:
            self.client.tokens.token()
        except ProviderError as exc:
            return [("token acquired", False, str(exc))]
        rows.append(
            ("token acquired", True, f"app {self.conf.client_id} in tenant {self.conf.tenant_id}")
        )
        try:
            calendar = self._calendar_resource()
        except ProviderError as exc:
            rows.append(("mailbox reachable", False, str(exc)))
            return rows
        rows.append(
            (
                "mailbox reachable",
                True,
                f"{self.mailbox}: calendar {calendar.get('name') or calendar['id']}",
            )
        )
        roles = self.client.tokens.roles() or []
        if "Calendars.ReadWrite" not in roles and any(
            r.startswith("Calendars.Read") for r in roles
        ):
            rows.append(
                (
                    "calendar writable",
                    False,
                    "the app may only read calendars: add the Calendars.ReadWrite application "
                    "permission and grant admin consent",
                )
            )
        elif calendar.get("canEdit") is False:
            rows.append(
                (
                    "calendar writable",
                    False,
                    f"the calendar of {self.mailbox} is read-only to the app",
                )
            )
        else:
            source = (
                "Calendars.ReadWrite"
                if "Calendars.ReadWrite" in roles
                else "granted in Exchange (RBAC for Applications)"
            )
            rows.append(("calendar writable", True, f"{self.mailbox}: {source}"))
        return rows

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
