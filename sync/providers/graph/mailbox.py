"""One mailbox's calendar resources on Graph: its paths, its calendar, an event by id,
the event holding a UID, and the UIDs of its series masters."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sync.providers.base import ItemNotFound, ProviderError
from sync.providers.graph.client import PREFER_TEXT, PREFER_TZ, GraphClient, GraphHTTPError
from sync.providers.graph.mapping import UID_PROPERTY, uid_of
from sync.providers.graph.zones import ZONE_PROPERTY

#: the extended properties calsync reads with every event: its UID and time zones
EXPAND_UID = (
    f"singleValueExtendedProperties($filter=id eq '{UID_PROPERTY}' or id eq '{ZONE_PROPERTY}')"
)
#: GetItem answers for an occurrence its series no longer has (Exchange's own codes)
NO_OCCURRENCE = (
    "ErrorItemNotFound",
    "ErrorInvalidIdMalformed",
    "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
)


class MailboxCalendar:
    """The REST resources of `mailbox`'s default calendar, through one GraphClient."""

    def __init__(self, client: GraphClient, mailbox: str, page_size: int) -> None:
        self.client = client
        self.mailbox = mailbox
        self.page_size = page_size
        self._calendar: dict[str, Any] | None = None

    def user_path(self, suffix: str = "") -> str:
        return f"/users/{quote(self.mailbox, safe='@')}{suffix}"

    def event_path(self, item_id: str) -> str:
        return self.user_path(f"/events/{quote(item_id, safe='=-_')}")

    def calendar(self) -> dict[str, Any]:
        """The calendar resource (asked once)."""
        if self._calendar is None:
            data = self.client.request("GET", self.user_path("/calendar")).json()
            if not isinstance(data, dict) or not data.get("id"):
                raise ProviderError(f"Graph returned no calendar for {self.mailbox}")
            self._calendar = data
        return self._calendar

    def get_event(self, item_id: str) -> dict[str, Any] | None:
        """The event, or None when Graph confirms it gone."""
        try:
            response = self.client.request(
                "GET",
                self.event_path(item_id),
                params={"$expand": EXPAND_UID},
                headers={"Prefer": f"{PREFER_TZ}, {PREFER_TEXT}"},
            )
        except GraphHTTPError as exc:
            # only 404 / ErrorItemNotFound (and the codes of an occurrence its series no
            # longer has) confirm an item gone; any other 400 is a request error, and
            # taking it for a deletion would trash the CRM copy
            if exc.status == 404 or exc.code in NO_OCCURRENCE:
                return None
            raise
        except ItemNotFound:
            return None
        data = response.json()
        return data if isinstance(data, dict) else None

    def uid_holder(self, uid: str) -> str | None:
        """The id of the event already carrying calsync UID `uid`, if any."""
        literal = uid.replace("'", "''")
        response = self.client.request(
            "GET",
            self.user_path("/calendar/events"),
            params={
                "$filter": (
                    f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' "
                    f"and ep/value eq '{literal}')"
                ),
                "$select": "id",
                "$expand": EXPAND_UID,
                "$top": "25",
            },
        )
        # Exchange compares the value without regard to case: 'abc' finds 'ABC', which
        # is another UID, so only an exact match is a clash
        found = [e for e in response.json().get("value") or () if uid_of(e) == uid]
        return str(found[0].get("id")) if found else None

    def learn_masters(self, masters: dict[str, str]) -> None:
        """Add {master id: the series' UID} of every series master of the calendar to
        `masters`, in one paged listing."""
        path: str = self.user_path("/calendar/events")
        params: dict[str, str] | None = {
            "$filter": "type eq 'seriesMaster'",
            "$select": "id,iCalUId",
            "$expand": EXPAND_UID,
            "$top": str(min(self.page_size, 1000)),
        }
        while True:
            page = self.client.request("GET", path, params=params).json()
            for master in page.get("value") or ():
                if master.get("id"):
                    masters[str(master["id"])] = uid_of(master)
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return
            path, params = str(next_link), None
