"""A loopback EWS endpoint (`/EWS/Exchange.asmx`) over real HTTP, for tests.

Recurring series (see store.py) are expanded into occurrences by calendar views;
occurrence ids can be read, updated (the occurrence becomes an Exception) and
deleted like any item.

It answers the operations calsync's Exchange adapter sends — ConvertId (the
version probe), GetFolder, FindItem with a CalendarView, GetItem, CreateItem,
UpdateItem, DeleteItem — checks Basic credentials, honours ExchangeImpersonation
headers against per-mailbox grants, keeps changekeys that change on every write,
refuses stale changekeys under NeverOverwrite, answers ErrorServerBusy on demand
(with a realistic BackOffMilliseconds) and 401-as-throttling, refuses calendar
views over two years (ErrorCalendarViewRangeTooBig), keeps HTML bodies, and records every request so tests can inspect what was asked of Exchange.
"""

from __future__ import annotations

import base64
import html
import re
import socket
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.providers.ews.server.soap import (
    M,
    S,
    T,
    attr,
    error_message,
    fault,
    fmt_value,
    ok_message,
    parse_datetime,
    response,
)
from tests.providers.ews.server.store import (
    Mailbox,
    Organisation,
    RecordedRequest,
    StoredItem,
    materialize,
    occurrences,
    parse_id,
    parse_occurrence_id,
)

PATH = "/EWS/Exchange.asmx"

BOOL_FIELDS = {"ReminderIsSet", "IsAllDayEvent", "IsResponseRequested", "AllowNewTimeProposal"}
INT_FIELDS = {"ReminderMinutesBeforeStart"}
DATETIME_FIELDS = {"Start", "End", "ReminderDueBy"}
TZ_FIELDS = {"StartTimeZone", "EndTimeZone"}
#: item fields a client may set; anything else in a request is accepted and ignored
WRITABLE = (
    {"Subject", "Sensitivity", "Body", "UID", "Location", "LegacyFreeBusyStatus"}
    | BOOL_FIELDS
    | INT_FIELDS
    | DATETIME_FIELDS
    | TZ_FIELDS
)


class Fault(Exception):
    def __init__(self, code: str, back_off_ms: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.back_off_ms = back_off_ms


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(op: ET.Element, tag: str) -> list[ET.Element]:
    found = op.find(f"{{{M}}}{tag}")
    return list(found) if found is not None else []


def _html_to_text(value: str) -> str:
    value = re.sub(r"(?i)<br\s*/?>|</p>", "\n", value)
    return html.unescape(re.sub(r"<[^>]+>", "", value)).strip()


class Context:
    """Who is calling and as whom."""

    def __init__(self, org: Organisation, user: str, impersonated: str | None) -> None:
        self.org = org
        self.user = user
        self.impersonated = impersonated

    def mailbox_for(self, smtp: str | None) -> Mailbox:
        """The mailbox an operation acts on, with access checked (ErrorAccessDenied)."""
        if self.impersonated:
            box = self.org.mailbox(self.impersonated)
            assert box is not None  # checked when the header was read
            if smtp and smtp.lower() != box.smtp.lower():
                raise LookupError
            return box
        box = self.org.mailbox(smtp or self.user)
        if box is None:
            raise LookupError
        if self.user not in box.delegates | box.readers and box.smtp.lower() != self.user.lower():
            raise PermissionError
        return box

    def may_write(self, box: Mailbox) -> bool:
        return bool(self.impersonated) or self.user not in box.readers


# -- operations ----------------------------------------------------------------------------


def _folder_target(ctx: Context, elem: ET.Element) -> Mailbox:
    """Resolve a FolderId / DistinguishedFolderId element to its (checked) mailbox."""
    tag = _local(elem.tag)
    if tag == "DistinguishedFolderId":
        email = elem.find(f"{{{T}}}Mailbox/{{{T}}}EmailAddress")
        return ctx.mailbox_for(email.text if email is not None else None)
    parsed = parse_id(elem.get("Id", ""))
    if parsed is None or parsed[0] != "folder":
        raise LookupError
    box = ctx.mailbox_for(parsed[1])
    if box.calendar_id != elem.get("Id"):
        raise LookupError
    return box


def _rights_xml(write: bool) -> str:
    w = "true" if write else "false"
    return (
        f"<t:EffectiveRights><t:CreateAssociated>{w}</t:CreateAssociated>"
        f"<t:CreateContents>{w}</t:CreateContents><t:CreateHierarchy>{w}</t:CreateHierarchy>"
        f"<t:Delete>{w}</t:Delete><t:Modify>{w}</t:Modify><t:Read>true</t:Read>"
        "<t:ViewPrivateItems>true</t:ViewPrivateItems></t:EffectiveRights>"
    )


def op_get_folder(ctx: Context, op: ET.Element) -> bytes:
    messages = []
    for elem in _children(op, "FolderIds"):
        name = elem.get("Id", "")
        try:
            box = _folder_target(ctx, elem)
        except LookupError:
            messages.append(error_message("GetFolder", "ErrorFolderNotFound"))
            continue
        except PermissionError:
            messages.append(error_message("GetFolder", "ErrorAccessDenied"))
            continue
        write = ctx.may_write(box)
        root_id = box.calendar_id.replace("=", "") + "R"
        if _local(elem.tag) == "DistinguishedFolderId" and name == "root":
            folder = (
                f'<t:Folder><t:FolderId Id={attr(root_id)} ChangeKey="AQAAAA=="/>'
                "<t:DisplayName>Top of Information Store</t:DisplayName>"
                f"<t:TotalCount>0</t:TotalCount><t:ChildFolderCount>1</t:ChildFolderCount>"
                f"{_rights_xml(write)}</t:Folder>"
            )
        elif _local(elem.tag) == "DistinguishedFolderId" and name != "calendar":
            messages.append(error_message("GetFolder", "ErrorFolderNotFound"))
            continue
        else:
            folder = (
                f'<t:CalendarFolder><t:FolderId Id={attr(box.calendar_id)} ChangeKey="AgAAAA=="/>'
                f'<t:ParentFolderId Id={attr(root_id)} ChangeKey="AQAAAA=="/>'
                "<t:FolderClass>IPF.Appointment</t:FolderClass>"
                f"<t:DisplayName>{html.escape(box.calendar_name, quote=False)}</t:DisplayName>"
                f"<t:TotalCount>{len(box.items)}</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>"
                f"{_rights_xml(write)}</t:CalendarFolder>"
            )
        messages.append(ok_message("GetFolder", f"<m:Folders>{folder}</m:Folders>"))
    return response("GetFolder", messages)


def _requested_fields(op: ET.Element, shape_tag: str) -> set[str]:
    shape = op.find(f"{{{M}}}{shape_tag}")
    if shape is None:
        return set()
    return {
        (f.get("FieldURI") or "").partition(":")[2]
        for f in shape.iter(f"{{{T}}}FieldURI")
        if f.get("FieldURI")
    }


GOID_HEADER = bytes.fromhex("040000008200E00074C5B7101A82E008")


def clean_goid(uid: str) -> bytes:
    """PidLidCleanGlobalObjectId as Exchange derives it from a UID ([MS-OXCICAL] 2.1.3.1.1.20.26)."""
    if re.fullmatch(r"(?i)040000008200E00074C5B7101A82E008(?:[0-9A-F]{2})+", uid):
        raw = bytearray(bytes.fromhex(uid))
        raw[16:20] = bytes(4)
        return bytes(raw)
    data = b"vCal-Uid\x01\x00\x00\x00" + uid.encode() + b"\x00"
    return GOID_HEADER + bytes(20) + len(data).to_bytes(4, "little") + data


def _is_goid_uri(uri: ET.Element | None) -> bool:
    return (
        uri is not None
        and uri.get("DistinguishedPropertySetId") == "Meeting"
        and uri.get("PropertyId") in ("35", "0x23")
    )


def _wants_goid(op: ET.Element) -> bool:
    shape = op.find(f"{{{M}}}ItemShape")
    return shape is not None and any(
        _is_goid_uri(u) for u in shape.iter(f"{{{T}}}ExtendedFieldURI")
    )


def render_item(item: StoredItem, fields: set[str], goid: bool = False) -> str:
    parts = [f"<t:ItemId Id={attr(item.id)} ChangeKey={attr(item.changekey)}/>"]
    if goid and item.fields.get("UID"):
        value = base64.b64encode(clean_goid(item.fields["UID"])).decode()
        parts.append(
            '<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="Meeting" '
            'PropertyId="35" PropertyType="Binary"/>'
            f"<t:Value>{value}</t:Value></t:ExtendedProperty>"
        )
    values = item.fields
    for name in sorted(fields):
        if name in ("ItemId", ""):
            continue
        if name == "Body":
            body_type, text = values.get("Body", ("Text", ""))
            parts.append(f'<t:Body BodyType="{body_type}">{fmt_value(text)}</t:Body>')
        elif name == "TextBody":
            body_type, text = values.get("Body", ("Text", ""))
            plain = _html_to_text(text) if body_type == "HTML" else text
            parts.append(f'<t:TextBody BodyType="Text">{fmt_value(plain)}</t:TextBody>')
        elif name in TZ_FIELDS:
            if values.get(name):
                parts.append(f"<t:{name} Id={attr(values[name])}/>")
        elif name in values and values[name] is not None:
            parts.append(f"<t:{name}>{fmt_value(values[name])}</t:{name}>")
    return "<t:CalendarItem>" + "".join(parts) + "</t:CalendarItem>"


def _goid_restriction(op: ET.Element) -> set[bytes]:
    """The CleanGlobalObjectId values of an IsEqualTo / Or-of-IsEqualTo restriction."""
    restriction = op.find(f"{{{M}}}Restriction")
    if restriction is None:
        raise Fault("ErrorInvalidRequest")
    wanted = set()
    for eq in restriction.iter(f"{{{T}}}IsEqualTo"):
        const = eq.find(f".//{{{T}}}Constant")
        if not _is_goid_uri(eq.find(f"{{{T}}}ExtendedFieldURI")) or const is None:
            raise Fault("ErrorInvalidRequest")
        wanted.add(base64.b64decode(const.get("Value", "")))
    return wanted


def op_find_by_goid(ctx: Context, op: ET.Element) -> bytes:
    """FindItem with an IndexedPageItemView and a restriction on CleanGlobalObjectId."""
    wanted = _goid_restriction(op)
    view = op.find(f"{{{M}}}IndexedPageItemView")
    limit = int(view.get("MaxEntriesReturned") or 1000) if view is not None else 1000
    offset = int(view.get("Offset") or 0) if view is not None else 0
    fields, goid = _requested_fields(op, "ItemShape"), _wants_goid(op)
    messages = []
    for elem in _children(op, "ParentFolderIds"):
        try:
            box = _folder_target(ctx, elem)
        except (LookupError, PermissionError):
            messages.append(error_message("FindItem", "ErrorFolderNotFound"))
            continue
        hits = [
            i
            for i in sorted(box.items.values(), key=lambda i: i.id)
            if i.fields.get("UID") and clean_goid(i.fields["UID"]) in wanted
        ]
        page = hits[offset : offset + limit]
        last = offset + len(page) >= len(hits)
        body = "".join(render_item(i, fields, goid) for i in page)
        messages.append(
            ok_message(
                "FindItem",
                f'<m:RootFolder IndexedPagingOffset="{offset + len(page)}" '
                f'TotalItemsInView="{len(hits)}" IncludesLastItemInRange='
                f'"{"true" if last else "false"}"><t:Items>{body}</t:Items></m:RootFolder>',
            )
        )
    return response("FindItem", messages)


def op_find_item(ctx: Context, op: ET.Element) -> bytes:
    view = op.find(f"{{{M}}}CalendarView")
    if view is None:  # besides calendar views, calsync only looks items up by UID
        return op_find_by_goid(ctx, op)
    start = parse_datetime(view.get("StartDate", ""))
    end = parse_datetime(view.get("EndDate", ""))
    if end > _years_later(start, MAX_VIEW_YEARS):
        # Exchange refuses a calendar view longer than two years: "The specified view
        # range exceeds the maximum range of two years." (a recorded response in
        # otris/ews-cpp issue #158; OfficeDev/ews-java-api issue #131)
        return response("FindItem", [error_message("FindItem", "ErrorCalendarViewRangeTooBig")])
    limit = int(view.get("MaxEntriesReturned") or 1000)
    fields = _requested_fields(op, "ItemShape")
    messages = []
    for elem in _children(op, "ParentFolderIds"):
        try:
            box = _folder_target(ctx, elem)
        except LookupError:
            messages.append(error_message("FindItem", "ErrorFolderNotFound"))
            continue
        except PermissionError:
            messages.append(error_message("FindItem", "ErrorAccessDenied"))
            continue
        # a calendar view shows occurrences of a series, never its master
        shown = [
            o
            for i in box.items.values()
            for o in (occurrences(i, box.smtp) if i.recurrence is not None else [i])
        ]
        hits = sorted(
            (
                i
                for i in shown
                if i.fields["Start"] < end
                and (i.fields["End"] > start or i.fields["Start"] >= start)
            ),
            key=lambda i: (i.fields["Start"], i.id),
        )
        page = hits[:limit]
        body = "".join(render_item(i, fields) for i in page)
        messages.append(
            ok_message(
                "FindItem",
                f'<m:RootFolder TotalItemsInView="{len(hits)}" '
                f'IncludesLastItemInRange="{"true" if len(page) == len(hits) else "false"}">'
                f"<t:Items>{body}</t:Items></m:RootFolder>",
            )
        )
    return response("FindItem", messages)


#: the longest CalendarView Exchange serves
MAX_VIEW_YEARS = 2


def _years_later(value: datetime, years: int) -> datetime:
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


class Malformed(Exception):
    """An id this server never minted: Exchange answers ErrorInvalidIdMalformed."""


class NoOccurrence(LookupError):
    """An occurrence id whose series no longer has that occurrence."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _item_target(ctx: Context, elem: ET.Element) -> tuple[Mailbox, StoredItem]:
    parsed = parse_id(elem.get("Id", ""))
    if parsed is None:
        raise Malformed
    if parsed[0] == "occ":
        box = ctx.mailbox_for(parsed[1])
        master_id, original = parse_occurrence_id(elem.get("Id", "")) or ("", None)
        master = box.items.get(master_id)
        if master is None or master.recurrence is None or original is None:
            raise LookupError
        found = materialize(master, box.smtp, original)
        if found is None:
            deleted = original in master.deleted
            raise NoOccurrence(
                "ErrorCalendarOccurrenceIsDeletedFromRecurrence"
                if deleted
                else "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange"
            )
        return box, found
    if parsed[0] != "item":
        raise LookupError
    box = ctx.mailbox_for(parsed[1])
    item = box.items.get(elem.get("Id", ""))
    if item is None:
        raise LookupError
    return box, item


def _master_of(box: Mailbox, item: StoredItem) -> tuple[StoredItem, datetime] | None:
    """(series master, original start) when `item` is an occurrence."""
    found = parse_occurrence_id(item.id)
    if found is None:
        return None
    return box.items[found[0]], found[1]


def op_get_item(ctx: Context, op: ET.Element) -> bytes:
    fields = _requested_fields(op, "ItemShape")
    messages = []
    for elem in _children(op, "ItemIds"):
        try:
            _, item = _item_target(ctx, elem)
        except Malformed:
            messages.append(error_message("GetItem", "ErrorInvalidIdMalformed", "<m:Items/>"))
            continue
        except NoOccurrence as exc:
            messages.append(error_message("GetItem", exc.code, "<m:Items/>"))
            continue
        except LookupError:
            messages.append(error_message("GetItem", "ErrorItemNotFound", "<m:Items/>"))
            continue
        except PermissionError:
            messages.append(error_message("GetItem", "ErrorAccessDenied", "<m:Items/>"))
            continue
        messages.append(ok_message("GetItem", f"<m:Items>{render_item(item, fields)}</m:Items>"))
    return response("GetItem", messages)


def _parse_field(elem: ET.Element) -> tuple[str, Any] | None:
    name = _local(elem.tag)
    if name not in WRITABLE:
        return None
    text = elem.text or ""
    value: Any
    if name in BOOL_FIELDS:
        value = text.strip() in ("true", "1")
    elif name in INT_FIELDS:
        value = int(text)
    elif name in DATETIME_FIELDS:
        value = parse_datetime(text)
    elif name in TZ_FIELDS:
        value = elem.get("Id")
    elif name == "Body":
        value = (elem.get("BodyType", "Text"), text)
    else:
        value = text
    return name, value


def op_create_item(ctx: Context, op: ET.Element) -> bytes:
    target = op.find(f"{{{M}}}SavedItemFolderId")
    messages = []
    try:
        box = _folder_target(ctx, target[0]) if target is not None and len(target) else None
        if box is None:
            box = ctx.mailbox_for(None)
    except LookupError:
        return response("CreateItem", [error_message("CreateItem", "ErrorFolderNotFound")])
    except PermissionError:
        return response("CreateItem", [error_message("CreateItem", "ErrorAccessDenied")])
    for elem in _children(op, "Items"):
        if not ctx.may_write(box):
            messages.append(error_message("CreateItem", "ErrorAccessDenied", "<m:Items/>"))
            continue
        fields: dict[str, Any] = {
            "Subject": "",
            "Sensitivity": "Normal",
            "LegacyFreeBusyStatus": "Busy",
            "IsAllDayEvent": False,
            "ReminderIsSet": True,
            "ReminderMinutesBeforeStart": 15,
            "Body": ("Text", ""),
        }
        for child in elem:
            parsed = _parse_field(child)
            if parsed:
                fields[parsed[0]] = parsed[1]
        fields.setdefault("UID", f"{len(box.items)}-{id(fields)}@exchange.test")
        fields.setdefault("StartTimeZone", "UTC")
        fields.setdefault("EndTimeZone", fields["StartTimeZone"])
        item = ctx.org.new_item(box, fields)
        messages.append(
            ok_message(
                "CreateItem",
                f"<m:Items><t:CalendarItem><t:ItemId Id={attr(item.id)} "
                f"ChangeKey={attr(item.changekey)}/></t:CalendarItem></m:Items>",
            )
        )
    return response("CreateItem", messages)


def op_update_item(ctx: Context, op: ET.Element) -> bytes:
    never_overwrite = op.get("ConflictResolution") == "NeverOverwrite"
    messages = []
    for change in _children(op, "ItemChanges"):
        id_elem = change.find(f"{{{T}}}ItemId")
        try:
            if id_elem is None:
                raise LookupError
            box, item = _item_target(ctx, id_elem)
        except LookupError:
            messages.append(error_message("UpdateItem", "ErrorItemNotFound", "<m:Items/>"))
            continue
        except PermissionError:
            messages.append(error_message("UpdateItem", "ErrorAccessDenied", "<m:Items/>"))
            continue
        if not ctx.may_write(box):
            messages.append(error_message("UpdateItem", "ErrorAccessDenied", "<m:Items/>"))
            continue
        sent_key = id_elem.get("ChangeKey")
        if never_overwrite and sent_key and sent_key != item.changekey:
            messages.append(error_message("UpdateItem", "ErrorIrresolvableConflict", "<m:Items/>"))
            continue
        updates = change.find(f"{{{T}}}Updates")
        changed: dict[str, Any] = {}
        for upd in updates if updates is not None else []:
            kind = _local(upd.tag)
            uri = upd.find(f"{{{T}}}FieldURI")
            name = (uri.get("FieldURI") or "").partition(":")[2] if uri is not None else ""
            if kind == "DeleteItemField":
                changed[name] = None
                continue
            holder = upd.find(f"{{{T}}}CalendarItem")
            for child in holder if holder is not None else []:
                parsed = _parse_field(child)
                if parsed:
                    changed[parsed[0]] = parsed[1]
        series = _master_of(box, item)
        if series is not None:
            # saving an occurrence makes it an exception of its series
            item = ctx.org.edit_occurrence(box.smtp, series[0].id, series[1], **changed)
        else:
            for name, value in changed.items():
                if value is None:
                    item.fields.pop(name, None)
                else:
                    item.fields[name] = value
            ctx.org.touch(item)
        messages.append(
            ok_message(
                "UpdateItem",
                f"<m:Items><t:CalendarItem><t:ItemId Id={attr(item.id)} "
                f"ChangeKey={attr(item.changekey)}/></t:CalendarItem></m:Items>"
                "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
            )
        )
    return response("UpdateItem", messages)


def op_delete_item(ctx: Context, op: ET.Element) -> bytes:
    messages = []
    for elem in _children(op, "ItemIds"):
        try:
            box, item = _item_target(ctx, elem)
        except LookupError:
            messages.append(error_message("DeleteItem", "ErrorItemNotFound"))
            continue
        except PermissionError:
            messages.append(error_message("DeleteItem", "ErrorAccessDenied"))
            continue
        if not ctx.may_write(box):
            messages.append(error_message("DeleteItem", "ErrorAccessDenied"))
            continue
        # like Exchange, DeleteItem ignores the ChangeKey: conflict checks are the client's job
        series = _master_of(box, item)
        with ctx.org.lock:
            if series is not None:
                ctx.org.delete_occurrence(box.smtp, series[0].id, series[1])
            else:
                box.items.pop(item.id, None)
        messages.append(ok_message("DeleteItem"))
    return response("DeleteItem", messages)


def op_convert_id(ctx: Context, op: ET.Element) -> bytes:
    # exchangelib's version probe converts a dummy id; Exchange answers with an error
    # message and the ServerVersionInfo header, which is all the probe needs
    count = len(_children(op, "SourceIds"))
    return response(
        "ConvertId", [error_message("ConvertId", "ErrorInvalidIdMalformed")] * max(count, 1)
    )


OPERATIONS = {
    "GetFolder": op_get_folder,
    "FindItem": op_find_item,
    "GetItem": op_get_item,
    "CreateItem": op_create_item,
    "UpdateItem": op_update_item,
    "DeleteItem": op_delete_item,
    "ConvertId": op_convert_id,
}


# -- HTTP ---------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes; without this, delayed ACKs on
        # keep-alive connections add ~40 ms to every request
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        org = self.server.org
        return user if org.accounts.get(user) == password and password else None

    def do_GET(self) -> None:
        self._send(405, b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0].lower() != PATH.lower():
            self._send(404, b"")
            return
        user = self._user()
        org = self.server.org
        with org.lock:
            throttled = org.throttle_401 > 0 and user is not None
            if throttled:
                org.throttle_401 -= 1
        if user is None or throttled:
            self._send(401, b"", {"WWW-Authenticate": 'Basic realm="exchange.test"'})
            return
        try:
            root = ET.fromstring(raw)
        except ET.ParseError:
            self._send(400, b"")
            return
        body = root.find(f"{{{S}}}Body")
        op = body[0] if body is not None and len(body) else None
        if op is None:
            self._send(400, b"")
            return
        service = _local(op.tag)
        imp = root.find(f"{{{S}}}Header/{{{T}}}ExchangeImpersonation/{{{T}}}ConnectingSID")
        impersonated = None
        if imp is not None:
            for tag in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName"):
                found = imp.find(f"{{{T}}}{tag}")
                if found is not None and found.text:
                    impersonated = found.text
                    break
        org.record(
            RecordedRequest(
                service=service,
                user=user,
                impersonated=impersonated,
                attrs=dict(op.attrib),
                body=raw.decode("utf-8", errors="replace"),
            )
        )
        try:
            back_off = org.take_busy(service, impersonated)
            if back_off is not None:
                raise Fault("ErrorServerBusy", back_off)
            if impersonated is not None:
                box = org.mailbox(impersonated)
                if box is None:
                    raise Fault("ErrorNonExistentMailbox")
                if user not in box.impersonators:
                    raise Fault("ErrorImpersonateUserDenied")
            handler = OPERATIONS.get(service)
            if handler is None:
                raise Fault("ErrorInvalidRequest")
            with org.lock:
                answer = handler(Context(org, user, impersonated), op)
        except Fault as exc:
            self._send(500, fault(exc.code, back_off_ms=exc.back_off_ms))
            return
        lost = org.take_lost(service)
        if lost == "reset":
            # done, and the answer never arrives: SO_LINGER 0 makes close() send an RST
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.request.close()
            return
        if lost == "500":
            self._send(500, fault("ErrorInternalServerError"))
            return
        self._send(200, answer)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, org: Organisation) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.org = org


class EWSTestServer:
    """`with EWSTestServer() as ews:` — `ews.url` is the EWS endpoint, `ews.org` its data."""

    def __init__(self) -> None:
        self.org = Organisation()
        self._httpd = _HTTPServer(self.org)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def start(self) -> EWSTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> EWSTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running() -> Iterator[EWSTestServer]:
    with EWSTestServer() as server:
        yield server
