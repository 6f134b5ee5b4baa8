"""Telling a CalDAV calendar from one re-created at the same URL (SPEC R10).

A calendar deleted and created again (MKCALENDAR) at the same URL is a different
calendar: syncing it as the old one would delete every CRM item the old one held.
The URL cannot tell them apart, and most servers (Radicale among them) send no
DAV:resource-id (RFC 8144). Two signals can:

1. A dead property calsync sets on the collection at init (PROPPATCH, RFC 4918 §9.2),
   in a namespace of its own. A server that keeps dead properties (Radicale,
   sabre/dav: Nextcloud, Baïkal) drops it with the collection, so a replacement lacks
   it and the identity differs. The property is read back after it is set; a server
   that does not keep it leaves the identity as before (the URL).
2. The sync token: a replaced collection refuses the old token (RFC 6578 §3.2, 403
   DAV:valid-sync-token) — but so does a server that merely expired it. So a refused
   token counts only when not one item known under it is still there with its etag:
   an expired token on a live calendar leaves its unchanged items where they were.
   This covers servers without dead properties and calendars initialized before
   calsync set the property. Where the property is there, it decides alone.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sync.providers.base import ProviderError

#: calsync's own XML namespace: under .invalid (RFC 2606), so no one else's property
#: can collide with it and nothing ever resolves it
NAMESPACE = "https://calsync.invalid/ns/"
MARKER = f"{{{NAMESPACE}}}calendar-id"
#: the property, for the collection PROPFIND's <d:prop> (namespace declared inline)
PROP_XML = f'<ci:calendar-id xmlns:ci="{NAMESPACE}"/>'
HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
#: what a refused token with nothing left of the old listing adds to the identity
REPLACED = "#replaced"


def marker_of(props: Mapping[str, Any]) -> str | None:
    value = props.get(MARKER)
    return value.strip() if isinstance(value, str) and value.strip() else None


def identity(base: str, props: Mapping[str, Any], *, replaced: bool) -> str:
    """`base` (scheme, URL and any DAV:resource-id) plus what tells a replacement apart."""
    marker = marker_of(props)
    if marker is not None:
        return f"{base}#calsync-id={marker}"
    return base + REPLACED if replaced else base


def proppatch_body(marker: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propertyupdate xmlns:d="DAV:" xmlns:ci="{NAMESPACE}">'
        f"<d:set><d:prop><ci:calendar-id>{marker}</ci:calendar-id></d:prop></d:set>"
        "</d:propertyupdate>"
    )


def claim(
    props: Mapping[str, Any],
    proppatch: Callable[[str], object],
    reread: Callable[[], Mapping[str, Any]],
) -> None:
    """Set the marker on a collection that has none yet, then read back what the server
    kept. Never raises: a server that refuses, or drops it, keeps the URL identity.

    A marker already there (a second init, another user syncing the same calendar)
    is kept, so init run again changes nothing.
    """
    if marker_of(props) is not None:
        return
    with contextlib.suppress(ProviderError):  # refused or unreachable: the read below tells
        proppatch(proppatch_body(uuid.uuid4().hex))
    reread()


def replaced(old_index: Mapping[str, Any], new_index: Mapping[str, Any]) -> bool:
    """After a refused sync token: does nothing of the old listing remain?

    Indexes map item id → [etag, …] (the CalDAV provider cache's "index").
    """
    if not old_index:
        return False
    return not any(
        isinstance(row, list) and row and new_index.get(item_id, [None])[0] == row[0]
        for item_id, row in old_index.items()
    )
