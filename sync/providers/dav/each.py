"""CalDAV requests one resource at a time, for servers whose bulk answers say too little.

sabre/dav 1.8 (Debian's php-sabre-dav, still inside older Baïkal installs) answers a
whole `calendar-multiget` REPORT with `404 Not Found` when one of its hrefs no longer
exists (`Sabre\\CalDAV\\Plugin::calendarMultiGetReport` asks the tree for every href and
lets the first `NotFound` end the request), and a PUT or DELETE with `If-Match` on a
resource that is gone with `412 Precondition Failed` (RFC 7232 §3.1: If-Match is false
when there is no current representation). Neither means what it seems: the calendar
is there, and the item is gone rather than changed. The functions here find out which,
with requests every CalDAV server answers plainly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sync.providers.base import CalendarNotFound, EtagMismatch, ItemNotFound, ProviderError
from sync.providers.dav.http import host_of

#: (method, url, body, headers) -> the caldav library's response
Request = Callable[[str, str, str, Mapping[str, str]], Any]

_PROPFIND_RESOURCETYPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>'
)


def response_text(response: Any) -> str:
    """The body of a caldav library response as text (undecodable bytes replaced)."""
    raw = response._raw_body or (
        response._raw.encode() if isinstance(response._raw, str) else response._raw
    )
    return bytes(raw or b"").decode("utf-8", errors="replace")


def confirm_collection(request: Request, collection_url: str) -> None:
    """Raise CalendarNotFound unless a PROPFIND (Depth 0) finds the collection."""
    response = request(
        "PROPFIND",
        collection_url,
        _PROPFIND_RESOURCETYPE,
        {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"},
    )
    if response.status in (404, 410):
        raise CalendarNotFound(f"calendar {collection_url} does not exist (HTTP {response.status})")
    if response.status not in (200, 207):
        raise ProviderError(
            f"{host_of(collection_url)}: PROPFIND of the calendar answered HTTP {response.status}"
        )


def fetch_each(
    request: Request, collection_url: str, hrefs: Mapping[str, str]
) -> dict[str, tuple[str, str] | None]:
    """item id -> (etag, data), or None where the item is gone; one GET per href.

    For a bulk REPORT the server refused as a whole with 404: the collection is
    confirmed first, so a calendar that really is gone is still reported as such.
    """
    confirm_collection(request, collection_url)
    found: dict[str, tuple[str, str] | None] = {}
    for item_id, href in hrefs.items():
        if href.rstrip("/") == collection_url.rstrip("/"):
            found[item_id] = None  # an empty id names the collection, not an item
            continue
        response = request("GET", href, "", {"Accept": "text/calendar"})
        if response.status in (404, 410):
            found[item_id] = None
        elif response.status == 200:
            found[item_id] = (response.headers.get("ETag") or "", response_text(response))
        else:
            raise ProviderError(
                f"{host_of(collection_url)}: GET {item_id} answered HTTP {response.status}"
            )
    return found


def precondition_failed(request: Request, href: str, item_id: str, etag: str) -> ProviderError:
    """What a 412 to a write with `If-Match: etag` means: gone, or changed since read."""
    response = request("HEAD", href, "", {})
    if response.status in (404, 410):
        return ItemNotFound(item_id)
    return EtagMismatch(item_id, etag)


def fetch_ids(
    request: Request, collection_url: str, ids: Sequence[str], href_of: Callable[[str], str]
) -> dict[str, tuple[str, str] | None]:
    return fetch_each(request, collection_url, {i: href_of(i) for i in ids})
