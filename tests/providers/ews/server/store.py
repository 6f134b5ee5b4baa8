"""The in-memory Exchange organisation behind the EWS test server.

Mailboxes hold one calendar folder each. Ids encode their mailbox, as real EWS
ids do (they are opaque to clients but bound to one store), so a request with an
id from another mailbox fails the way Exchange fails it: ErrorItemNotFound.

Recurring series: a RecurringMaster item carries a simple pattern (daily, weekly
or yearly, with a count), expanded in the master's own time zone so occurrences
keep their wall-clock time across daylight-saving changes. A calendar view lists
occurrences, never the master, each under an id of its own that names the master
and the original start. Editing an occurrence makes it an Exception (its own
changekey); deleting one records it as a deleted occurrence; changing the pattern
drops every exception and deletion, as Exchange does.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule
from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

#: what a real ErrorServerBusy asks for: exchangelib's own fixture of a throttled
#: response carries BackOffMilliseconds 297749 (about five minutes; issue 14)
BACK_OFF_MS = 297_749


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def make_id(kind: str, mailbox: str, n: int) -> str:
    raw = f"{kind}:{mailbox}:{n}".encode()
    return base64.b64encode(b"AAMk" + raw).decode()


def parse_id(value: str) -> tuple[str, str] | None:
    """(kind, mailbox) of an id this server minted, else None."""
    try:
        raw = base64.b64decode(value.encode(), validate=True)
    except ValueError:
        return None
    if not raw.startswith(b"AAMk"):
        return None
    kind, _, rest = raw[4:].decode(errors="replace").partition(":")
    mailbox, _, _ = rest.rpartition(":")
    return kind, mailbox


@dataclass(frozen=True)
class Recurrence:
    """A RecurringMaster's pattern: FREQ (DAILY, WEEKLY, YEARLY) with a count."""

    freq: str
    count: int
    interval: int = 1


@dataclass
class StoredItem:
    """One calendar item, its fields in EWS terms (times in UTC)."""

    id: str
    changekey: str
    fields: dict[str, Any]
    #: bumped on every change; the changekey is derived from it
    version: int = 1
    #: a RecurringMaster's pattern, its deleted occurrences (original starts, UTC)
    #: and its exceptions (original start -> the changed fields, as an item)
    recurrence: Recurrence | None = None
    deleted: set[datetime] = field(default_factory=set)
    exceptions: dict[datetime, StoredItem] = field(default_factory=dict)


def _zone(windows_id: str | None) -> ZoneInfo:
    if not windows_id or windows_id == "UTC":
        return ZoneInfo("UTC")
    return ZoneInfo(MS_TIMEZONE_TO_IANA_MAP.get(windows_id, "UTC"))


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def occurrence_id(master: StoredItem, mailbox: str, original: datetime) -> str:
    raw = f"occ:{mailbox}:{master.id}@{_stamp(original)}".encode()
    return base64.b64encode(b"AAMk" + raw).decode()


def parse_occurrence_id(value: str) -> tuple[str, datetime] | None:
    """(master id, original start) of an occurrence id, else None."""
    try:
        raw = base64.b64decode(value.encode(), validate=True).decode(errors="replace")
    except ValueError:
        return None
    if not raw.startswith("AAMkocc:"):
        return None
    master_id, _, stamp = raw.rpartition(":")[2].partition("@")
    return master_id, datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def original_starts(master: StoredItem) -> list[tuple[datetime, datetime, datetime]]:
    """(original start, start, end) in UTC of every occurrence the pattern makes,
    deleted ones included, worked out in the master's own time zone."""
    pattern = master.recurrence
    if pattern is None:
        return []
    zone = _zone(master.fields.get("StartTimeZone"))
    first = master.fields["Start"].astimezone(zone).replace(tzinfo=None)
    length = master.fields["End"].astimezone(zone).replace(tzinfo=None) - first
    freq = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "YEARLY": rrule.YEARLY}[pattern.freq]
    out = []
    for wall in rrule.rrule(freq, dtstart=first, count=pattern.count, interval=pattern.interval):
        start = wall.replace(tzinfo=zone).astimezone(UTC)
        out.append((start, start, (wall + length).replace(tzinfo=zone).astimezone(UTC)))
    return out


def materialize(master: StoredItem, mailbox: str, original: datetime) -> StoredItem | None:
    """The occurrence of `master` at `original` as an item, or None if there is none."""
    for orig, start, end in original_starts(master):
        if orig != original:
            continue
        if orig in master.deleted:
            return None
        fields = dict(master.fields)
        fields.update(Start=start, End=end, CalendarItemType="Occurrence", OriginalStart=orig)
        item_id = occurrence_id(master, mailbox, orig)
        exception = master.exceptions.get(orig)
        if exception is not None:
            for name, value in exception.fields.items():
                if value is None:  # a DeleteItemField on the occurrence
                    fields.pop(name, None)
                else:
                    fields[name] = value
            fields["CalendarItemType"] = "Exception"
            return StoredItem(item_id, exception.changekey, fields, exception.version)
        key = base64.b64encode(f"OC{master.changekey}{_stamp(orig)}".encode()).decode()
        return StoredItem(item_id, key, fields, master.version)
    return None


def occurrences(master: StoredItem, mailbox: str) -> list[StoredItem]:
    found = (materialize(master, mailbox, orig) for orig, _, _ in original_starts(master))
    return [o for o in found if o is not None]


@dataclass
class Mailbox:
    smtp: str
    calendar_id: str
    #: the calendar folder's DisplayName ("Calendar" in an English mailbox; users rename
    #: it, and other languages' mailboxes call it "Kalender", "予定表", ...)
    calendar_name: str = "Calendar"
    items: dict[str, StoredItem] = field(default_factory=dict)
    #: service accounts holding ApplicationImpersonation over this mailbox
    impersonators: set[str] = field(default_factory=set)
    #: accounts with delegate (full mailbox / calendar editor) access
    delegates: set[str] = field(default_factory=set)
    #: accounts with read-only delegate access (Reviewer)
    readers: set[str] = field(default_factory=set)


@dataclass
class RecordedRequest:
    service: str
    user: str
    #: the mailbox named in an ExchangeImpersonation header, if any
    impersonated: str | None
    #: attributes of the operation element (SendMeetingInvitations, ...)
    attrs: dict[str, str]
    body: str


class Organisation:
    """Accounts, mailboxes and the request log; every public method is thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, str] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.requests: list[RecordedRequest] = []
        self._counter = itertools.count(1)
        #: pending ErrorServerBusy answers: (service or None for any, back-off ms)
        self._busy: list[tuple[str | None, int, str | None]] = []
        #: requests still to answer with a throttling 401
        self.throttle_401 = 0
        #: pending lost replies: (service, "reset" | "500"), see `lose_reply`
        self._lost: list[tuple[str, str]] = []

    # -- setup used by tests ------------------------------------------------------------

    def add_account(self, username: str, password: str) -> None:
        with self.lock:
            self.accounts[username] = password

    def add_mailbox(
        self,
        smtp: str,
        *,
        impersonators: tuple[str, ...] = (),
        delegates: tuple[str, ...] = (),
        readers: tuple[str, ...] = (),
    ) -> Mailbox:
        with self.lock:
            box = Mailbox(
                smtp=smtp,
                calendar_id=make_id("folder", smtp, next(self._counter)),
                impersonators=set(impersonators),
                delegates=set(delegates),
                readers=set(readers),
            )
            self.mailboxes[smtp.lower()] = box
            return box

    def mailbox(self, smtp: str) -> Mailbox | None:
        with self.lock:
            return self.mailboxes.get(smtp.lower())

    def recreate_calendar(self, smtp: str) -> None:
        """The mailbox gets a new, empty calendar folder (a different calendar: R10)."""
        with self.lock:
            box = self.mailboxes[smtp.lower()]
            box.calendar_id = make_id("folder", smtp, next(self._counter))
            box.items.clear()

    def busy(
        self,
        count: int = 1,
        *,
        back_off_ms: int = BACK_OFF_MS,
        service: str | None = None,
        mailbox: str | None = None,
    ) -> None:
        """Answer the next `count` requests (of `service`, for `mailbox`) with ErrorServerBusy."""
        with self.lock:
            self._busy.extend([(service, back_off_ms, mailbox)] * count)

    def throttle_with_401(self, count: int = 1) -> None:
        """Answer the next `count` requests with HTTP 401 although the credentials are
        right: "EWS sometimes throws 401's when it wants us to throttle connections"
        (exchangelib's protocol.py, which retries them)."""
        with self.lock:
            self.throttle_401 += count

    def take_busy(self, service: str, mailbox: str | None = None) -> int | None:
        with self.lock:
            for i, (wanted, back_off, box) in enumerate(self._busy):
                if box is not None and (mailbox or "").lower() != box.lower():
                    continue
                if wanted is None or wanted == service:
                    del self._busy[i]
                    return back_off
            return None

    def clear_busy(self) -> None:
        with self.lock:
            self._busy.clear()
            self._lost.clear()

    def lose_reply(self, service: str, how: str = "reset", count: int = 1) -> None:
        """Carry out the next `count` `service` requests, then lose their answers.

        how = "reset": the connection is reset once the operation is done (a proxy or a
        network dropping it); "500": a SOAP fault ErrorInternalServerError stands in for
        the answer. Either way the item was written, as on a real server whose answer
        never reached the client.
        """
        assert how in ("reset", "500"), how
        with self.lock:
            self._lost.extend([(service, how)] * count)

    def take_lost(self, service: str) -> str | None:
        with self.lock:
            for i, (wanted, how) in enumerate(self._lost):
                if wanted == service:
                    del self._lost[i]
                    return how
            return None

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def calls(self, service: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.service == service]

    # -- items ------------------------------------------------------------------------

    def new_item(self, box: Mailbox, fields: dict[str, Any]) -> StoredItem:
        with self.lock:
            item_id = make_id("item", box.smtp, next(self._counter))
            now = utcnow()
            fields.setdefault("DateTimeCreated", now)
            fields["LastModifiedTime"] = now
            fields.setdefault("CalendarItemType", "Single")
            item = StoredItem(id=item_id, changekey="", fields=fields)
            item.changekey = self._changekey(item)
            box.items[item_id] = item
            return item

    def touch(self, item: StoredItem) -> None:
        with self.lock:
            item.version += 1
            item.fields["LastModifiedTime"] = utcnow()
            item.changekey = self._changekey(item)

    @staticmethod
    def _changekey(item: StoredItem) -> str:
        return base64.b64encode(f"DwAAABYA{item.id[-6:]}v{item.version}".encode()).decode()

    def seed(self, smtp: str, **fields: Any) -> StoredItem:
        """Put an item straight into a mailbox (as if a user made it in Outlook)."""
        with self.lock:
            box = self.mailboxes[smtp.lower()]
            values: dict[str, Any] = {
                "Subject": "",
                "LegacyFreeBusyStatus": "Busy",
                "Sensitivity": "Normal",
                "ReminderIsSet": False,
                "ReminderMinutesBeforeStart": 15,
                "IsAllDayEvent": False,
                "Body": ("Text", ""),
                "StartTimeZone": "UTC",
                "EndTimeZone": "UTC",
            }
            values.update(fields)
            values.setdefault("UID", f"seed-{next(self._counter)}@exchange.test")
            return self.new_item(box, values)

    def edit(self, smtp: str, item_id: str, **fields: Any) -> StoredItem:
        """Change an item server-side (a user editing it in Outlook)."""
        with self.lock:
            item = self.mailboxes[smtp.lower()].items[item_id]
            item.fields.update(fields)
            self.touch(item)
            return item

    def remove(self, smtp: str, item_id: str) -> None:
        with self.lock:
            del self.mailboxes[smtp.lower()].items[item_id]

    # -- recurring series (as a user makes them in Outlook) ----------------------------

    def seed_series(self, smtp: str, recurrence: Recurrence, **fields: Any) -> StoredItem:
        with self.lock:
            master = self.seed(smtp, CalendarItemType="RecurringMaster", **fields)
            master.recurrence = recurrence
            return master

    def set_recurrence(
        self, smtp: str, master_id: str, recurrence: Recurrence, **fields: Any
    ) -> StoredItem:
        """A new pattern (and fields): like Exchange, every exception and deletion goes."""
        with self.lock:
            master = self.mailboxes[smtp.lower()].items[master_id]
            master.recurrence = recurrence
            master.deleted.clear()
            master.exceptions.clear()
            master.fields.update(fields)
            self.touch(master)
            return master

    def delete_occurrence(self, smtp: str, master_id: str, original: datetime) -> None:
        with self.lock:
            master = self.mailboxes[smtp.lower()].items[master_id]
            master.deleted.add(original.astimezone(UTC))
            master.exceptions.pop(original.astimezone(UTC), None)

    def edit_occurrence(
        self, smtp: str, master_id: str, original: datetime, **fields: Any
    ) -> StoredItem:
        """Change one occurrence: it becomes an Exception with a changekey of its own."""
        with self.lock:
            box = self.mailboxes[smtp.lower()]
            master = box.items[master_id]
            original = original.astimezone(UTC)
            exception = master.exceptions.get(original)
            if exception is None:
                item_id = occurrence_id(master, box.smtp, original)
                exception = master.exceptions[original] = StoredItem(item_id, "", {}, 0)
            exception.fields.update(fields)
            exception.version += 1
            exception.fields["LastModifiedTime"] = utcnow()
            exception.changekey = base64.b64encode(
                f"EX{_stamp(original)}v{exception.version}".encode()
            ).decode()
            return exception

    def occurrences(self, smtp: str, master_id: str) -> list[StoredItem]:
        with self.lock:
            box = self.mailboxes[smtp.lower()]
            return occurrences(box.items[master_id], box.smtp)
