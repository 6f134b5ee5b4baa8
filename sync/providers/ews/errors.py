"""exchangelib's exceptions as calsync's typed, one-line errors.

exchangelib raises from deep inside requests and lxml too, and wraps some errors
(its version probe wraps a connection error in a TransportError), so the whole
exception chain is looked through before an error is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import requests
from exchangelib import errors as ews_errors

from sync.providers import deadline
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConnectionFailed,
    ProviderError,
    Throttled,
)
from sync.providers.ews.config import ExchangeSettings

#: GetItem answers, for an occurrence of a series, that its series no longer has it
#: ("deleted from recurrence", "the series no longer reaches that far"); exchangelib
#: raises these for the whole batch instead of returning them per item
NO_OCCURRENCE = (
    ews_errors.ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ews_errors.ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange,
)
#: GetItem answers that mean "no such item here"
ABSENT = (ews_errors.ErrorItemNotFound, ews_errors.ErrorInvalidIdMalformed, *NO_OCCURRENCE)


class CredentialsRefused(AuthFailed):
    """Exchange refused the service account's credentials (HTTP 401)."""


class AccessRefused(AuthFailed):
    """The service account may not act on this mailbox."""


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes/contexts, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def unreachable_reason(exc: BaseException) -> str | None:
    """Why the endpoint could not be reached, if that is what went wrong.

    exchangelib re-raises connection errors as ErrorTimeoutExpired, and its version
    probe wraps even that in a TransportError, so look through the whole chain.
    """
    hit = any(
        isinstance(e, ews_errors.ErrorTimeoutExpired | requests.ConnectionError | requests.Timeout)
        for e in chain(exc)
    )
    if not hit:
        return None
    text = " ".join(str(e) for e in chain(exc)).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("name or service not known", "unknown host name"),
        ("nodename nor servname", "unknown host name"),
        ("temporary failure in name resolution", "unknown host name"),
        ("certificate", "TLS certificate problem"),
    ):
        if needle in text:
            return reason
    return "connection failed"


def one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def where(conn: ExchangeSettings, mailbox: str) -> str:
    """The Exchange a mailbox is reached at, for messages."""
    return conn.service_endpoint or f"autodiscover for {mailbox}"


def raise_provider_error(exc: Exception, conn: ExchangeSettings, box: str) -> NoReturn:
    """Raise `exc` (from exchangelib or requests) as the ProviderError that names the fix."""
    user, at = conn.account_name, where(conn, box)
    e = ews_errors
    for cause in chain(exc):  # exchangelib may wrap it (its version probe does)
        if isinstance(cause, deadline.DeadlineExceeded):
            raise cause from None
    if isinstance(exc, e.ErrorImpersonateUserDenied):
        raise AccessRefused(
            f"{user} may not impersonate {box}: grant ApplicationImpersonation "
            "(full mailbox access allows delegate access, not impersonation)"
        ) from exc
    if isinstance(exc, e.ErrorAccessDenied | e.ErrorItemSave) and "denied" in str(exc).lower():
        if conn.access == "delegate":
            raise AccessRefused(
                f"{user} has no delegate access to {box}'s calendar: grant full mailbox "
                "access or calendar editor rights"
            ) from exc
        raise AccessRefused(f"{user} was denied access to {box}'s calendar") from exc
    if isinstance(exc, e.ErrorNonExistentMailbox | e.ErrorMailboxStoreUnavailable):
        raise CalendarNotFound(f"Exchange has no mailbox {box}") from exc
    if isinstance(exc, e.ErrorNonPrimarySmtpAddress):
        raise CalendarNotFound(f"{box} is not the mailbox's primary SMTP address") from exc
    if isinstance(exc, e.ErrorFolderNotFound):
        raise CalendarNotFound(f"{box} has no calendar folder") from exc
    if isinstance(exc, e.UnauthorizedError):
        raise CredentialsRefused(
            f"Exchange refused the credentials of {user} ({conn.auth} auth at {at})"
        ) from exc
    if isinstance(exc, e.RateLimitError) and exc.wait:
        # Exchange asks for minutes (BackOffMilliseconds ~300000): defer the user
        retry = datetime.now(UTC) + timedelta(seconds=float(exc.wait))
        raise Throttled(f"Exchange at {at} (ErrorServerBusy)", retry) from exc
    if isinstance(exc, e.RateLimitError | e.ErrorServerBusy):
        raise ConnectionFailed(
            f"Exchange at {at} is throttling calsync (ErrorServerBusy) beyond "
            f"{conn.max_backoff:g} s of back-off; try again later"
        ) from exc
    unreachable = unreachable_reason(exc)
    if unreachable:
        raise ConnectionFailed(f"cannot reach Exchange at {at}: {unreachable}") from exc
    if isinstance(exc, e.AutoDiscoverFailed):
        raise ConnectionFailed(f"autodiscover found no Exchange for {box}") from exc
    if isinstance(exc, e.TransportError | requests.RequestException):
        text = one_line(exc)
        if "ssl" in text.lower() or "certificate" in text.lower():
            raise ConnectionFailed(
                f"TLS failure talking to {at}: {text} (fix the certificate chain, "
                "or point verify_tls at a CA bundle)"
            ) from exc
        raise ConnectionFailed(f"Exchange at {at} failed: {text}") from exc
    if isinstance(exc, e.EWSError):
        raise ProviderError(
            f"Exchange error for {box}: {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    raise ProviderError(f"Exchange adapter failed for {box}: {one_line(exc)}") from exc
