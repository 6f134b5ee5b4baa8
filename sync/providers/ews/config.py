"""The `[exchange]` table of calsync.toml, validated without connecting.

    [exchange]
    service_endpoint = "https://mail.example.com/EWS/Exchange.asmx"   # or: autodiscover = true
    auth = "ntlm"                     # ntlm | basic | oauth
    username = "EXAMPLE\\svc-calsync" # the service account (ntlm/basic)
    password_env = "CALSYNC_EWS_PASSWORD"   # or password_file / password_keyring
    access = "impersonation"          # impersonation | delegate
    # oauth (Exchange Online, client credentials):
    # tenant_id = "..."; client_id = "..."; client_secret_env = "..."
    verify_tls = true                 # or false, or a CA bundle path
    timeout = 60                      # seconds per socket read ([job] request_deadline: whole request)
    max_backoff = 60                  # seconds of ErrorServerBusy back-off; longer defers the user
    version = "Exchange2016"          # optional; skips the version probe
    timezone = "Europe/Stockholm"     # zone for all-day items; default the host's
    page_size = 200                   # items per calendar-view request

Kept free of exchangelib so a bad table fails fast with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.providers.base import ConfigError
from sync.secrets import has_secret

AUTH_TYPES = ("ntlm", "basic", "oauth")
ACCESS_TYPES = ("impersonation", "delegate")
API_VERSIONS = (
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2016",
)
SECRET_REFS = tuple(
    f"{key}_{kind}" for key in ("password", "client_secret") for kind in ("env", "file", "keyring")
)
KNOWN_KEYS = frozenset(
    {
        "service_endpoint",
        "autodiscover",
        "auth",
        "username",
        "access",
        "tenant_id",
        "client_id",
        "verify_tls",
        "timeout",
        "max_backoff",
        "version",
        "timezone",
        "page_size",
        *SECRET_REFS,
    }
)


@dataclass(frozen=True)
class ExchangeSettings:
    service_endpoint: str | None
    autodiscover: bool
    auth: str
    username: str
    access: str
    tenant_id: str
    client_id: str
    verify_tls: bool | str
    timeout: float
    max_backoff: float
    version: str | None
    timezone: str | None
    page_size: int
    #: the raw table, for resolving secret references when connecting
    table: Mapping[str, Any]

    @property
    def account_name(self) -> str:
        """How the service account is named in messages."""
        return self.username or f"app {self.client_id}"


def _number(table: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"[exchange] {key} must be a number from {low:g} to {high:g}")
    return float(value)


def parse_settings(raw: Any) -> ExchangeSettings:
    if raw is None:
        raise ConfigError("ews: calendars need an [exchange] table in calsync.toml")
    if not isinstance(raw, Mapping):
        raise ConfigError("[exchange] must be a table")
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"[exchange] has unknown key {unknown[0]!r}")

    endpoint = raw.get("service_endpoint")
    autodiscover = raw.get("autodiscover", False)
    if not isinstance(autodiscover, bool):
        raise ConfigError("[exchange] autodiscover must be true or false")
    if endpoint is not None:
        parsed = urlparse(str(endpoint))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"[exchange] service_endpoint {endpoint!r} is not an http(s) URL")
    if bool(endpoint) == autodiscover:
        raise ConfigError("[exchange] needs either service_endpoint or autodiscover = true")

    auth = str(raw.get("auth", "ntlm")).lower()
    if auth not in AUTH_TYPES:
        raise ConfigError(f"[exchange] auth must be one of {', '.join(AUTH_TYPES)} (got {auth!r})")
    access = str(raw.get("access", "impersonation")).lower()
    if access not in ACCESS_TYPES:
        raise ConfigError(f"[exchange] access must be impersonation or delegate (got {access!r})")

    username = str(raw.get("username", ""))
    tenant_id = str(raw.get("tenant_id", ""))
    client_id = str(raw.get("client_id", ""))
    if auth == "oauth":
        if not (tenant_id and client_id):
            raise ConfigError("[exchange] auth = oauth needs tenant_id and client_id")
        if not has_secret(raw, "client_secret"):
            raise ConfigError(
                "[exchange] auth = oauth needs client_secret_env, client_secret_file "
                "or client_secret_keyring"
            )
        if access != "impersonation":
            raise ConfigError(
                "[exchange] auth = oauth (app-only) works with access = impersonation"
            )
    else:
        if not username:
            raise ConfigError(f"[exchange] auth = {auth} needs username (the service account)")
        if not has_secret(raw, "password"):
            raise ConfigError(
                "[exchange] needs password_env, password_file or password_keyring "
                "(where the service account's password is kept)"
            )

    verify = raw.get("verify_tls", True)
    if not isinstance(verify, bool | str) or verify == "":
        raise ConfigError("[exchange] verify_tls must be true, false or a CA bundle path")

    version = raw.get("version")
    if version is not None and version not in API_VERSIONS:
        raise ConfigError(f"[exchange] version must be one of {', '.join(API_VERSIONS)}")

    tz = raw.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"[exchange] timezone {tz!r} is not a known time zone") from exc

    page_size = raw.get("page_size", 200)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 2 <= page_size <= 1000:
        raise ConfigError("[exchange] page_size must be a whole number from 2 to 1000")

    return ExchangeSettings(
        service_endpoint=str(endpoint) if endpoint else None,
        autodiscover=autodiscover,
        auth=auth,
        username=username,
        access=access,
        tenant_id=tenant_id,
        client_id=client_id,
        verify_tls=verify,
        timeout=_number(raw, "timeout", 60, 1, 600),
        max_backoff=_number(raw, "max_backoff", 60, 0, 3600),
        version=str(version) if version else None,
        timezone=str(tz) if tz else None,
        page_size=page_size,
        table=raw,
    )
