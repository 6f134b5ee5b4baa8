"""A sync-collection reply (RFC 6578) read with ElementTree, as caldav's parser reads it.

A first run, and every run after a change, lists the calendar with one
sync-collection REPORT. `probe` sends it over the standard library when it can,
and `Reply.parse_sync_collection` hands its body here; the result has the fields and
values caldav's `DAVResponse.parse_sync_collection` gives, so the adapter judges both
the same way (`listing.DavListing._parse_sync`). What caldav's parser rejects (a
`<response>` whose status is not 200/201/207/404) raises ValueError here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from sync.providers.dav.multistatus import check_status, normalize_href

_DAV = "{DAV:}"
_RESPONSE = f"{_DAV}response"
_STATUS = f"{_DAV}status"
_SYNC_TOKEN = f"{_DAV}sync-token"
_PROPSTAT = f"{_DAV}propstat"
_GETETAG = f"{_DAV}getetag"
_CALENDAR_DATA = "{urn:ietf:params:xml:ns:caldav}calendar-data"


@dataclass(frozen=True)
class SyncEntry:
    """One changed (or still present) resource; caldav's CalendarQueryResult."""

    href: str
    etag: str | None = None
    calendar_data: str | None = None
    status: int = 200


@dataclass(frozen=True)
class SyncResult:
    """caldav's SyncCollectionResult: what changed, what went, the token to keep."""

    changed: list[SyncEntry] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    sync_token: str | None = None
    #: RFC 6578 §3.6: the server held some changes back; ask again with `sync_token`
    truncated: bool = False


def parse_sync_collection(root: ET.Element | None) -> SyncResult:
    if root is None:
        return SyncResult()
    children = _multistatus(root)
    changed: list[SyncEntry] = []
    deleted: list[str] = []
    token: str | None = None
    truncated = False
    for elem in children:
        if elem.tag == _SYNC_TOKEN:
            token = elem.text
            continue
        if elem.tag != _RESPONSE:
            continue
        if _is_truncation(elem, children):
            truncated = True
            continue
        href, propstats, status = _parts(elem)
        code = _code(status) if status else 200
        if code == 404:
            deleted.append(href)
            continue
        etag, data = _etag_and_data(propstats)
        changed.append(SyncEntry(href, etag, data, code))
    return SyncResult(changed, deleted, token, truncated)


def _multistatus(root: ET.Element) -> list[ET.Element]:
    # some servers wrap the multistatus in <xml>, some send a bare <response>
    if root.tag == "xml" and len(root) and root[0].tag == f"{_DAV}multistatus":
        return list(root[0])
    if root.tag == f"{_DAV}multistatus":
        return list(root)
    return [root]


def _code(status: str | None) -> int:
    """The code of "HTTP/1.1 404 Not Found"; 200 where there is none to read."""
    parts = (status or "").split()
    if len(parts) >= 2:
        try:
            return int(parts[1])
        except ValueError:
            pass
    return 200


def _is_truncation(response: ET.Element, siblings: list[ET.Element]) -> bool:
    """The §3.6 marker: a bare 507 <response> beside a new sync-token."""
    status = response.find(_STATUS)
    if status is None or _code(status.text) != 507:
        return False
    if response.find(_PROPSTAT) is not None:
        return False
    return any(elem.tag == _SYNC_TOKEN for elem in siblings)


def _parts(response: ET.Element) -> tuple[str, list[ET.Element], str | None]:
    status: str | None = None
    href: str | None = None
    propstats: list[ET.Element] = []
    for child in response:
        if child.tag == _STATUS:
            status = child.text
            check_status(status)
        elif child.tag == f"{_DAV}href":
            href = normalize_href(child.text or "")
        elif child.tag == _PROPSTAT:
            propstats.append(child)
    if not href:
        # caldav only logs this (and hands on an empty href); an item without a name
        # cannot be listed, so the reply counts as unreadable
        raise ValueError("a <response> without an <href>")
    return href, propstats, status


def _etag_and_data(propstats: list[ET.Element]) -> tuple[str | None, str | None]:
    # like caldav, whatever the propstat's status: a 404 propstat's empty
    # <calendar-data/> reads as "no data", which the adapter then multigets
    etag: str | None = None
    data: str | None = None
    for propstat in propstats:
        prop = propstat.find(f"{_DAV}prop")
        if prop is None:
            continue
        for child in prop:
            if child.tag == _CALENDAR_DATA:
                data = child.text
            elif child.tag == _GETETAG:
                etag = child.text
    return etag, data
