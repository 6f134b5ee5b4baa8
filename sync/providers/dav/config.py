"""The `[caldav]` settings of one calendar: its URL, the server's table, its credentials.

Connection settings come from the `[caldav]` table of calsync.toml (or `[google]` for
Google's endpoint), optionally refined per server by `[caldav.servers."https://host/"]`
subtables (the longest prefix of the calendar URL wins). Nothing here connects: a
bad setting is a `ConfigError` before any request.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sync.providers.base import ConfigError
from sync.secrets import Secret, has_secret, resolve_secret


def server_table(settings: Mapping[str, Any], section: str, url: str) -> dict[str, Any]:
    """The `[section]` table merged with its longest `servers."PREFIX"` match for `url`."""
    table = settings.get(section) or {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"[{section}] in calsync.toml must be a table")
    merged = {k: v for k, v in table.items() if k != "servers"}
    servers = table.get("servers") or {}
    if not isinstance(servers, Mapping):
        raise ConfigError(f"[{section}.servers] must be a table of server URLs")
    matches = [p for p in servers if isinstance(p, str) and url.startswith(p)]
    if matches:
        sub = servers[max(matches, key=len)]
        if not isinstance(sub, Mapping):
            raise ConfigError(f'[{section}.servers."{max(matches, key=len)}"] must be a table')
        merged.update(sub)
    return merged


def collection_url(url: str) -> str:
    """The calendar collection's http(s) URL of `caldav:URL`, ending in '/'."""
    _, _, rest = url.partition(":")
    parts = urlsplit(rest)
    if parts.username is not None or parts.password is not None:
        # never echo it: the URL holds a password
        raise ConfigError(
            "a caldav: URL must not hold credentials; put the username and a "
            "password_env/_file/_keyring reference in [caldav]"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"calendar {url!r}: expected caldav:https://host/path/to/calendar/")
    if parts.query or parts.fragment:
        raise ConfigError(f"calendar {url!r}: a CalDAV URL has no ?query or #fragment")
    return rest if rest.endswith("/") else rest + "/"


def number(table: Mapping[str, Any], section: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"[{section}] {key} must be a number ≥ 0 (got {value!r})")
    return float(value)


def verify_tls(table: Mapping[str, Any], section: str) -> bool | str:
    verify = table.get("verify_tls", True)
    if not isinstance(verify, (bool, str)):
        raise ConfigError(f"[{section}] verify_tls must be true, false or a CA file path")
    return verify


@dataclass(frozen=True)
class Credentials:
    """The resolved `[caldav]` credentials; the secrets' reprs never show them."""

    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    #: basic | digest | auto
    mode: str = "basic"

    def probe_headers(self) -> dict[str, str] | None:
        """The Authorization header for a probe; None where only the DAVClient can log in."""
        if self.token is not None:
            if not (self.token.isascii() and self.token.isprintable()):
                return None  # no header could carry it, and an error would quote it
            return {"Authorization": f"Bearer {self.token}"}
        if self.username is None:
            return {}
        if self.mode != "basic" or self.password is None:
            return None  # digest and auto may need a challenge round trip first
        pair = f"{self.username}:{self.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def client_auth(self) -> dict[str, Any]:
        """DAVClient keyword arguments for these credentials."""
        if self.token is not None:
            from caldav.requests import HTTPBearerAuth

            return {"auth": HTTPBearerAuth(self.token)}
        if self.username is None:
            return {}
        kwargs: dict[str, Any] = {"username": self.username, "password": str(self.password)}
        if self.mode != "auto":
            # naming the scheme saves the 401 round trip negotiation would cost each run
            kwargs["auth_type"] = self.mode
        return kwargs


def resolve_credentials(table: Mapping[str, Any], where: str) -> Credentials:
    """The configured credentials (env, 0600 file or keyring); ConfigError if unusable."""
    if has_secret(table, "token"):
        return Credentials(token=resolve_secret(table, "token", where))
    if (username := table.get("username")) is None:
        if has_secret(table, "password"):
            raise ConfigError(f"[{where}] has a password reference but no username")
        return Credentials()  # anonymous, e.g. a server behind an authenticating proxy
    password: Secret = resolve_secret(table, "password", where)
    mode = table.get("auth", "basic")
    if mode not in ("basic", "digest", "auto"):
        raise ConfigError(f"[{where}] auth must be basic, digest or auto (got {mode!r})")
    return Credentials(username=str(username), password=password, mode=mode)
