"""The calendars behind the Google test server: events, series, changes and sync tokens.

Rules, each after Google's reference (developers.google.com/workspace/calendar/api/v3
/reference/events, "…/guides/sync", "…/guides/errors"):

- an event `id` chosen by the client must be base32hex (a-v, 0-9), 5 to 1024
  characters (events.insert, "id"); one already used, even by a deleted event, is
  409 `duplicate` ("The requested identifier already exists"), and so is an
  `iCalUID` the calendar already holds (also Google's answer over CalDAV, issue 22);
- deleted events stay, `status: cancelled` (incremental sync reports them so);
- default values are left out of a resource (`transparency: opaque`,
  `visibility: default`): a client must not rely on seeing them;
- PATCH merges objects field by field and replaces arrays ("patch semantics");
  a time object with both `date` and `dateTime` is 400;
- each change gets a new etag; `If-Match` with another one is 412 `conditionNotMet`;
- `extendedProperties` keys over 44 characters are dropped, values over 1024
  characters refused (events resource, "extendedProperties");
- a reminder override's minutes lie in 0..40320, at most 5 overrides, and
  `useDefault: true` with overrides is 400 `cannotUseDefaultRemindersAndSpecifyOverride`;
- instances of a series (`singleEvents=true`) get ids `MASTER_20260302T090000Z`
  (`MASTER_20260302` all-day), the series' iCalUID, `recurringEventId` and
  `originalStartTime`; a deleted instance is a cancelled exception.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

ID_RE = re.compile(r"[a-v0-9]{5,1024}")
MAX_KEY, MAX_VALUE = 44, 1024
_etags = itertools.count(3181161784712000, 1371)


class GoogleError(Exception):
    def __init__(
        self, status: int, reason: str, message: str, domain: str = "global", retry_after: str = ""
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "errors": [{"domain": self.domain, "reason": self.reason, "message": self.message}],
                "code": self.status,
                "message": self.message,
            }
        }


def new_etag() -> str:
    return f'"{next(_etags)}"'


def parse_time(value: dict[str, Any] | None, what: str) -> dt.datetime | dt.date:
    if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
        raise GoogleError(400, "required", f"Missing {what} time.")
    if value.get("date") and value.get("dateTime"):
        raise GoogleError(400, "invalid", f"Invalid {what} time.")
    if value.get("date"):
        return dt.date.fromisoformat(value["date"])
    moment = dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    zone = value.get("timeZone")
    if zone:
        try:
            tz = ZoneInfo(zone)
        except Exception as exc:
            raise GoogleError(
                400, "timeZoneInvalid", f"Invalid time zone definition for {what} time."
            ) from exc
        moment = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
    elif moment.tzinfo is None:
        raise GoogleError(400, "required", f"Missing time zone definition for {what} time.")
    return moment


def instant(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def format_time(value: dt.datetime | dt.date, zone: str | None) -> dict[str, Any]:
    if not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    out: dict[str, Any] = {"dateTime": value.isoformat(timespec="seconds")}
    if zone:
        out["timeZone"] = zone
    return out


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and key not in ("start", "end")
        ):
            merge(target[key], value)
        elif (
            isinstance(value, dict)
            and key in ("start", "end")
            and isinstance(target.get(key), dict)
        ):
            merged = dict(target[key])
            for k, v in value.items():
                if v is None:
                    merged.pop(k, None)
                else:
                    merged[k] = v
            target[key] = merged
        else:
            target[key] = copy.deepcopy(value)


WRITABLE = {
    "summary", "description", "location", "start", "end", "transparency", "visibility",
    "reminders", "extendedProperties", "recurrence", "attendees", "colorId", "status",
    "iCalUID", "id", "eventType", "guestsCanModify",
}  # fmt: skip


def check_event(data: dict[str, Any]) -> None:
    """Validate a resource after a write: what events.insert/patch refuse."""
    start, end = parse_time(data.get("start"), "start"), parse_time(data.get("end"), "end")
    if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        raise GoogleError(
            400, "invalid", "Start and end times must either both be date or both be dateTime."
        )
    if instant(end) < instant(start):
        raise GoogleError(400, "timeRangeEmpty", "The specified time range is empty.")
    if data.get("visibility", "default") not in ("default", "public", "private", "confidential"):
        raise GoogleError(400, "invalid", "Invalid value for: visibility")
    if data.get("transparency", "opaque") not in ("opaque", "transparent"):
        raise GoogleError(400, "invalid", "Invalid value for: transparency")
    reminders = data.get("reminders") or {}
    overrides = reminders.get("overrides") or []
    if reminders.get("useDefault") and overrides:
        raise GoogleError(
            400,
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
        )
    if len(overrides) > 5 or any(not 0 <= int(o.get("minutes", -1)) <= 40320 for o in overrides):
        raise GoogleError(400, "invalid", "Invalid value for: reminders.overrides")
    for scope in ("private", "shared"):
        props = (data.get("extendedProperties") or {}).get(scope) or {}
        for key in [k for k in props if len(k) > MAX_KEY]:
            del props[key]  # "properties with longer keys will be silently dropped"
        if any(len(str(v)) > MAX_VALUE for v in props.values()):
            raise GoogleError(400, "invalid", "Invalid value for: extendedProperties")


def cleaned(data: dict[str, Any]) -> dict[str, Any]:
    """The resource as Google answers it: defaults left out, times in their zone."""
    out = {k: copy.deepcopy(v) for k, v in data.items() if not k.startswith("_")}
    if out.get("transparency") == "opaque":
        del out["transparency"]
    if out.get("visibility") == "default":
        del out["visibility"]
    for key in ("start", "end", "originalStartTime"):
        if key in out:
            value = out[key]
            out[key] = format_time(parse_time(value, key), value.get("timeZone"))
    return out


@dataclass
class Calendar:
    id: str
    owner: str
    #: subject -> "owner" | "writer" | "reader"
    access: dict[str, str] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    #: the calendar's title; a primary calendar's is its owner's address (the id)
    summary: str = ""

    def role(self, subject: str) -> str | None:
        return "owner" if subject == self.owner else self.access.get(subject)

    def bump(self) -> int:
        self.seq += 1
        return self.seq

    # -- series -------------------------------------------------------------------------

    def instances(self, master: dict[str, Any]) -> list[dict[str, Any]]:
        """Every instance of a series (exceptions applied, cancelled ones marked)."""
        start = parse_time(master["start"], "start")
        end = parse_time(master["end"], "end")
        length = instant(end) - instant(start)
        all_day = not isinstance(start, dt.datetime)
        first = start if not all_day else dt.datetime(start.year, start.month, start.day)
        rule = rrulestr("\n".join(master.get("recurrence") or ()), dtstart=first)
        out = []
        for when in itertools.islice(rule, 1000):
            if all_day:
                day = when.date()
                suffix, original = day.strftime("%Y%m%d"), {"date": day.isoformat()}
                s: dt.date | dt.datetime = day
                e: dt.date | dt.datetime = day + dt.timedelta(days=length.days)
            else:
                suffix = when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
                original = format_time(when, master["start"].get("timeZone"))
                s, e = when, when + length
            instance = {k: copy.deepcopy(v) for k, v in master.items() if k not in ("recurrence",)}
            instance.update(
                id=f"{master['id']}_{suffix}",
                recurringEventId=master["id"],
                originalStartTime=original,
                start=format_time(s, master["start"].get("timeZone")),
                end=format_time(e, master["end"].get("timeZone")),
            )
            override = master.get("_exceptions", {}).get(instance["id"])
            if override:
                merge(instance, override["data"])
                instance["_seq"] = max(master["_seq"], override["seq"])
                instance["etag"] = override["etag"]
            else:
                instance["etag"] = f'"{master["etag"].strip(chr(34))}{suffix[-6:]}"'
            out.append(instance)
        return out

    def find(self, event_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the event or instance, its master or None)."""
        if event_id in self.events:
            return self.events[event_id], None
        master_id, sep, _ = event_id.rpartition("_")
        master = self.events.get(master_id) if sep else None
        if master is None or not master.get("recurrence"):
            return None, None
        for instance in self.instances(master):
            if instance["id"] == event_id:
                return instance, master
        return None, None

    def all_instances(self) -> list[dict[str, Any]]:
        """Every single event and every instance (`singleEvents=true`), cancelled ones too."""
        out: list[dict[str, Any]] = []
        for event in self.events.values():
            if event.get("recurrence") and event.get("status") != "cancelled":
                out.extend(self.instances(event))
            else:
                out.append(event)
        return out
