"""The HTTP edge of the Microsoft 365 adapter: Graph requests.

The app-only token comes from `tokens.py`. REST calls go through one
`requests.Session` with a timeout on every call and bounded retries that
honour Retry-After on 429/503/504. Failures become one-line `ProviderError`s that
name the fix (AADSTS codes from the token endpoint, access policy on 403, ...).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from sync.providers import deadline
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConnectionFailed,
    EtagMismatch,
    ItemNotFound,
    ItemRefused,
    ProviderError,
    Throttled,
)
from sync.providers.graph.settings import GraphSettings
from sync.providers.graph.tokens import TokenSource, first_line, short
from sync.providers.wire import parse_retry_after

RETRY_STATUSES = {429, 503, 504}
WRITE_ROLE = "Calendars.ReadWrite"
#: Prefer headers: times in UTC, bodies as text (Outlook keeps the HTML)
PREFER_TZ = 'outlook.timezone="UTC"'
PREFER_TEXT = 'outlook.body-content-type="text"'


class GraphHTTPError(ProviderError):
    """A Graph error response the caller may want to translate (404, 410, 412, 400, ...)."""

    def __init__(self, status: int, code: str, message: str, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.code = code
        self.graph_message = message


class GraphClient:
    """One mailbox's conversation with Graph: token, session, retries, error mapping."""

    def __init__(
        self,
        conf: GraphSettings,
        mailbox: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conf = conf
        self.mailbox = mailbox
        self.tokens = TokenSource(conf)
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        #: how retries wait (tests record the waits instead of sleeping)
        self.sleep = sleep
        self.host = urlsplit(conf.graph_url).netloc

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        if path.startswith("https://"):
            # nextLink/deltaLink: never send the bearer token anywhere but Graph
            if not path.startswith(self.conf.graph_origin + "/"):
                raise ProviderError(f"Graph sent a link to another host: {urlsplit(path).netloc}")
            return path
        return f"{self.conf.api}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request; returns 2xx responses, raises typed errors for the rest."""
        url = self.url(path)
        attempt = 0
        refreshed = False
        network_retried = False
        conflict_retried = False
        while True:
            send_headers = {"Authorization": f"Bearer {self.tokens.token(refresh=False)}"}
            send_headers.update(headers or {})
            try:
                with deadline.request(self.host, f"{method} {urlsplit(url).path}"):
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        headers=send_headers,
                        timeout=self.conf.timeout,
                        verify=self.conf.verify,
                    )
            except requests.exceptions.SSLError as exc:
                raise ConnectionFailed(
                    f"TLS failure talking to {self.host}: {short(exc)} "
                    '(a private CA needs [graph] verify_tls = "/path/to/ca.pem")'
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if network_retried:
                    if isinstance(exc, requests.exceptions.Timeout):
                        raise ConnectionFailed(
                            f"{self.host} did not answer within {self.conf.timeout:g} s "
                            f"({method} {urlsplit(url).path})"
                        ) from None
                    raise ConnectionFailed(f"cannot reach {self.host}: {short(exc)}") from None
                network_retried = True
                continue
            except requests.exceptions.RequestException as exc:
                raise ConnectionFailed(f"{self.host}: {method} failed: {short(exc)}") from None
            if response.status_code < 400:
                return response
            if response.status_code == 401 and not refreshed:
                # a token revoked or expired early: one fresh token, then give up
                refreshed = True
                self.tokens.token(refresh=True)
                continue
            if response.status_code == 412 and method == "GET" and not conflict_retried:
                # Exchange answers a read that races a write with a transient 412
                # ErrorIrresolvableConflict: a read has no If-Match, so ask once more
                conflict_retried = True
                continue
            if response.status_code in RETRY_STATUSES:
                attempt += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if attempt > self.conf.retries:
                    raise ConnectionFailed(
                        f"Microsoft Graph is throttling or unavailable for {self.mailbox} "
                        f"(HTTP {response.status_code}); gave up after {self.conf.retries} retries"
                    )
                if wait is None:
                    wait = float(2 ** (attempt - 1))
                if wait > self.conf.max_wait:
                    # more than calsync waits within a run ([graph] max_retry_wait):
                    # the user is deferred until then, not failed
                    raise Throttled(
                        f"Microsoft Graph (HTTP {response.status_code}) for {self.mailbox}",
                        datetime.now(UTC) + timedelta(seconds=wait),
                    )
                deadline.check(self.host, f"a wait of {wait:.0f} s to retry", wait)
                self.sleep(wait)
                continue
            raise self.error(response)

    def error(self, response: requests.Response) -> ProviderError:
        status = response.status_code
        code, message = "", ""
        try:
            err = response.json().get("error") or {}
            code, message = str(err.get("code") or ""), first_line(str(err.get("message") or ""))
        except (ValueError, AttributeError):
            message = first_line(response.text)
        mailbox = self.mailbox
        if status == 401:
            return AuthFailed(
                f"Microsoft Graph refused the app's token for {mailbox} ({code}: {message})"
            )
        if status == 403:
            return AuthFailed(self.access_denied(message))
        if status == 404 and code != "ErrorItemNotFound":
            if code in (
                "ErrorInvalidUser",
                "ResourceNotFound",
                "MailboxNotEnabledForRESTAPI",
                "ErrorInvalidMailbox",
                "Request_ResourceNotFound",
            ):
                return CalendarNotFound(
                    f"mailbox {mailbox} does not exist in Microsoft 365 (or has no Exchange "
                    f"Online mailbox): {code}"
                )
        summary = f"Microsoft Graph answered {status} for {mailbox}"
        if code or message:
            summary += f" ({code}: {message})" if code else f" ({message})"
        if status >= 500:
            return ConnectionFailed(summary)
        return GraphHTTPError(status, code, message, summary)

    def access_denied(self, message: str) -> str:
        roles = self.tokens.roles()
        if roles is not None and WRITE_ROLE not in roles and "Calendars.Read" in roles:
            return (
                f"the app may only read {self.mailbox}: grant the Calendars.ReadWrite "
                "application permission (with admin consent)"
            )
        text = (
            f"the app may not access {self.mailbox}: add the mailbox to the application "
            "access policy"
        )
        if roles is not None and not any(r.startswith("Calendars.") for r in roles):
            # no Entra grant in the token: either consent is missing or access is meant to
            # come from an Exchange RBAC for Applications role assignment
            text += (
                " and grant Calendars.ReadWrite with admin consent (or assign the role "
                "'Application Calendars.ReadWrite' with Exchange RBAC for Applications)"
            )
        return f"{text} (Graph: {message or 'access denied'})"


def write_error(exc: GraphHTTPError, item_id: str, etag: str) -> ProviderError:
    """A refused write as the engine's error: conflict, gone, refused item, or as is."""
    if exc.status == 412:
        return EtagMismatch(item_id, etag)
    if exc.status == 404 or exc.code in ("ErrorItemNotFound", "ErrorInvalidIdMalformed"):
        return ItemNotFound(item_id)
    if exc.status == 400:
        return ItemRefused(item_id, exc.graph_message or str(exc))
    return exc
