"""A WebDAV multistatus reply read with ElementTree, as the caldav library's parser reads it.

`probe` (the standard-library transport) hands its replies here: a PROPFIND's
`<response>` elements become `Found(href, properties)` shaped like caldav's
PropfindResult, and `sync_reply` reads a sync-collection REPORT with the same
href and status rules. What caldav's parser rejects raises ValueError here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

DAV = "{DAV:}"
#: properties whose value is the names of the leaf elements inside
_LEAF_NAMES = {f"{DAV}current-user-privilege-set", f"{DAV}supported-report-set"}


class Found(NamedTuple):
    """One <response> of a PROPFIND reply, shaped like caldav's PropfindResult."""

    href: str
    properties: dict[str, Any]


def parse_body(body: bytes, content_type: str) -> ET.Element | None:
    """The reply's XML root; None when empty or not XML (read like the DAVClient reads it)."""
    if not body.strip():
        return None
    if b"<!DOCTYPE" in body[:2048].upper():
        raise ValueError("the reply declares a DTD")  # no entity games
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        # like the DAVClient: a body not labelled XML is no multistatus (e.g. an HTML
        # page at that URL); one labelled XML that does not parse is an error
        if content_type.startswith(("text/xml", "application/xml")):
            raise
        return None


def preconditions(body: bytes) -> list[str]:
    """The tags of a DAV:error body's children (RFC 4918 §16), e.g. {DAV:}valid-sync-token."""
    if not body.strip() or b"<!DOCTYPE" in body[:2048].upper():
        return []
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    if root.tag != f"{DAV}error":
        return []
    return [child.tag for child in root if isinstance(child.tag, str)]


def responses(root: ET.Element) -> list[ET.Element]:
    """The <response> elements; some servers wrap the multistatus in <xml>, some send one bare."""
    if root.tag == "xml" and len(root) and root[0].tag == f"{DAV}multistatus":
        root = root[0]
    if root.tag != f"{DAV}multistatus":
        return [root] if root.tag == f"{DAV}response" else []
    return [elem for elem in root if elem.tag == f"{DAV}response"]


def parse_propfind(root: ET.Element | None) -> list[Found]:
    """The <response> elements: href and {property tag: value}, as caldav parses them."""
    if root is None:
        return []
    return [_response(elem) for elem in responses(root)]


def check_status(text: str | None) -> None:
    # what the library accepts; a 403 or 500 propstat is a failure, not an absent property
    if text and not any(code in text for code in (" 200 ", " 201 ", " 207 ", " 404 ")):
        raise ValueError(f"status {' '.join(text.split())[:80]}")


def normalize_href(text: str) -> str:
    """A path, decoded (as the library gives it): absolute URLs lose scheme and host."""
    href = unquote(text.replace("%2540", "%40"))
    return unquote(urlsplit(href).path) if ":" in href else href


def _response(elem: ET.Element) -> Found:
    href = ""
    properties: dict[str, Any] = {}
    for child in elem:
        if child.tag == f"{DAV}status":
            check_status(child.text)
        elif child.tag == f"{DAV}href":
            href = normalize_href(child.text or "")
        elif child.tag == f"{DAV}propstat":
            status = child.find(f"{DAV}status")
            if status is not None and status.text:
                check_status(status.text)
                if " 404 " in status.text:
                    continue  # properties the resource does not have
            for prop in child.iterfind(f"{DAV}prop"):
                for value in prop:
                    properties[value.tag] = _value(value)
    return Found(href, properties)


def _value(elem: ET.Element) -> Any:
    """A property as caldav's parser flattens it: text, a list of tags or texts."""
    if elem.tag in _LEAF_NAMES:
        return [leaf.tag for leaf in elem.iter() if len(leaf) == 0 and leaf is not elem]
    if len(elem) == 0:
        return elem.text if elem.text and elem.text.strip() else None
    if elem.tag == f"{DAV}resourcetype":
        return [child.tag for child in elem]
    texts: list[str] = []
    for child in elem:
        if child.text and child.text.strip():
            texts.append(child.text)
        elif child.get("name"):
            texts.append(str(child.get("name")))
        elif len(child) == 0:
            texts.append(child.tag)
    if len(texts) == 1:
        return texts[0]
    return texts or elem
