"""Google Calendar through Google's CalDAV endpoint: `google-caldav:CALENDAR_ID`.

The Calendar API provider (`google:`, provider.py) is the one to use; this path
stays for deployments that cannot enable the Calendar API. Credentials come from
the `[google]` table (auth.py); the CalDAV endpoint needs the full `calendar` scope.

    [google]
    # base_url = "https://apidata.googleusercontent.com/caldav/v2"   (tests point it elsewhere)

Access tokens live in memory only and are refreshed before they expire (and once
more if Google answers 401). Google's CalDAV quirks handled here or in the CalDAV
adapter: no MKCALENDAR (calsync never creates calendars), If-Match only (no
If-None-Match on create), 409 when re-creating a deleted event's UID (the engine
retries with a fresh UID), VTIMEZONE-only leftover objects (skipped), and 507 on
sync-collection (time-range listing instead).

A create repeated after a lost answer PUTs to the same href (named after the UID),
so without If-None-Match it rewrites that one resource rather than adding a second.
The calendar's identity is `google:CALENDAR_ID` whichever path reaches it, so a
user moved to the Calendar API keeps its pairs (docs/google.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from caldav.lib.http_sync import AuthBase

from sync.providers.base import (
    AuthFailed,
    Capabilities,
    ConfigError,
    ItemRefused,
    ProviderError,
)
from sync.providers.dav.http import Forbidden
from sync.providers.dav.provider import CalDAVProvider
from sync.providers.google.auth import SCOPE_CALENDAR, load_credentials, refresh

DEFAULT_BASE_URL = "https://apidata.googleusercontent.com/caldav/v2"
SCOPES = [SCOPE_CALENDAR]


# -- the provider ------------------------------------------------------------------------------


class GoogleCalDAVProvider(CalDAVProvider):
    scheme: ClassVar[str] = "google-caldav"
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
                f"calendar {url!r}: expected {cls.scheme}:CALENDAR_ID "
                f"(e.g. {cls.scheme}:anna@example.com)"
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
        return load_credentials(self.table, self.calendar_id, SCOPES)

    def _refresh(self) -> None:
        refresh(self._credentials, timeout=self.timeout, calendar_id=self.calendar_id)

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
