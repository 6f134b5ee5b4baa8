"""The in-memory Exchange organisation behind the EWS test server.

Mailboxes hold one calendar folder each. Ids encode their mailbox, as real EWS
ids do (they are opaque to clients but bound to one store), so a request with an
id from another mailbox fails the way Exchange fails it: ErrorItemNotFound.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


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


@dataclass
class StoredItem:
    """One calendar item, its fields in EWS terms (times in UTC)."""

    id: str
    changekey: str
    fields: dict[str, Any]
    #: bumped on every change; the changekey is derived from it
    version: int = 1


@dataclass
class Mailbox:
    smtp: str
    calendar_id: str
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
        self._busy: list[tuple[str | None, int]] = []

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

    def busy(self, count: int = 1, *, back_off_ms: int = 50, service: str | None = None) -> None:
        """Answer the next `count` requests (of `service`) with ErrorServerBusy."""
        with self.lock:
            self._busy.extend([(service, back_off_ms)] * count)

    def take_busy(self, service: str) -> int | None:
        with self.lock:
            for i, (wanted, back_off) in enumerate(self._busy):
                if wanted is None or wanted == service:
                    del self._busy[i]
                    return back_off
            return None

    def clear_busy(self) -> None:
        with self.lock:
            self._busy.clear()

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
