"""Google Calendar through Google's CalDAV endpoint: `google:CALENDAR_ID`.

    [google]
    # the server job: one Workspace service account with domain-wide delegation;
    # it acts as each user (the subject is the calendar id, i.e. the user's email)
    service_account_file = "/etc/calsync/google-sa.json"   # 0600; or _env / _keyring
    # or per-user refresh tokens from `calsync google auth NAME`:
    client_id = "1234.apps.googleusercontent.com"
    client_secret_env = "CALSYNC_GOOGLE_CLIENT_SECRET"    # or _file / _keyring
    token_file = "/srv/calsync/google-tokens.json"       # 0600, written by `google auth`
    # base_url = "https://apidata.googleusercontent.com/caldav/v2"   (tests point it elsewhere)
    # token_uri = "https://oauth2.googleapis.com/token"

Access tokens live in memory only and are refreshed before they expire (and once
more if Google answers 401). Google's CalDAV quirks handled here or in the CalDAV
adapter: no MKCALENDAR (calsync never creates calendars), If-Match only (no
If-None-Match on create), 409 when re-creating a deleted event's UID (the engine
retries with a fresh UID), VTIMEZONE-only leftover objects (skipped), and 507 on
sync-collection (time-range listing instead).

A create repeated after a lost answer PUTs to the same href (named after the UID),
so without If-None-Match it rewrites that one resource rather than adding a second.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from caldav.lib.http_sync import AuthBase

from sync.providers import deadline
from sync.providers.base import (
    AuthFailed,
    Capabilities,
    ConfigError,
    ConnectionFailed,
    ItemRefused,
    ProviderError,
)
from sync.providers.dav.http import Forbidden
from sync.providers.dav.provider import CalDAVProvider
from sync.secrets import has_secret, resolve_secret

DEFAULT_BASE_URL = "https://apidata.googleusercontent.com/caldav/v2"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPES = ["https://www.googleapis.com/auth/calendar"]


# -- the per-user token file ---------------------------------------------------------------


def _token_path(table: Mapping[str, Any]) -> Path:
    raw = table.get("token_file")
    if not isinstance(raw, str) or not raw:
        raise ConfigError("[google] token_file must name the token file")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"[google] token_file {raw!r} must be an absolute path")
    return path


def read_tokens(path: Path) -> dict[str, dict[str, Any]]:
    """calendar id -> {"refresh_token": ...}; {} if the file does not exist yet."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"[google] token_file {path} cannot be read: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"[google] token_file {path} is readable by others; run: chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"[google] token_file {path} is not a token file: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"[google] token_file {path} is not a token file")
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def store_token(path: Path, calendar_id: str, refresh_token: str) -> None:
    """Write one calendar's refresh token; the file is created 0600 and replaced atomically."""
    tokens = read_tokens(path)
    tokens[calendar_id] = {"refresh_token": refresh_token}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out, indent=2, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def client_config(table: Mapping[str, Any]) -> tuple[str, str, str]:
    """(client_id, client_secret, token_uri) of the installed-app OAuth client."""
    client_id = table.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError("[google] client_id is needed for per-user tokens (token_file)")
    secret = resolve_secret(table, "client_secret", "google")
    token_uri = str(table.get("token_uri", DEFAULT_TOKEN_URI))
    return client_id, str(secret), token_uri


# -- the provider ------------------------------------------------------------------------------


class GoogleProvider(CalDAVProvider):
    scheme: ClassVar[str] = "google"
    section: ClassVar[str] = "google"
    # Google answers If-None-Match with an error; a create goes to a fresh UID's href
    if_none_match: ClassVar[bool] = False
    # Google stamps LAST-MODIFIED itself, and keeps deleted events' UIDs (409)
    capabilities: ClassVar[Capabilities] = Capabilities(trusted_mtime=True, reuse_uid=False)
    # a calendar id is never re-used for another calendar; no marker to set
    dead_properties: ClassVar[bool] = False

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        self.calendar_id = self.calendar_id_of(url)
        super().__init__(url, settings=settings)
        self._credentials: Any = None

    @classmethod
    def calendar_id_of(cls, url: str) -> str:
        _, _, calendar_id = url.partition(":")
        calendar_id = calendar_id.strip()
        if not calendar_id or "/" in calendar_id or any(c.isspace() for c in calendar_id):
            raise ConfigError(
                f"calendar {url!r}: expected google:CALENDAR_ID (e.g. google:anna@example.com)"
            )
        return calendar_id

    @classmethod
    def normalize_url(cls, url: str) -> str:
        return f"{cls.scheme}:{cls.calendar_id_of(url)}"

    def _collection_url_for(self, url: str) -> str:
        table = self.settings.get("google") or {}
        base = str(table.get("base_url", DEFAULT_BASE_URL)).rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ConfigError(f"[google] base_url {base!r} is not an http(s) URL")
        return f"{base}/{quote(self.calendar_id_of(url), safe='@')}/events/"

    def identity(self) -> str:
        props = self._collection_props()
        resource_id = props.get("{DAV:}resource-id")
        ident = f"google:{self.calendar_id}"
        return f"{ident}#{resource_id}" if isinstance(resource_id, str) and resource_id else ident

    # -- OAuth -----------------------------------------------------------------------------

    def _auth(self) -> dict[str, Any]:
        if self._credentials is None:
            self._credentials = self._load_credentials()
        # the token is filled in at send time, after any refresh in `_request`
        return {"auth": _LiveBearer(lambda: str(self._credentials.token))}

    def _probe_headers(self) -> dict[str, str] | None:
        return None  # the access token is refreshed in `_request`, which a probe bypasses

    def _load_credentials(self) -> Any:
        table = self.table
        if has_secret(table, "service_account"):
            from google.oauth2 import service_account

            raw = resolve_secret(table, "service_account", "google")
            try:
                info = json.loads(raw)
                subject = str(table.get("subject") or self.calendar_id)
                return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=SCOPES, subject=subject
                )
            except (ValueError, KeyError, TypeError) as exc:
                # never echo the key material: name the problem only
                raise ConfigError(
                    f"[google] service_account key is not a service-account key file "
                    f"({type(exc).__name__})"
                ) from None
        if "token_file" in table:
            from google.oauth2.credentials import Credentials

            path = _token_path(table)
            entry = read_tokens(path).get(self.calendar_id)
            if not entry or not entry.get("refresh_token"):
                raise AuthFailed(
                    f"no Google authorization for {self.calendar_id} in {path}; "
                    "run: calsync google auth USER"
                )
            client_id, client_secret, token_uri = client_config(table)
            return Credentials(  # type: ignore[no-untyped-call]
                None,
                refresh_token=str(entry["refresh_token"]),
                token_uri=token_uri,
                client_id=client_id,
                client_secret=client_secret,
                scopes=SCOPES,
            )
        raise ConfigError(
            "[google] needs service_account_file (service account with domain-wide "
            "delegation) or token_file + client_id + client_secret_env (per-user consent)"
        )

    def _refresh(self) -> None:
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        transport = Request()
        timeout = self.timeout

        def timed(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            url = urlsplit(str(kwargs.get("url") or (args[0] if args else "")))
            what = f"{kwargs.get('method', 'POST')} {url.path}"
            with deadline.request(url.netloc or "Google's token endpoint", what):
                return transport(*args, **kwargs)

        try:
            self._credentials.refresh(timed)
        except google.auth.exceptions.RefreshError as exc:
            reason = exc.args[0] if exc.args else "refused"
            raise AuthFailed(
                f"Google refused the credentials for {self.calendar_id}: "
                f"{' '.join(str(reason).split())[:160]}"
            ) from None
        except google.auth.exceptions.TransportError as exc:
            raise ConnectionFailed(
                f"cannot reach Google's token endpoint: {' '.join(str(exc).split())[:160]}"
            ) from None

    def _request(
        self,
        method: str,
        url: str,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        self.client  # noqa: B018 - opens the client, which loads the credentials
        if not self._credentials.valid:
            self._refresh()
        try:
            return super()._request(method, url, body, headers)
        except Forbidden:
            raise
        except AuthFailed:
            # the access token may have been revoked early: one fresh token, one retry
            self._refresh()
            return super()._request(method, url, body, headers)

    # -- Google's answers ------------------------------------------------------------------

    def _conflict(self, item_id: str, response: Any) -> ProviderError:
        return ItemRefused(
            item_id, "Google keeps this UID for a deleted event (HTTP 409)", uid_conflict=True
        )


class _LiveBearer(AuthBase):  # type: ignore[misc]
    """Bearer auth that reads the token at send time, so a refresh takes effect at once."""

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def __call__(self, r: Any) -> Any:
        r.headers["Authorization"] = f"Bearer {self._token()}"
        return r
