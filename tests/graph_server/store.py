"""In-memory Exchange Online mailboxes as Microsoft Graph shows them.

Each mailbox keeps its events as Graph JSON (times stored in UTC), a change
sequence for `calendarView/delta`, tombstones for deletions and a sync-state
generation: bumping it makes every outstanding delta/skip token answer 410, the
way Exchange drops old sync states.
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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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
            value = value.replace(tzinfo=dt.UTC if zone == "UTC" else ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise GraphError(400, "TimeZoneNotSupportedException", f"{zone!r}") from exc
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
}


@dataclass
class Mailbox:
    address: str
    #: in the application access policy's scope
    allowed: bool = True
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    calendar_id: str = field(default_factory=_new_id)
    can_edit: bool = True
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: extended properties per event id: property id -> value
    extended: dict[str, dict[str, str]] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)
    counter: int = 0
    generation: int = 1
    requests: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- writes ----------------------------------------------------------------------

    def _touch(self, event_id: str) -> None:
        self.counter += 1
        self.seq[event_id] = self.counter
        event = self.events[event_id]
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

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
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
                "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
                "subject": "",
                "body": {"contentType": "text", "content": ""},
                "importance": "normal",
                "sensitivity": "normal",
                "isAllDay": False,
                "isCancelled": False,
                "isOrganizer": True,
                "responseRequested": True,
                "seriesMasterId": None,
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
            event = self._get(event_id)
            self._check_etag(event, if_match)
            if "transactionId" in body and body["transactionId"] != event.get("transactionId"):
                raise GraphError(400, "ErrorInvalidRequest", "transactionId cannot be changed.")
            trial = copy.deepcopy(event)
            self._apply(trial, body)
            self.events[event_id] = trial
            self._touch(event_id)
            return copy.deepcopy(trial)

    def delete(self, event_id: str, if_match: str | None = None) -> None:
        with self.lock:
            event = self._get(event_id)
            self._check_etag(event, if_match)
            del self.events[event_id]
            self.extended.pop(event_id, None)
            self.seq.pop(event_id, None)
            self.counter += 1
            self.tombstones[event_id] = self.counter

    # -- reads -----------------------------------------------------------------------

    def get(
        self, event_id: str, *, text_body: bool = False, expand: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            return self.render(self._get(event_id), text_body=text_body, expand=expand)

    def render(
        self, event: dict[str, Any], *, text_body: bool, expand: str | None = None
    ) -> dict[str, Any]:
        out = copy.deepcopy(event)
        out.pop("transactionId", None)
        if text_body and out.get("body", {}).get("contentType") == "html":
            out["body"] = {"contentType": "text", "content": _strip_html(out["body"]["content"])}
        if expand is not None:
            props = self.extended.get(event["id"], {})
            wanted = re.findall(r"id eq '([^']+)'", expand)
            out["singleValueExtendedProperties"] = [
                {"id": key, "value": value}
                for key, value in props.items()
                if not wanted or key.lower() in {w.lower() for w in wanted}
            ]
        return out

    def find(self, odata_filter: str, *, text_body: bool) -> list[dict[str, Any]]:
        """`$filter=singleValueExtendedProperties/Any(ep: ep/id eq '..' and ep/value eq '..')`
        or `iCalUId eq '..'` — the two filters Graph offers for finding an event by UID."""
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
                    hit = props.get(prop.lower()) == value
                else:
                    assert ical is not None
                    hit = event["iCalUId"] == ical.group(1).replace("''", "'")
                if hit:
                    out.append(self.render(event, text_body=text_body))
            return out

    def overlaps(self, event: dict[str, Any], start: dt.datetime, end: dt.datetime) -> bool:
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
                    event = self.events[event_id]
                    if self.overlaps(event, start, end):
                        rows.append((seq, event_id, self.render(event, text_body=text_body)))
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
