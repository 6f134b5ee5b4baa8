"""Recurring series in Graph's `calendarView/delta`, as the real service sends them.

What a delta round really carries for a series (microsoft-graph-docs issue #7632,
microsoft-graph-docs-contrib issue #34, PR #4501, and other clients in production):

- each occurrence with only `@odata.type, @odata.etag, id, seriesMasterId, type,
  start, end` (the provider GETs the full event when the engine fetches it);
- the series master itself, with the start and end of the series' first
  occurrence: it is never an item of its own (calsync would otherwise copy the
  whole series into the CRM as one plain item, and a CRM edit or delete of that
  copy would PATCH or DELETE the whole series in Outlook);
- a deleted series as one `@removed` tombstone for the master, without `type`,
  and no entries for its occurrences;
- a deleted occurrence as no entry at all: only its master changes.

So the provider remembers each master's etag. When a master changed in an
incremental round, the series is reconciled by reading its instances over the
listed range (`GET /events/{master}/instances`): occurrences it no longer has leave
the listing (the engine trashes their CRM copies), new ones join it. When a master
is removed, all its occurrences leave the listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sync.providers.base import ConfigError
from sync.providers.graph.client import GraphClient, GraphHTTPError

MASTER_TYPE = "seriesMaster"


def is_master(entry: Mapping[str, Any]) -> bool:
    return entry.get("type") == MASTER_TYPE


def drop_series(items: dict[str, list[Any]], master_id: str) -> list[str]:
    """Remove every listed instance of a series; returns their ids."""
    gone = [item_id for item_id, row in items.items() if row[3] == master_id]
    for item_id in gone:
        del items[item_id]
    return gone


def read_instances(
    client: GraphClient,
    user_path: str,
    master_id: str,
    range_start: str,
    range_end: str,
    *,
    page_size: int,
    prefer: str,
) -> Iterator[dict[str, Any]] | None:
    """The series' occurrences and exceptions over the range (paged), or None when
    the master no longer exists (404: the series was deleted)."""
    path: str = f"{user_path}/events/{quote(master_id, safe='=-_')}/instances"
    params: dict[str, str] | None = {
        "startDateTime": range_start,
        "endDateTime": range_end,
        "$select": "id,type,seriesMasterId,start,end,isAllDay",
        "$top": str(min(page_size, 1000)),
    }
    pages: list[list[dict[str, Any]]] = []
    while True:
        try:
            page = client.request("GET", path, params=params, headers={"Prefer": prefer}).json()
        except GraphHTTPError as exc:
            if exc.status == 404 or exc.code == "ErrorItemNotFound":
                return None
            raise
        pages.append([e for e in page.get("value") or () if isinstance(e, dict)])
        next_link = page.get("@odata.nextLink")
        if not next_link:
            break
        path, params = str(next_link), None
    return (entry for page_entries in pages for entry in page_entries)


class SeriesWrites:
    """Series calsync wrote to in this run.

    Exchange keeps a series' exceptions and deleted occurrences inside its master, and
    an unmodified occurrence's change key follows the master's: editing or deleting
    one occurrence changes the etag of every other. A second write to the same series
    in one run would then fail its If-Match although nobody else touched it. It is
    retried once with the fresh etag when the occurrence is still unmodified
    (`type` occurrence: its fields all come from the master, which only calsync's
    own write changed since the listing).
    """

    def __init__(self) -> None:
        self._masters: set[str] = set()

    def wrote(self, master_id: str | None) -> None:
        if master_id:
            self._masters.add(master_id)

    def retry_etag(self, item_id: str, get: Callable[[str], dict[str, Any] | None]) -> str | None:
        if not self._masters:
            return None
        data = get(item_id)
        if (
            data is None
            or data.get("type") != "occurrence"
            or data.get("seriesMasterId") not in self._masters
        ):
            return None
        etag = str(data.get("@odata.etag") or "")
        # at most once per item: the master only calsync changed gets one more chance
        self._masters.discard(str(data["seriesMasterId"]))
        return etag or None


#: the longest calendar view Graph serves: "The range between the start and end dates
#: is greater than the allowed range. Maximum number of days: 1825" (ErrorInvalidRequest;
#: microsoft-graph-docs issue #6284). calsync widens the window to whole months, which
#: adds up to two months: window_past_days + window_future_days must stay under about 1760.
MAX_VIEW_DAYS = 1825


def check_view_span(start: datetime, end: datetime, mailbox: str) -> None:
    """Refuse a sync window Graph would refuse, before asking, in one line."""
    days = (end - start).total_seconds() / 86400
    if days > MAX_VIEW_DAYS:
        raise ConfigError(
            f"graph:{mailbox}: the sync window widened to whole months spans {days:.0f} days; "
            f"Microsoft Graph serves at most {MAX_VIEW_DAYS} (lower window_past_days + "
            "window_future_days to 1760 or less)"
        )
