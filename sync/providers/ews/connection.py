"""Reaching Exchange: credentials, version, retry policy, TLS and deadlines.

exchangelib keeps class-level pools and caches one Protocol per endpoint and
credentials; everything calsync tunes about them is done here, under one lock.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Build,
    Configuration,
    Credentials,
    EWSTimeZone,
    FaultTolerance,
    Identity,
    OAuth2Credentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.protocol import BaseProtocol, Protocol
from exchangelib.version import VERSIONS

from sync.providers import deadline
from sync.providers.base import ProviderError
from sync.providers.ews.config import ExchangeSettings
from sync.providers.ews.errors import raise_provider_error
from sync.secrets import resolve_secret

#: exchangelib's class-level pool sizes and adapters are shared; guard our tweaks
PROTOCOL_LOCK = threading.Lock()
#: id(protocol) -> (the protocol, how many open accounts use it). exchangelib shares one
#: Protocol, and with max_connections=1 one session, between every mailbox of a
#: service account. Closing it while another thread's request is between taking that
#: session and giving it back let a third thread find the pool "full" yet empty and
#: wait for a session forever (seen with three mailboxes in `sync --all`); so the
#: last account to let go closes it, under the lock every account is opened under.
_IN_USE: dict[int, tuple[Any, int]] = {}

# exchangelib's DEBUG records carry request headers (Basic/NTLM credentials, OAuth
# tokens) and whole mailbox XML; calsync's logs must never hold secrets
for _name in ("exchangelib", "requests_ntlm", "requests_oauthlib", "oauthlib"):
    _logger = logging.getLogger(_name)
    if _logger.level < logging.INFO:  # NOTSET would follow a root logger set to DEBUG
        _logger.setLevel(logging.INFO)


class BoundedRetry(FaultTolerance):  # type: ignore[misc]
    """Honour ErrorServerBusy back-off, but never for longer than `max_backoff` in a row.

    exchangelib's FaultTolerance retries as long as each single back-off fits its limit,
    so a server that keeps saying "busy" would hold a headless run forever (R14). Here
    the back-offs between two successful responses add up to a bound; a longer one
    defers the user (`Throttled`). A 401 is retried once, as exchangelib does, because
    EWS sometimes sends it to throttle; a second one is a wrong password.
    """

    def __init__(self, max_backoff: float) -> None:
        super().__init__(max_wait=max_backoff)
        self._waited = 0.0
        self._retried_401 = False

    def back_off(self, seconds: float | None) -> None:
        seconds = self.DEFAULT_BACKOFF if seconds is None else seconds
        self._waited += seconds
        if self._waited > self.max_wait:
            self._waited = 0.0
            raise ews_errors.RateLimitError("Max timeout reached", wait=seconds)
        super().back_off(seconds)

    def raise_response_errors(self, response: Any) -> Any:
        if response.status_code == 401:
            if not self._retried_401:
                # "EWS sometimes throws 401's when it wants us to throttle connections"
                # (exchangelib): one retry after a short pause, then it is the password
                self._retried_401 = True
                raise ews_errors.ErrorServerBusy("HTTP 401 (throttling?)", back_off=1)
            raise ews_errors.UnauthorizedError(f"Invalid credentials for {response.url}")
        if response.status_code == 200:
            self._waited = 0.0
            self._retried_401 = False
        return super().raise_response_errors(response)


def adapter_class(verify: bool | str | None) -> type[requests.adapters.HTTPAdapter]:
    class _VerifyAdapter(requests.adapters.HTTPAdapter):
        """Pins TLS verification to the [exchange] setting (unless None) for every
        request, and bounds each request whole (connect, send, the full reply) by the
        request deadline."""

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if verify is not None:
                kwargs["verify"] = verify
            parts = urlsplit(request.url)
            with deadline.request(parts.netloc, f"{request.method} {parts.path}"):
                response = super().send(request, *args, **kwargs)
                if not kwargs.get("stream"):
                    response.content  # noqa: B018 - read the body inside the deadline
                return response

    return _VerifyAdapter


# autodiscover's requests too: exchangelib's documented hook for the adapter
BaseProtocol.HTTP_ADAPTER_CLS = adapter_class(None)


def version_of(conn: ExchangeSettings) -> Any:
    """The configured Exchange version (skips exchangelib's probe), or None."""
    if not conn.version:
        return None
    for build, api_version, _ in VERSIONS:
        if api_version == conn.version:
            return Version(build=build, api_version=api_version)
    return Version(build=Build(15, 1), api_version=conn.version)


def credentials(conn: ExchangeSettings, mailbox: str) -> tuple[Any, str]:
    """exchangelib credentials and auth type for the service account (secrets resolved)."""
    table = conn.table
    if conn.auth == "oauth":
        secret = resolve_secret(table, "client_secret", "exchange")
        creds = OAuth2Credentials(
            client_id=conn.client_id,
            client_secret=str(secret),
            tenant_id=conn.tenant_id,
            identity=Identity(primary_smtp_address=mailbox),
        )
        return creds, OAUTH2
    password = resolve_secret(table, "password", "exchange")
    creds = Credentials(username=conn.username, password=str(password))
    return creds, NTLM if conn.auth == "ntlm" else BASIC


def zone_of(conn: ExchangeSettings) -> Any:
    """The zone all-day items are read in: the configured one, else the host's."""
    if conn.timezone:
        return EWSTimeZone(conn.timezone)
    try:
        return EWSTimeZone.localzone()
    except Exception:  # no Windows name for the host zone, or none found
        return EWSTimeZone("UTC")


def release_account(account: Any) -> None:
    """The account is done: its protocol's connections close when no other uses it."""
    protocol = account.protocol
    with PROTOCOL_LOCK:
        _, held = _IN_USE.get(id(protocol), (protocol, 1))
        if held > 1:
            _IN_USE[id(protocol)] = (protocol, held - 1)
            return
        _IN_USE.pop(id(protocol), None)
        protocol.close()


def open_account(conn: ExchangeSettings, mailbox: str) -> Any:
    """An exchangelib Account acting on `mailbox` as the service account."""
    creds, auth_type = credentials(conn, mailbox)
    config = Configuration(
        service_endpoint=conn.service_endpoint,
        credentials=creds,
        auth_type=auth_type,
        version=version_of(conn),
        retry_policy=BoundedRetry(conn.max_backoff),
        max_connections=1,
    )
    access = IMPERSONATION if conn.access == "impersonation" else DELEGATE
    try:
        with PROTOCOL_LOCK:
            if conn.service_endpoint:
                # exchangelib picks the HTTP adapter per Protocol class and caches protocols
                # per endpoint+credentials; a subclass created first is the one Account reuses
                verify = None if conn.verify_tls is True else conn.verify_tls
                cls = type(
                    "CalsyncProtocol", (Protocol,), {"HTTP_ADAPTER_CLS": adapter_class(verify)}
                )
                cls(config=config)
            account = Account(
                primary_smtp_address=mailbox,
                access_type=access,
                config=config,
                autodiscover=conn.autodiscover,
                credentials=creds if conn.autodiscover else None,
                default_timezone=zone_of(conn),
                locale="en_US",
            )
            # exchangelib shares one Protocol per endpoint+credentials; make sure it runs
            # with this table's timeout and back-off bound even if another made it first
            account.protocol.TIMEOUT = conn.timeout
            account.protocol.config.retry_policy = config.retry_policy
            held = _IN_USE.get(id(account.protocol), (account.protocol, 0))[1]
            _IN_USE[id(account.protocol)] = (account.protocol, held + 1)
    except ProviderError:
        raise
    except Exception as exc:  # exchangelib raises from deep inside requests/lxml too
        raise_provider_error(exc, conn, mailbox)
    return account
