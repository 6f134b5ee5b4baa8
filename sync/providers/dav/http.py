"""The HTTP edge of the CalDAV adapter: one request with timeouts, retries and typed errors.

The caldav library's `DAVClient` does the transport (session, auth objects, XML
parsing of replies); this wraps its `request` so every call has a timeout, 429/503
(and Google's usage-limit 403s) are retried with backoff honouring Retry-After, and
failures become one-line `ProviderError`s an operator can act on. The library's high-level objects hide the
status codes and headers the sync needs (If-Match, 412, sync-token errors), so the
adapter speaks DAV through this one function.

The retry loop and the error lines are shared with `probe`, which sends the
collection PROPFIND over the standard library; so this module imports the caldav
library only when a request goes through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sync.providers import deadline
from sync.providers.base import AuthFailed, ConnectionFailed, ProviderError
from sync.providers.wire import parse_retry_after

R = TypeVar("R")


class Forbidden(AuthFailed):
    """A 403. Carries the DAV:error preconditions, which may mean something else than access."""

    def __init__(self, message: str, preconditions: list[str]) -> None:
        super().__init__(message)
        self.preconditions = preconditions


class Overloaded(Exception):
    """One attempt was answered 429/503 (or a usage-limit 403): `with_retries` waits
    and sends it again."""

    def __init__(self, status: int, wait: float | None) -> None:
        super().__init__(status, wait)
        self.status = status
        #: seconds the server asked for (Retry-After), None for "use the backoff"
        self.wait = wait


@dataclass(frozen=True)
class RetryPolicy:
    #: how many times a 429/503 is retried before giving up
    retries: int = 3
    #: first backoff in seconds when the server gives no Retry-After; doubles each time
    backoff: float = 1.0
    #: never wait longer than this for one retry; a longer Retry-After fails the run
    max_wait: float = 60.0


#: what a 403 says when it means "slow down", not "access denied". Google's CalDAV
#: endpoint shares the Calendar API's limits and answers them so: its error reference
#: (developers.google.com/calendar/api/guides/errors) lists 403 usageLimits /
#: rateLimitExceeded, userRateLimitExceeded and quotaExceeded, "use exponential
#: backoff", the same as for 429; its usage limits guide puts the budget at 600
#: requests per minute per user (developers.google.com/calendar/api/guides/quota).
USAGE_LIMIT_REASONS = ("usageLimits", "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded")


def usage_limited(body: object) -> bool:
    """Whether a 403's body names one of Google's usage limits (`USAGE_LIMIT_REASONS`)."""
    if isinstance(body, bytes):
        body = body[:65536].decode("utf-8", errors="replace")
    return isinstance(body, str) and any(reason in body for reason in USAGE_LIMIT_REASONS)


def keep_retry_after(client: Any) -> None:
    """Remember each reply's Retry-After on `client` (a DAVClient).

    The library raises on a 403 before its headers reach `dav_request`; a usage-limit
    403 may still say how long to wait, and that wait is honoured as a 429's is.
    """

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        client.calsync_retry_after = response.headers.get("Retry-After")
        return response

    client.session.hooks.setdefault("response", []).append(hook)


def host_of(url: str) -> str:
    """host[:port] for messages; never the userinfo part of a URL."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


# -- the one-line errors both transports raise ------------------------------------------


def auth_failed(host: str) -> AuthFailed:
    return AuthFailed(
        f"{host}: credentials refused (HTTP 401); check the username and "
        "password or token in calsync.toml"
    )


def forbidden(host: str, url: str, preconditions: list[str]) -> Forbidden:
    return Forbidden(f"{host}: access denied to {urlsplit(url).path} (HTTP 403)", preconditions)


def tls_failed(host: str, exc: BaseException) -> ConnectionFailed:
    return ConnectionFailed(
        f"TLS failure talking to {host}: {_short(exc)} "
        '(a self-signed server needs verify_tls = "/path/to/ca.pem")'
    )


def timed_out(host: str, timeout: object, method: str, url: str) -> ConnectionFailed:
    return ConnectionFailed(
        f"{host} did not answer within {timeout} s ({method} {urlsplit(url).path})"
    )


def unreachable(host: str, exc: BaseException) -> ConnectionFailed:
    return ConnectionFailed(f"cannot reach {host}: {_short(exc)}")


def unreadable(host: str, method: str, exc: BaseException) -> ProviderError:
    return ProviderError(f"{host}: unreadable reply to {method}: {_short(exc)}")


def not_xml(host: str, what: str, why: str = "not XML") -> ProviderError:
    """A 200/207 whose body is no multistatus: never "no such calendar" or "nothing listed"."""
    return ProviderError(f"{host}: the server's reply to {what} could not be read ({why})")


def cut_short(
    host: str, method: str, got: int | None = None, expected: int | None = None
) -> ProviderError:
    """A reply that ended before its declared length: the server's fault, not the network's."""
    size = f": {got} of {got + expected} bytes" if got is not None and expected else ""
    return ProviderError(
        f"{host}: the server's reply to {method} could not be read (cut short{size})"
    )


def refused_as_conflict(host: str, item_id: str) -> ProviderError:
    """A 412 on a create although nothing is stored under its name: not a UID clash."""
    return ProviderError(
        f"{host}: the server refused the write of {item_id} as a conflict (HTTP 412) "
        "though no such item exists; retried next run"
    )


#: the roots a multistatus reply may have: the standard one, a bare <response>, or a
#: multistatus wrapped in <xml> (both seen from real servers; `probe` reads them, `multistatus.responses`)
_MULTISTATUS_ROOTS = {"{DAV:}multistatus", "{DAV:}response", "xml"}


def unreadable_body(response: Any) -> str | None:
    """Why a 200/207 reply's body is no multistatus ("not XML", ...); None if it is one.

    Both transports leave `tree` None for a body that is no XML (the caldav library's
    DAVResponse, and `probe.Reply`, which reads it the same way); an empty body is
    the server saying nothing, not a broken reply. An HTML page is often well-formed
    XML, so the root element is checked too.
    """
    tree = getattr(response, "tree", None)
    if tree is None:
        raw = getattr(response, "_raw", b"")
        return "not XML" if isinstance(raw, str | bytes) and raw.strip() else None
    tag = getattr(tree, "tag", None)
    if isinstance(tag, str) and tag not in _MULTISTATUS_ROOTS:
        return f"not a WebDAV multistatus but <{tag.rpartition('}')[2]}>"
    return None


# -- the retry loop ----------------------------------------------------------------------


def with_retries(
    url: str,
    attempt: Callable[[], R],
    *,
    retry: RetryPolicy,
    sleep: Callable[[float], object] = time.sleep,
) -> R:
    """`attempt()`, again after a wait each time it raises `Overloaded`, within `retry`."""
    host = host_of(url)
    tries = 0
    while True:
        try:
            return attempt()
        except Overloaded as exc:
            status, wait = exc.status, exc.wait
        tries += 1
        what = f"HTTP {status}" + (", usage limit" if status == 403 else "")
        if tries > retry.retries:
            raise ConnectionFailed(
                f"{host} is overloaded ({what}); gave up after {retry.retries} retries"
            )
        if wait is None:
            wait = retry.backoff * (2 ** (tries - 1))
        if wait > retry.max_wait:
            raise ConnectionFailed(
                f"{host} asks to retry after {wait:.0f} s ({what}); more than the "
                f"{retry.max_wait:.0f} s calsync waits"
            )
        deadline.check(host, f"a wait of {wait:.0f} s to retry ({what})", wait)
        sleep(max(0.0, wait))


def dav_request(
    client: Any,
    method: str,
    url: str,
    body: str | bytes = "",
    headers: Mapping[str, str] | None = None,
    *,
    retry: RetryPolicy,
    sleep: Callable[[float], object] = time.sleep,
) -> Any:
    """Send one DAV request through `client` (a caldav DAVClient); returns its DAVResponse.

    Statuses other than 401/403/429/503 are returned for the caller to judge; a 403
    naming a usage limit is retried as a 429 is.
    """
    return with_retries(
        url, lambda: _attempt(client, method, url, body, headers), retry=retry, sleep=sleep
    )


def _attempt(
    client: Any, method: str, url: str, body: str | bytes, headers: Mapping[str, str] | None
) -> Any:
    # imported here, not at the top: a run whose only request is probe's never
    # loads the library's transport (niquests, urllib3, lxml)
    from caldav.lib import error as dav_error
    from caldav.lib.http_sync import requests as http

    host = host_of(url)
    try:
        with deadline.request(host, f"{method} {urlsplit(url).path}"):
            response = client.request(url, method, body, dict(headers or {}))
    except dav_error.RateLimitError as exc:
        raise Overloaded(exc.status or 429, exc.retry_after_seconds) from None
    except dav_error.AuthorizationError as exc:
        if exc.status == 403 and usage_limited(exc.body):
            retry_after = getattr(client, "calsync_retry_after", None)
            raise Overloaded(403, parse_retry_after(retry_after)) from None
        if exc.status == 403:
            raise forbidden(host, url, list(exc.preconditions)) from None
        raise auth_failed(host) from None
    except http.exceptions.SSLError as exc:
        raise tls_failed(host, exc) from None
    except http.exceptions.Timeout:
        raise timed_out(host, client.timeout, method, url) from None
    except http.exceptions.RequestException as exc:
        if "IncompleteRead" in str(exc) or isinstance(exc, http.exceptions.ChunkedEncodingError):
            raise cut_short(host, method) from None  # the connection was fine; the reply not
        raise unreachable(host, exc) from None
    except dav_error.DAVError as exc:
        raise ProviderError(f"{host}: {method} failed: {_short(exc)}") from None
    except OSError as exc:  # e.g. niquests: verify_tls names no CA file
        raise unreachable(host, exc) from None
    except (ValueError, SyntaxError) as exc:  # lxml: a reply that claims XML but is not
        raise unreadable(host, method, exc) from None
    if response.status in (429, 503):
        headers_in = response.headers
        raise Overloaded(
            response.status,
            parse_retry_after(headers_in.get("Retry-After") if headers_in is not None else None),
        )
    return response
