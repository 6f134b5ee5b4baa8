"""In-memory Exchange Online mailboxes as Microsoft Graph shows them.

Each mailbox keeps its events as Graph JSON (times stored in UTC), a change
sequence for `calendarView/delta`, tombstones for deletions and a sync-state
generation: bumping it makes every outstanding delta/skip token answer 410, the
way Exchange drops old sync states.

Recurring series (see series.py): a `seriesMaster` is stored like any event, with
its cancelled occurrences and its exceptions beside it. Its instances (type
`occurrence` or `exception`, with `seriesMasterId` and `originalStart`) are
materialized whenever the series changes, each with its own id and change
sequence, so the calendar view and its delta list them and never the master.
PATCH of an instance makes it an exception; DELETE of one cancels only it; a new
pattern (recurrence, start or end of the master) drops every exception and
cancellation, as Outlook does; deleting the master removes every instance.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import html
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.providers.graph.server import series as recurrence
from tests.providers.graph.server import zones


class GraphError(Exception):
    """An error response: status + Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def graph_time(value: dt.datetime) -> str:
    """Graph's dateTimeTimeZone form: seven fractional digits, no offset."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def graph_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_time(text: str, zone: str = "UTC") -> dt.datetime:
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1]
        zone = "UTC"
    head, dot, frac = text.partition(".")
    value = dt.datetime.fromisoformat(head + (("." + frac[:6]) if dot else ""))
    if value.tzinfo is None:
        try:
            # only Windows names and Microsoft's IANA list (zones.py names the source)
            value = value.replace(tzinfo=zones.zone(zone))
        except zones.ZoneNotSupported as exc:
            raise GraphError(400, "TimeZoneNotSupportedException", str(exc)) from exc
    return value.astimezone(dt.UTC)


def _token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def read_token(text: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "invalid token") from exc
    if not isinstance(data, dict):
        raise GraphError(400, "BadRequest", "invalid token")
    return data


def _new_id() -> str:
    # Graph ids are long URL-safe base64 strings that end in '='
    raw = b"\x00\x00\x00" + uuid.uuid4().bytes + uuid.uuid4().bytes
    return "AAMkAG" + base64.urlsafe_b64encode(raw).decode()


def _strip_html(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\r\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


#: properties a client may set on an event (others are server-assigned)
WRITABLE = {
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "showAs",
    "sensitivity",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "attendees",
    "importance",
    "categories",
    "transactionId",
    "singleValueExtendedProperties",
    "recurrence",
}
#: what makes a series' pattern: changing any of these regenerates its instances
PATTERN_KEYS = ("recurrence", "start", "end", "isAllDay", "originalStartTimeZone")


@dataclass
class SeriesState:
    """What a series master holds besides its pattern, keyed by original start (`stamp`)."""

    cancelled: set[str] = field(default_factory=set)
    #: original start -> the exception as stored (its own id, change key, fields)
    exceptions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Mailbox:
    address: str
    #: in the application access policy's scope
    allowed: bool = True
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    calendar_id: str = field(default_factory=_new_id)
    #: the calendar resource's `name` (learn.microsoft.com/graph/api/resources/calendar:
    #: "The calendar name"); the default calendar is "Calendar" in an English mailbox
    calendar_name: str = "Calendar"
    can_edit: bool = True
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: extended properties per event id: property id -> value
    extended: dict[str, dict[str, str]] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)
    #: seriesMaster id -> its cancellations and exceptions
    series: dict[str, SeriesState] = field(default_factory=dict)
    #: occurrence/exception id -> the instance as the calendar view shows it
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    counter: int = 0
    generation: int = 1
    requests: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- writes ----------------------------------------------------------------------

    def _touch(self, event_id: str) -> None:
        self.counter += 1
        self.seq[event_id] = self.counter
        self._stamp(self.events[event_id])

    def _stamp(self, event: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC)
        change_key = base64.b64encode(uuid.uuid4().bytes + self.counter.to_bytes(4)).decode()
        event["changeKey"] = change_key
        event["@odata.etag"] = f'W/"{change_key}"'
        event["lastModifiedDateTime"] = graph_stamp(now)

    def _apply(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        unknown = set(body) - WRITABLE - {"@odata.type"}
        if unknown:
            raise GraphError(
                400,
                "RequestBodyRead",
                f"The property '{sorted(unknown)[0]}' does not exist on type 'microsoft.graph.event'.",
            )
        for key, value in body.items():
            if key == "singleValueExtendedProperties":
                props = self.extended.setdefault(event["id"], {})
                for prop in value:
                    props[prop["id"]] = prop["value"]
            elif key in ("start", "end"):
                zone = value.get("timeZone") or "UTC"
                instant = parse_time(value["dateTime"], zone)
                event[key] = {"dateTime": graph_time(instant), "timeZone": "UTC"}
                event["originalStartTimeZone" if key == "start" else "originalEndTimeZone"] = zone
            elif key == "recurrence":
                if value is None:
                    raise GraphError(
                        400, "ErrorInvalidRequest", "A series cannot become a single event."
                    )
                event[key] = value  # normalized below, once start is known
            elif key == "location":
                event[key] = {
                    "displayName": value.get("displayName", ""),
                    "locationType": "default",
                    "uniqueIdType": "unknown",
                }
            else:
                event[key] = copy.deepcopy(value)
        if event.get("isAllDay"):
            for key in ("start", "end"):
                value = parse_time(event[key]["dateTime"])
                if value.time() != dt.time(0):
                    raise GraphError(
                        400,
                        "ErrorPropertyValidationFailure",
                        "Start and end times of an all-day event must be at midnight.",
                    )
        if parse_time(event["end"]["dateTime"]) < parse_time(event["start"]["dateTime"]):
            raise GraphError(
                400, "ErrorInvalidRequest", "The end time cannot be before the start time."
            )
        text = event.get("body", {}).get("content", "")
        event["bodyPreview"] = text[:255]
        if event.get("recurrence") is not None:
            first = parse_time(event["start"]["dateTime"]).astimezone(
                self._zone(event.get("originalStartTimeZone"))
            )
            try:
                event["recurrence"] = recurrence.normalize(event["recurrence"], first.date())
                recurrence.zone_of(event["recurrence"]["range"]["recurrenceTimeZone"] or None)
            except recurrence.RecurrenceError as exc:
                raise GraphError(400, "ErrorInvalidRequest", str(exc)) from exc
            event["type"] = "seriesMaster"

    @staticmethod
    def _zone(name: str | None) -> dt.tzinfo:
        try:
            return recurrence.zone_of(name)
        except recurrence.RecurrenceError as exc:
            raise GraphError(400, "TimeZoneNotSupportedException", str(exc)) from exc

    def create(self, body: dict[str, Any], *, ical_uid: str | None = None) -> dict[str, Any]:
        """POST /events; `ical_uid` seeds the iCalUId an invitation from elsewhere brings."""
        with self.lock:
            # event resource, transactionId: "a custom identifier specified by a client
            # app for the server to avoid redundant POST operations in case of client
            # retries to create the same event" (learn.microsoft.com/graph/api/resources/
            # event). A repeated POST answers 201 with the event already made
            # (blog.rykoma.net/2020/10/05/1559); a deleted event no longer matches
            txn = body.get("transactionId")
            if txn:
                for existing in self.events.values():
                    if existing.get("transactionId") == txn:
                        return copy.deepcopy(existing)
            for key in ("start", "end"):
                if key not in body:
                    raise GraphError(400, "ErrorInvalidRequest", f"Missing {key}.")
            event_id = _new_id()
            now = graph_stamp(dt.datetime.now(dt.UTC))
            event: dict[str, Any] = {
                "id": event_id,
                "createdDateTime": now,
                "iCalUId": ical_uid
                or "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
                "subject": "",
                "body": {"contentType": "text", "content": ""},
                "importance": "normal",
                "sensitivity": "normal",
                "isAllDay": False,
                "isCancelled": False,
                "isOrganizer": True,
                "responseRequested": True,
                "seriesMasterId": None,
                "originalStart": None,
                "recurrence": None,
                "showAs": "busy",
                "type": "singleInstance",
                "isReminderOn": True,
                "reminderMinutesBeforeStart": 15,
                "location": {"displayName": "", "locationType": "default"},
                "attendees": [],
                "organizer": {"emailAddress": {"name": self.address, "address": self.address}},
            }
            event["id"] = event_id
            self.events[event_id] = event
            try:
                self._apply(event, body)
            except GraphError:
                del self.events[event_id]
                self.extended.pop(event_id, None)
                raise
            self._touch(event_id)
            if event["type"] == "seriesMaster":
                self.series[event_id] = SeriesState()
                self._expand(event_id)
            return copy.deepcopy(event)

    def _get(self, event_id: str) -> dict[str, Any]:
        event = self.events.get(event_id)
        if event is None:
            raise GraphError(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        return event

    def _check_etag(self, event: dict[str, Any], if_match: str | None) -> None:
        if if_match and if_match != "*" and if_match != event["@odata.etag"]:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )

    def update(
        self, event_id: str, body: dict[str, Any], if_match: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            if event_id in self.instances:
                return self._update_instance(event_id, body, if_match)
            event = self._get(event_id)
            self._check_etag(event, if_match)
            if "transactionId" in body and body["transactionId"] != event.get("transactionId"):
                raise GraphError(400, "ErrorInvalidRequest", "transactionId cannot be changed.")
            trial = copy.deepcopy(event)
            self._apply(trial, body)
            self.events[event_id] = trial
            self._touch(event_id)
            if trial["type"] == "seriesMaster":
                state = self.series.setdefault(event_id, SeriesState())
                if any(trial.get(k) != event.get(k) for k in PATTERN_KEYS):
                    # a new pattern: Outlook drops every exception and cancellation
                    for exception in state.exceptions.values():
                        self.extended.pop(exception["id"], None)
                    state.exceptions.clear()
                    state.cancelled.clear()
                self._expand(event_id)
            return copy.deepcopy(trial)

    def _update_instance(
        self, instance_id: str, body: dict[str, Any], if_match: str | None
    ) -> dict[str, Any]:
        """An occurrence edited on its own becomes an exception (its own change key)."""
        view = self.instances[instance_id]
        self._check_etag(view, if_match)
        if "recurrence" in body or "transactionId" in body:
            raise GraphError(
                400, "ErrorInvalidRequest", "An occurrence of a series cannot change that."
            )
        master_id, original = view["seriesMasterId"], view["originalStart"]
        state = self.series[master_id]
        exception = state.exceptions.get(original)
        if exception is None:
            exception = copy.deepcopy(view)
            exception["type"] = "exception"
            # an exception starts as a copy of the master's properties, extended ones too
            self.extended.setdefault(instance_id, dict(self.extended.get(master_id, {})))
        trial = copy.deepcopy(exception)
        self._apply(trial, body)
        self._stamp(trial)
        state.exceptions[original] = trial
        # Exchange keeps exceptions inside the master item, so the master changes too
        self._touch(master_id)
        self._expand(master_id)
        return copy.deepcopy(self.instances.get(instance_id, trial))

    def delete(self, event_id: str, if_match: str | None = None) -> None:
        with self.lock:
            if event_id in self.instances:
                view = self.instances[event_id]
                self._check_etag(view, if_match)
                state = self.series[view["seriesMasterId"]]
                state.cancelled.add(view["originalStart"])
                state.exceptions.pop(view["originalStart"], None)
                self.extended.pop(event_id, None)
                # the deleted occurrence is recorded in its master, which changes; the
                # occurrence itself gets no delta entry at all (microsoft-graph-docs
                # PR #4501: "No indication is given for a deleted occurrence")
                self._touch(view["seriesMasterId"])
                self._expand(view["seriesMasterId"])
                return
            event = self._get(event_id)
            self._check_etag(event, if_match)
            del self.events[event_id]
            self.extended.pop(event_id, None)
            self.seq.pop(event_id, None)
            self.counter += 1
            self.tombstones[event_id] = self.counter
            if self.series.pop(event_id, None) is not None:
                self._expand(event_id)  # every instance goes with its master

    # -- series ----------------------------------------------------------------------

    def _occurrence(
        self, master: dict[str, Any], original: dt.datetime, start: dt.datetime, end: dt.datetime
    ) -> dict[str, Any]:
        view = {
            k: copy.deepcopy(v)
            for k, v in master.items()
            if k not in ("recurrence", "transactionId")
        }
        key = recurrence.change_key(master["changeKey"], original)
        view.update(
            {
                "id": recurrence.instance_id(master["id"], original),
                "type": "occurrence",
                "seriesMasterId": master["id"],
                "originalStart": recurrence.stamp(original),
                "iCalUId": recurrence.occurrence_uid(master["iCalUId"], original),
                "start": {"dateTime": graph_time(start), "timeZone": "UTC"},
                "end": {"dateTime": graph_time(end), "timeZone": "UTC"},
                "changeKey": key,
                "@odata.etag": f'W/"{key}"',
                "recurrence": None,
            }
        )
        return view

    def _expand(self, master_id: str) -> None:
        """Re-materialize a series' instances; every changed, new or vanished one gets a
        new change sequence (or a tombstone), so delta reports exactly those."""
        now: dict[str, dict[str, Any]] = {}
        master = self.events.get(master_id)
        state = self.series.get(master_id)
        if master is not None and state is not None:
            for original, start, end in recurrence.originals(master):
                key = recurrence.stamp(original)
                if key in state.cancelled:
                    continue
                exception = state.exceptions.get(key)
                if exception is not None:
                    view = copy.deepcopy(exception)
                    view.update(type="exception", seriesMasterId=master_id, originalStart=key)
                else:
                    view = self._occurrence(master, original, start, end)
                now[view["id"]] = view
        before = [i for i, v in self.instances.items() if v["seriesMasterId"] == master_id]
        for instance_id in before:
            if instance_id not in now:
                # an instance that ceases to exist (occurrence deleted, pattern changed,
                # series deleted) leaves no tombstone: delta reports the master only
                # (microsoft-graph-docs PR #4501; a deleted series is one @removed entry)
                del self.instances[instance_id]
                self.seq.pop(instance_id, None)
                self.extended.pop(instance_id, None)
        for instance_id, view in now.items():
            if self.instances.get(instance_id) != view:
                self.instances[instance_id] = view
                self.counter += 1
                self.seq[instance_id] = self.counter
                self.tombstones.pop(instance_id, None)

    def instance_ids(self, master_id: str) -> dict[str, str]:
        """original start (`originalStart`) -> instance id of a series' current instances."""
        with self.lock:
            return {
                v["originalStart"]: i
                for i, v in self.instances.items()
                if v["seriesMasterId"] == master_id
            }

    # -- reads -----------------------------------------------------------------------

    def instances_in(
        self, master_id: str, start: dt.datetime, end: dt.datetime, *, text_body: bool
    ) -> list[dict[str, Any]]:
        """GET /events/{id}/instances: a series' occurrences and exceptions in the range,
        in full, by start (event-list-instances page)."""
        with self.lock:
            self._get(master_id)
            found = [
                v
                for v in self.instances.values()
                if v["seriesMasterId"] == master_id and self.overlaps(v, start, end)
            ]
            found.sort(key=lambda v: v["start"]["dateTime"])
            return [self.render(v, text_body=text_body) for v in found]

    def get(
        self, event_id: str, *, text_body: bool = False, expand: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            event = self.instances.get(event_id) or self._get(event_id)
            return self.render(event, text_body=text_body, expand=expand)

    def render(
        self, event: dict[str, Any], *, text_body: bool, expand: str | None = None
    ) -> dict[str, Any]:
        out = copy.deepcopy(event)
        out.pop("transactionId", None)
        if text_body and out.get("body", {}).get("contentType") == "html":
            out["body"] = {"contentType": "text", "content": _strip_html(out["body"]["content"])}
        if expand is not None:
            props = self.extended.get(event["id"], {})
            if event.get("type") == "occurrence":
                props = self.extended.get(event["seriesMasterId"], {})
            wanted = re.findall(r"id eq '([^']+)'", expand)
            out["singleValueExtendedProperties"] = [
                {"id": key, "value": value}
                for key, value in props.items()
                if not wanted or key.lower() in {w.lower() for w in wanted}
            ]
        return out

    def find(
        self, odata_filter: str, *, text_body: bool, expand: str | None = None
    ) -> list[dict[str, Any]]:
        """`$filter=singleValueExtendedProperties/Any(ep: ep/id eq '..' and ep/value eq '..')`
        or `iCalUId eq '..'` — the two filters Graph offers for finding an event by UID —
        or `type eq 'seriesMaster'`. Like Graph's /events, it lists single events and
        series masters, never their instances."""
        if re.fullmatch(r"type eq 'seriesMaster'", odata_filter.strip(), re.IGNORECASE):
            with self.lock:
                return [
                    self.render(e, text_body=text_body, expand=expand)
                    for e in self.events.values()
                    if e["type"] == "seriesMaster"
                ]
        quoted = r"'((?:[^']|'')*)'"
        ext = re.fullmatch(
            rf"singleValueExtendedProperties/any\(ep:\s*ep/id eq {quoted} and ep/value eq {quoted}\)",
            odata_filter.strip(),
            re.IGNORECASE,
        )
        ical = re.fullmatch(rf"iCalUId eq {quoted}", odata_filter.strip(), re.IGNORECASE)
        if not ext and not ical:
            raise GraphError(
                400, "ErrorInvalidUrlQueryFilter", f"unsupported filter {odata_filter!r}"
            )
        with self.lock:
            out = []
            for event_id, event in self.events.items():
                if ext:
                    prop, value = (g.replace("''", "'") for g in ext.groups())
                    props = {k.lower(): v for k, v in self.extended.get(event_id, {}).items()}
                    # Exchange compares strings in $filter without regard to case, so
                    # 'abc' finds a property holding 'ABC' (issue 14)
                    hit = (props.get(prop.lower()) or "").casefold() == value.casefold()
                else:
                    assert ical is not None
                    hit = event["iCalUId"] == ical.group(1).replace("''", "'")
                if hit:
                    out.append(self.render(event, text_body=text_body, expand=expand))
            return out

    def overlaps(self, event: dict[str, Any], start: dt.datetime, end: dt.datetime) -> bool:
        if "_span" in event:
            ev_start, ev_end = event.pop("_span")
        else:
            ev_start = parse_time(event["start"]["dateTime"])
            ev_end = parse_time(event["end"]["dateTime"])
        if ev_start == ev_end:
            return start <= ev_start < end
        return ev_start < end and ev_end > start

    def delta_page(
        self, state: dict[str, Any], page_size: int, *, text_body: bool
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
        """One page of a delta round: (items, next skip state or None, delta state)."""
        with self.lock:
            if state.get("gen") != self.generation:
                raise GraphError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation was not found. Please start a new synchronization.",
                )
            start = parse_time(state["s"])
            end = parse_time(state["e"])
            since, upto = state["since"], state.get("upto", self.counter)
            after = tuple(state.get("after", (0, "")))
            rows: list[tuple[int, str, dict[str, Any]]] = []
            for event_id, seq in self.seq.items():
                if since < seq <= upto and (seq, event_id) > after:
                    event = self.instances.get(event_id) or self.events[event_id]
                    shown = self._delta_shape(event, text_body=text_body)
                    if shown is not None and self.overlaps(shown, start, end):
                        rows.append((seq, event_id, shown))
                    elif since:
                        rows.append((seq, event_id, self._removed(event_id)))
            if since:
                for event_id, seq in self.tombstones.items():
                    if since < seq <= upto and (seq, event_id) > after:
                        rows.append((seq, event_id, self._removed(event_id)))
            rows.sort(key=lambda row: (row[0], row[1]))
            page = rows[:page_size]
            base = {"s": state["s"], "e": state["e"], "gen": self.generation}
            delta_state = {**base, "since": upto}
            if len(rows) > page_size:
                last = page[-1]
                return (
                    [row[2] for row in page],
                    {**base, "since": since, "upto": upto, "after": [last[0], last[1]]},
                    delta_state,
                )
            return [row[2] for row in page], None, delta_state

    #: what `calendarView/delta` gives of an unmodified occurrence: nothing else
    #: (microsoft-graph-docs issue #7632, microsoft-graph-docs-contrib issue #34)
    SPARSE_OCCURRENCE = (
        "@odata.type",
        "@odata.etag",
        "id",
        "seriesMasterId",
        "type",
        "start",
        "end",
    )

    def _delta_shape(self, event: dict[str, Any], *, text_body: bool) -> dict[str, Any] | None:
        """An event as a delta page shows it, or None when the view does not list it."""
        out = self.render(event, text_body=text_body)
        out["@odata.type"] = "#microsoft.graph.event"
        if event["type"] == "occurrence":
            return {k: out[k] for k in self.SPARSE_OCCURRENCE}
        if event["type"] == "seriesMaster":
            # the master is listed too, with its first occurrence's start and end (as
            # reported in microsoft-graph-docs-contrib issue #34 and by other clients)
            mine = [v for v in self.instances.values() if v["seriesMasterId"] == event["id"]]
            if not mine:
                return None
            pattern = recurrence.originals(event)
            first_start, first_end = pattern[0][1], pattern[0][2]
            out["start"] = {"dateTime": graph_time(first_start), "timeZone": "UTC"}
            out["end"] = {"dateTime": graph_time(first_end), "timeZone": "UTC"}
            # it stands in the view wherever one of its instances does
            spans = [
                (parse_time(v["start"]["dateTime"]), parse_time(v["end"]["dateTime"])) for v in mine
            ]
            out["_span"] = (min(s for s, _ in spans), max(e for _, e in spans))
        return out

    @staticmethod
    def _removed(event_id: str) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.event",
            "id": event_id,
            "@removed": {"reason": "deleted"},
        }

    def expire_sync_state(self) -> None:
        with self.lock:
            self.generation += 1


def encode_state(state: dict[str, Any]) -> str:
    return _token(state)


def outlook_body(
    subject: str, start: dt.datetime, end: dt.datetime, **extra: Any
) -> dict[str, Any]:
    """A POST body as Outlook would create an event (no calsync UID property)."""
    return {
        "subject": subject,
        "start": {
            "dateTime": start.astimezone(dt.UTC).replace(tzinfo=None).isoformat(),
            "timeZone": "UTC",
        },
        "end": {
            "dateTime": end.astimezone(dt.UTC).replace(tzinfo=None).isoformat(),
            "timeZone": "UTC",
        },
        **extra,
    }
