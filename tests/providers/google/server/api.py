"""The events endpoints of the Google test server (rules and sources: server.py, store.py)."""

from __future__ import annotations

import base64
import copy
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tests.providers.google.server.store import (
    ID_RE,
    WRITABLE,
    Calendar,
    GoogleError,
    check_event,
    cleaned,
    instant,
    merge,
    new_etag,
    parse_time,
)

if TYPE_CHECKING:
    from tests.providers.google.server.server import GoogleTestServer

PREFIX = "/calendar/v3/calendars/"
#: "There are several query parameters that cannot be specified together with
#: nextSyncToken" (sync guide); showDeleted=false is refused as well
NOT_WITH_SYNC = {
    "timeMin", "timeMax", "iCalUID", "orderBy", "q", "updatedMin",
    "privateExtendedProperty", "sharedExtendedProperty",
}  # fmt: skip
NOT_FOUND = GoogleError(404, "notFound", "Not Found")


def stamp() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return base64.b32hexencode(secrets.token_bytes(15)).decode().lower()


class Api:
    def __init__(self, server: GoogleTestServer) -> None:
        self.server = server
        #: sync token -> (calendar id, seq it was issued at, (timeMin, timeMax))
        self.sync_tokens: dict[str, tuple[str, int, tuple[str | None, str | None]]] = {}
        self.pages: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        subject: str,
        headers: Mapping[str, str],
    ) -> tuple[int, Any]:
        if not path.startswith(PREFIX):
            raise NOT_FOUND
        cal_id, _, rest = path[len(PREFIX) :].partition("/events")
        calendar = self.server.calendars.get(cal_id)
        role = calendar.role(subject) if calendar else None
        if calendar is None or role is None:
            raise NOT_FOUND  # Google hides calendars the user cannot see
        event_id = rest.lstrip("/")
        with self.server.lock:
            if not event_id:
                if method == "GET":
                    return 200, self.list(calendar, query, role)
                if method == "POST":
                    return 200, self.insert(calendar, query, body or {}, role)
            elif "/" not in event_id:
                if method == "GET":
                    found, _ = calendar.find(event_id)
                    if found is None:
                        raise NOT_FOUND
                    return 200, self.resource(calendar, found)
                if role not in ("owner", "writer"):
                    raise GoogleError(
                        403,
                        "requiredAccessLevel",
                        "You need to have writer access to this calendar.",
                    )
                if method in ("PATCH", "PUT"):
                    return 200, self.patch(calendar, event_id, query, body or {}, headers, method)
                if method == "DELETE":
                    self.delete(calendar, event_id, query, headers)
                    return 204, None
        raise GoogleError(404, "notFound", "Not Found")

    # -- output -----------------------------------------------------------------------------

    def resource(self, calendar: Calendar, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") == "cancelled" and event.get("_minimal", True):
            keep = ("id", "etag", "status", "recurringEventId", "originalStartTime")
            out = {k: copy.deepcopy(event[k]) for k in keep if k in event}
        else:
            out = cleaned(event)
            organizer = dict(out.get("organizer") or {"email": calendar.id})
            organizer["self"] = organizer.get("email") == calendar.id
            out["organizer"] = organizer
            for attendee in out.get("attendees") or ():
                attendee["self"] = attendee.get("email") == calendar.id
        out["kind"] = "calendar#event"
        return out

    # -- events.list --------------------------------------------------------------------------

    def list(self, calendar: Calendar, query: dict[str, str], role: str) -> dict[str, Any]:
        size = int(query.get("maxResults") or 250)
        if size < 1:
            raise GoogleError(400, "invalid", "Invalid value for: maxResults")
        size = min(size, 2500)  # "cannot be larger than 2500"
        if query.get("pageToken"):
            found = self.pages.pop(query["pageToken"], None)
            if found is None:
                raise GoogleError(400, "invalid", "Invalid page token value.")
            items, meta = found
        elif query.get("syncToken"):
            if NOT_WITH_SYNC & set(query) or query.get("showDeleted") == "false":
                raise GoogleError(
                    400,
                    "invalid",
                    "Invalid sync token request: parameter not allowed with syncToken.",
                )
            state = self.sync_tokens.get(query["syncToken"])
            if state is None or state[0] != calendar.id:
                raise GoogleError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            items = self._changes(calendar, state[1], state[2], query.get("singleEvents") == "true")
            meta = {"range": state[2], "seq": calendar.seq}
        else:
            low, high = query.get("timeMin"), query.get("timeMax")
            if (
                low
                and high
                and instant(parse_time({"dateTime": high}, "timeMax"))
                <= instant(parse_time({"dateTime": low}, "timeMin"))
            ):
                # the errors guide's own example: 400 timeRangeEmpty, location timeMax
                raise GoogleError(400, "timeRangeEmpty", "The specified time range is empty.")
            items = self._full(calendar, query)
            meta = {"range": (query.get("timeMin"), query.get("timeMax")), "seq": calendar.seq}
        page, rest = items[:size], items[size:]
        out: dict[str, Any] = {
            "kind": "calendar#events",
            # "summary: Title of the calendar. Read-only." (events.list reference)
            "summary": calendar.summary or calendar.id,
            "updated": stamp(),
            "timeZone": "Europe/Stockholm",
            "accessRole": role,
            "items": [self.resource(calendar, e) for e in page],
        }
        if rest:
            token = secrets.token_urlsafe(12)
            self.pages[token] = (rest, meta)
            out["nextPageToken"] = token  # and no nextSyncToken: only the last page has it
        elif "iCalUID" not in query:
            token = f"CP{secrets.token_urlsafe(16)}="
            self.sync_tokens[token] = (calendar.id, meta["seq"], meta["range"])
            out["nextSyncToken"] = token
        return out

    @staticmethod
    def _overlaps(event: dict[str, Any], time_min: str | None, time_max: str | None) -> bool:
        start = instant(parse_time(event["start"], "start"))
        end = instant(parse_time(event["end"], "end"))
        low = instant(parse_time({"dateTime": time_min}, "timeMin")) if time_min else None
        high = instant(parse_time({"dateTime": time_max}, "timeMax")) if time_max else None
        return (low is None or end > low) and (high is None or start < high)

    def _full(self, calendar: Calendar, query: dict[str, str]) -> list[dict[str, Any]]:
        single = query.get("singleEvents") == "true"
        pool = calendar.all_instances() if single else list(calendar.events.values())
        show_deleted = query.get("showDeleted") == "true"
        out = []
        for event in pool:
            if event.get("status") == "cancelled" and not show_deleted:
                continue
            if query.get("iCalUID") and event.get("iCalUID") != query["iCalUID"]:
                continue
            if "start" in event and not self._overlaps(
                event, query.get("timeMin"), query.get("timeMax")
            ):
                continue
            out.append(event)
        return out

    def _changes(
        self, calendar: Calendar, since: int, span: tuple[str | None, str | None], single: bool
    ) -> list[dict[str, Any]]:
        out = []
        for event in calendar.events.values():
            if event["_seq"] <= since and not event.get("_exceptions"):
                continue
            if not single or not event.get("recurrence") or event.get("status") == "cancelled":
                if event["_seq"] > since:
                    out.append(event)
                continue
            for instance in calendar.instances(event):
                if instance["_seq"] > since and self._overlaps(instance, *span):
                    out.append(instance)
        return out

    # -- writes -------------------------------------------------------------------------------

    def _mail(self, what: str, event_id: str, query: dict[str, str]) -> None:
        send = query.get("sendUpdates")
        if send != "none" or query.get("sendNotifications") == "true":
            self.server.mail_sent.append((what, event_id, send or "(Google's default)"))

    def _meeting(self, what: str, calendar: Calendar, event: dict[str, Any]) -> None:
        others = [a for a in event.get("attendees") or () if a.get("email") != calendar.id]
        if others:
            self.server.meeting_writes.append((what, event["id"]))

    def insert(
        self, calendar: Calendar, query: dict[str, str], body: dict[str, Any], role: str
    ) -> dict[str, Any]:
        if role not in ("owner", "writer"):
            raise GoogleError(
                403, "requiredAccessLevel", "You need to have writer access to this calendar."
            )
        event_id = body.get("id") or new_id()
        self._mail("insert", event_id, query)
        if not ID_RE.fullmatch(event_id):
            raise GoogleError(400, "invalid", "Invalid resource id value.")
        uid = body.get("iCalUID") or f"{event_id}@google.com"
        if event_id in calendar.events or any(
            e.get("iCalUID") == uid for e in calendar.events.values()
        ):
            raise GoogleError(409, "duplicate", "The requested identifier already exists.")
        data = {k: copy.deepcopy(v) for k, v in body.items() if k in WRITABLE and v is not None}
        for key in ("start", "end"):
            if isinstance(data.get(key), dict):
                data[key] = {k: v for k, v in data[key].items() if v is not None}
        data.setdefault("reminders", {"useDefault": True})
        data.update(
            id=event_id,
            iCalUID=uid,
            status=data.get("status", "confirmed"),
            created=stamp(),
            updated=stamp(),
            sequence=0,
            eventType=data.get("eventType", "default"),
            organizer=data.get("organizer") or {"email": calendar.id},
            creator={"email": calendar.id},
            etag=new_etag(),
        )
        check_event(data)
        self._meeting("insert", calendar, data)
        data["_seq"] = calendar.bump()
        calendar.events[event_id] = data
        return self.resource(calendar, data)

    def _precondition(self, event: dict[str, Any], headers: Mapping[str, str]) -> None:
        wanted = headers.get("If-Match")
        if wanted and wanted != event["etag"]:
            raise GoogleError(412, "conditionNotMet", "Precondition Failed", "global")

    def _organizer_only(self, calendar: Calendar, event: dict[str, Any]) -> None:
        organizer = (event.get("organizer") or {}).get("email", calendar.id)
        if organizer != calendar.id:
            raise GoogleError(
                403,
                "forbiddenForNonOrganizer",
                "Shared properties can only be changed by the organizer of the event.",
            )

    def patch(
        self, calendar: Calendar, event_id: str, query: dict[str, str], body: dict[str, Any],
        headers: Mapping[str, str], method: str,
    ) -> dict[str, Any]:  # fmt: skip
        event, master = calendar.find(event_id)
        if event is None:
            raise NOT_FOUND
        self._mail("patch", event_id, query)
        self._precondition(event, headers)
        if event.get("status") == "cancelled":
            raise GoogleError(410, "deleted", "Resource has been deleted")
        self._organizer_only(calendar, event)
        self._meeting("patch", calendar, event)
        changes = {k: v for k, v in body.items() if k in WRITABLE - {"id", "iCalUID", "recurrence"}}
        if master is not None:
            override = master.setdefault("_exceptions", {}).setdefault(event_id, {"data": {}})
            trial = copy.deepcopy(event)
            merge(trial, changes)
            check_event(trial)
            merge(override["data"], changes)
            override.update(etag=new_etag(), seq=calendar.bump())
            found, _ = calendar.find(event_id)
            assert found is not None
            return self.resource(calendar, found)
        trial = copy.deepcopy(event)
        if method == "PUT":
            trial = {k: v for k, v in trial.items() if k not in WRITABLE or k in ("id", "iCalUID")}
        merge(trial, changes)
        check_event(trial)
        trial.update(etag=new_etag(), updated=stamp(), sequence=int(event.get("sequence", 0)) + 1)
        trial["_seq"] = calendar.bump()
        calendar.events[event_id] = trial
        return self.resource(calendar, trial)

    def delete(
        self, calendar: Calendar, event_id: str, query: dict[str, str], headers: Mapping[str, str]
    ) -> None:
        event, master = calendar.find(event_id)
        if event is None:
            raise NOT_FOUND
        self._mail("delete", event_id, query)
        if event.get("status") == "cancelled":
            raise GoogleError(410, "deleted", "Resource has been deleted")
        self._precondition(event, headers)
        organizer = (event.get("organizer") or {}).get("email", calendar.id)
        if organizer != calendar.id:
            # removing an invitation declines it: Google tells the organizer
            self.server.mail_sent.append(("decline", event_id, "to the organizer"))
        self._meeting("delete", calendar, event)
        if master is not None:
            override = master.setdefault("_exceptions", {}).setdefault(event_id, {"data": {}})
            override["data"]["status"] = "cancelled"
            override.update(etag=new_etag(), seq=calendar.bump())
            return
        event.update(status="cancelled", etag=new_etag(), updated=stamp())
        event["_seq"] = calendar.bump()

    # -- for tests: what a Google user does in the web UI ---------------------------------

    def put_raw(self, calendar: Calendar, data: dict[str, Any]) -> dict[str, Any]:
        """Store an event as Google Calendar itself would (series, invitations, HTML)."""
        with self.server.lock:
            body = {**data, "id": data.get("id") or new_id()}
            plain = {k: v for k, v in body.items() if k not in ("organizer", "attendees")}
            event = self.insert(calendar, {"sendUpdates": "none"}, plain, "owner")
            stored = calendar.events[event["id"]]
            for key in ("organizer", "attendees", "eventType"):
                if key in data:
                    stored[key] = copy.deepcopy(data[key])
            return self.resource(calendar, stored)
