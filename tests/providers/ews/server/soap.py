"""SOAP 1.1 envelopes in the shapes Exchange answers with.

Shapes follow Microsoft's published EWS examples (learn.microsoft.com
"…-operation" reference pages): a `ServerVersionInfo` header on every answer,
`<m:XResponse><m:ResponseMessages><m:XResponseMessage ResponseClass=…>` bodies,
and SOAP faults (HTTP 500) for request-level errors such as throttling and
impersonation refusals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"

#: Exchange 2016 CU reports this odd API version string; exchangelib copes with it
SERVER_VERSION = (
    f'<h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" '
    f'MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="{T}" xmlns="{T}"/>'
)

ERROR_TEXT = {
    "ErrorItemNotFound": "The specified object was not found in the store.",
    "ErrorFolderNotFound": "The specified folder could not be found in the store.",
    "ErrorIrresolvableConflict": "The send or update operation could not be performed because "
    "the change key passed in the request does not match the current change key for the item.",
    "ErrorAccessDenied": "Access is denied. Check credentials and try again.",
    "ErrorImpersonateUserDenied": "The account does not have permission to impersonate the "
    "requested user.",
    "ErrorNonExistentMailbox": "The SMTP address has no mailbox associated with it.",
    "ErrorServerBusy": "The server cannot service this request right now. Try again later.",
    "ErrorCalendarViewRangeTooBig": "The specified view range exceeds the maximum range of two years.",
    "ErrorInvalidIdMalformed": "Id is malformed.",
    "ErrorInvalidRequest": "The request is invalid.",
    "ErrorCalendarOccurrenceIsDeletedFromRecurrence": "Occurrence with this index was "
    "previously deleted from the recurrence.",
    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange": "Occurrence index is out of "
    "recurrence range.",
}


def envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{S}"><s:Header>{SERVER_VERSION}</s:Header>'
        f'<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema">{body}</s:Body></s:Envelope>'
    ).encode()


def response(service: str, messages: list[str]) -> bytes:
    return envelope(
        f'<m:{service}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        + "".join(messages)
        + f"</m:ResponseMessages></m:{service}Response>"
    )


def ok_message(service: str, inner: str = "", attrs: str = "") -> str:
    return (
        f'<m:{service}ResponseMessage ResponseClass="Success"{attrs}>'
        f"<m:ResponseCode>NoError</m:ResponseCode>{inner}</m:{service}ResponseMessage>"
    )


def error_message(service: str, code: str, inner: str = "") -> str:
    return (
        f'<m:{service}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(ERROR_TEXT.get(code, code))}</m:MessageText>"
        f"<m:ResponseCode>{code}</m:ResponseCode>"
        f"<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>{inner}</m:{service}ResponseMessage>"
    )


def fault(code: str, *, back_off_ms: int | None = None) -> bytes:
    """A request-level error, sent with HTTP 500 as Exchange does."""
    text = escape(ERROR_TEXT.get(code, code))
    extra = ""
    if back_off_ms is not None:
        extra = (
            f'<t:MessageXml xmlns:t="{T}">'
            f'<t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value></t:MessageXml>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{S}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="{T}">a:{code}</faultcode>'
        f'<faultstring xml:lang="en-US">{text}</faultstring><detail>'
        f'<e:ResponseCode xmlns:e="{E}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">{text}</e:Message>{extra}'
        "</detail></s:Fault></s:Body></s:Envelope>"
    ).encode()


# -- values --------------------------------------------------------------------------------


def fmt_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:  # EWS reads offset-less times in the request's zone; we use UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return fmt_datetime(value)
    return escape(str(value))


def attr(value: str) -> str:
    return quoteattr(value)
