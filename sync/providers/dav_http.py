"""The HTTP edge of the CalDAV adapter: one request with timeouts, retries and typed errors.

The caldav library's `DAVClient` does the transport (session, auth objects, XML
parsing of replies); this wraps its `request` so every call has a timeout, 429/503
are retried with backoff honouring Retry-After, and failures become one-line
`ProviderError`s an operator can act on. The library's high-level objects hide the
status codes and headers the sync needs (If-Match, 412, sync-token errors), so the
adapter speaks DAV through this one function.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from caldav.lib import error as dav_error
from caldav.lib.http_sync import requests as http

from sync.providers.base import AuthFailed, ConnectionFailed, ProviderError


class Forbidden(AuthFailed):
    """A 403. Carries the DAV:error preconditions, which may mean something else than access."""

    def __init__(self, message: str, preconditions: list[str]) -> None:
        super().__init__(message)
        self.preconditions = preconditions


@dataclass(frozen=True)
class RetryPolicy:
    #: how many times a 429/503 is retried before giving up
    retries: int = 3
    #: first backoff in seconds when the server gives no Retry-After; doubles each time
    backoff: float = 1.0
    #: never wait longer than this for one retry; a longer Retry-After fails the run
    max_wait: float = 60.0


def host_of(url: str) -> str:
    """host[:port] for messages; never the userinfo part of a URL."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    return dav_error.parse_retry_after(str(value))


def dav_request(
    client: Any,
    method: str,
    url: str,
    body: str | bytes = "",
    headers: Mapping[str, str] | None = None,
    *,
    retry: RetryPolicy,
    sleep: Any = time.sleep,
) -> Any:
    """Send one DAV request through `client` (a caldav DAVClient); returns its DAVResponse.

    Statuses other than 401/403/429/503 are returned for the caller to judge.
    """
    host = host_of(url)
    attempt = 0
    while True:
        wait: float | None
        status: int
        try:
            response = client.request(url, method, body, dict(headers or {}))
        except dav_error.RateLimitError as exc:
            status = exc.status or 429
            wait = exc.retry_after_seconds
        except dav_error.AuthorizationError as exc:
            if exc.status == 403:
                raise Forbidden(
                    f"{host}: access denied to {urlsplit(url).path} (HTTP 403)",
                    list(exc.preconditions),
                ) from None
            raise AuthFailed(
                f"{host}: credentials refused (HTTP 401); check the username and "
                "password or token in calsync.toml"
            ) from None
        except http.exceptions.SSLError as exc:
            raise ConnectionFailed(
                f"TLS failure talking to {host}: {_short(exc)} "
                '(a self-signed server needs verify_tls = "/path/to/ca.pem")'
            ) from None
        except http.exceptions.Timeout:
            raise ConnectionFailed(
                f"{host} did not answer within {client.timeout} s ({method} {urlsplit(url).path})"
            ) from None
        except http.exceptions.RequestException as exc:
            raise ConnectionFailed(f"cannot reach {host}: {_short(exc)}") from None
        except dav_error.DAVError as exc:
            raise ProviderError(f"{host}: {method} failed: {_short(exc)}") from None
        except (ValueError, SyntaxError) as exc:  # lxml: a reply that claims XML but is not
            raise ProviderError(f"{host}: unreadable reply to {method}: {_short(exc)}") from None
        else:
            if response.status not in (429, 503):
                return response
            status = response.status
            wait = _retry_after(response.headers)

        attempt += 1
        if attempt > retry.retries:
            raise ConnectionFailed(
                f"{host} is overloaded (HTTP {status}); gave up after {retry.retries} retries"
            )
        if wait is None:
            wait = retry.backoff * (2 ** (attempt - 1))
        if wait > retry.max_wait:
            raise ConnectionFailed(
                f"{host} asks to retry after {wait:.0f} s (HTTP {status}); more than the "
                f"{retry.max_wait:.0f} s calsync waits"
            )
        sleep(max(0.0, wait))
