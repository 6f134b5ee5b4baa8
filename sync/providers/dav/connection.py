"""One CalDAV calendar collection on the wire: settings, credentials, requests, hrefs.

`DavConnection` is the base of the provider's parts (`listing`, `writing`, `series`,
`provider`): it holds the run's state they share and sends every request. Requests
on the collection go over `probe` (the standard library) while no DAVClient is open,
so a run with nothing to do never loads the caldav library; everything else goes
through `http.dav_request` on the library's DAVClient.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from sync.ical import recurrence
from sync.ical.recurrence import Series
from sync.model import Event
from sync.occurrence_index import OccurrenceIndex
from sync.providers.base import (
    CalendarNotFound,
    Capabilities,
    Provider,
    ProviderError,
)
from sync.providers.dav import config, identity, probe
from sync.providers.dav.config import Credentials
from sync.providers.dav.http import (
    RetryPolicy,
    dav_request,
    host_of,
    keep_retry_after,
    not_xml,
    unreadable_body,
)

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,150}$")

_PROPFIND_COLLECTION = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><d:resourcetype/>{tokens}<d:resource-id/>"
    "<d:current-user-privilege-set/><d:displayname/>"
    f"{identity.PROP_XML}</d:prop></d:propfind>"
)
#: the change markers to ask for, by listing mode: a server computes each from every
#: item's etag (Radicale: 10 ms for sync-token, 7 ms for getctag, 17 ms for both on a
#: 200-item calendar), so a no-change run asks only for the one its mode compares. A
#: first run (no mode yet) compares nothing: the full listing that follows brings the
#: token it keeps (a query-mode server's ctag is read on its second run)
_TOKENS_FOR_MODE = {
    "sync": "<d:sync-token/>",
    "query": "<cs:getctag/>",
    None: "",
}


class DavConnection(Provider):
    scheme: ClassVar[str] = "caldav"
    #: CalDAV servers leave LAST-MODIFIED to the clients, and the common ones (and
    #: calsync) stamp it on every edit; an item without one falls back to the time
    #: the engine first saw the change
    capabilities: ClassVar[Capabilities] = Capabilities(trusted_mtime=True)
    #: the calsync.toml table holding this provider's connection settings
    section: ClassVar[str] = "caldav"
    #: send If-None-Match: * on create (Google honours only If-Match)
    if_none_match: ClassVar[bool] = True
    #: mark the collection at init with a dead property (`identity`)
    dead_properties: ClassVar[bool] = True

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        self.collection_url = self._collection_url_for(url)
        self.table = config.server_table(self.settings, self.section, self.collection_url)
        self.timeout = self._number("timeout", 30.0)
        self.retry = RetryPolicy(
            retries=int(self._number("retries", 3)),
            backoff=self._number("retry_backoff", 1.0),
            max_wait=self._number("max_retry_wait", 60.0),
        )
        self.verify_tls: bool | str = config.verify_tls(self.table, self.section)
        self._client: Any = None
        self._resolved: Credentials | None = None
        #: id -> (etag, iCalendar text) of items read in this run: a base for updates
        #: and a fetch that needs no request
        self._raw: dict[str, tuple[str, str]] = {}
        #: the collection's properties from the last PROPFIND in this run
        self._props: dict[str, Any] | None = None
        #: the listing mode whose change marker that PROPFIND asked for
        self._props_mode: str | None = None
        #: id -> (etag, Event) parsed by the sync listing: the fetch that follows in the
        #: same run reuses it instead of parsing every new item a second time
        self._parsed: dict[str, tuple[str, Event]] = {}
        #: the cache's {href: [etag, text]} of series resources (set by list_window)
        self._series: dict[str, list[str]] = {}
        #: each series' occurrences by etag, kept in the cache (set by list_window)
        self._expanded = OccurrenceIndex({}, "occurrences")
        #: href -> (etag, series) parsed while listing, used once by the expansion
        self._read_series: dict[str, tuple[str, Series]] = {}
        #: href -> (etags this run's own writes replaced, the etag after them)
        self._superseded: dict[str, tuple[set[str], str]] = {}
        self.max_occurrences = recurrence.max_occurrences(self.table, self.section)
        #: this run's listing found its sync token refused and none of the old items
        self._replaced = False

    # -- configuration ------------------------------------------------------------------

    @classmethod
    def normalize_url(cls, url: str) -> str:
        return f"{cls.scheme}:{config.collection_url(url)}"

    def _collection_url_for(self, url: str) -> str:
        return config.collection_url(url)

    def _number(self, key: str, default: float) -> float:
        return config.number(self.table, self.section, key, default)

    def _resolve_credentials(self) -> Credentials:
        """The configured credentials, resolved once per run (env, 0600 file or keyring)."""
        if self._resolved is None:
            self._resolved = config.resolve_credentials(self.table, self.section)
        return self._resolved

    def _auth(self) -> dict[str, Any]:
        """DAVClient keyword arguments for the configured credentials."""
        return self._resolve_credentials().client_auth()

    def _probe_headers(self) -> dict[str, str] | None:
        """Authorization for `probe`, or None where only the DAVClient can log in."""
        return self._resolve_credentials().probe_headers()

    # -- transport ------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The caldav DAVClient (its `.session` is the HTTP session), opened on first use."""
        if self._client is None:
            from caldav.davclient import DAVClient

            self._client = DAVClient(
                url=self.collection_url,
                timeout=self.timeout,  # type: ignore[arg-type]
                ssl_verify_cert=self.verify_tls,
                enable_rfc6764=False,
                rate_limit_handle=False,
                headers={"User-Agent": "calsync"},
                **self._auth(),
            )
            keep_retry_after(self._client)
        return self._client

    def _request(
        self,
        method: str,
        url: str,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return dav_request(self.client, method, url, body, headers, retry=self.retry)

    def _listing_request(self, method: str, body: str, headers: Mapping[str, str]) -> Any:
        """A request on the collection: over `probe` while no DAVClient is open."""
        if self._client is None and (auth := self._probe_headers()) is not None:
            # often the run's only requests: no need to load the caldav library for them
            response = probe.request(
                method,
                self.collection_url,
                body,
                {**headers, **auth},
                verify=self.verify_tls,
                timeout=self.timeout,
                retry=self.retry,
            )
            if response is not None:
                return response
        return self._request(method, self.collection_url, body, headers)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- ids and hrefs ------------------------------------------------------------------

    @property
    def _collection_path(self) -> str:
        return unquote(urlsplit(self.collection_url).path)

    def _id_of(self, href: str) -> str | None:
        """Item id for a (decoded) href: its name inside the collection, else the path."""
        base = self._collection_path
        if href.rstrip("/") == base.rstrip("/"):
            return None
        if href.startswith(base) and "/" not in href[len(base) :]:
            return href[len(base) :]
        return href

    def _href(self, item_id: str) -> str:
        if item_id.startswith("/"):
            parts = urlsplit(self.collection_url)
            return f"{parts.scheme}://{parts.netloc}{quote(item_id)}"
        return self.collection_url + quote(item_id, safe="@+")

    def _path(self, item_id: str) -> str:
        return urlsplit(self._href(item_id)).path

    @staticmethod
    def _name_for(uid: str) -> str:
        if _SAFE_NAME.match(uid) and not uid.lower().endswith(".ics"):
            return f"{uid}.ics"
        return hashlib.sha256(uid.encode()).hexdigest()[:40] + ".ics"

    # -- the collection's properties --------------------------------------------------------

    def _collection_props(self, mode: str | None = None) -> dict[str, Any]:
        body = _PROPFIND_COLLECTION.format(
            tokens=_TOKENS_FOR_MODE.get(mode, _TOKENS_FOR_MODE[None])
        )
        response = self._listing_request("PROPFIND", body, {"Depth": "0"})
        if response.status == 404:
            raise CalendarNotFound(f"calendar {self.collection_url} does not exist (HTTP 404)")
        if response.status not in (200, 207):
            raise ProviderError(
                f"{host_of(self.collection_url)}: PROPFIND {self._collection_path} answered "
                f"HTTP {response.status}"
            )
        self._readable(response, f"PROPFIND {self._collection_path}")
        try:
            results = response.parse_propfind()
        except Exception as exc:  # the library raises assorted errors on odd replies
            raise ProviderError(
                f"{host_of(self.collection_url)}: unreadable PROPFIND reply: {exc}"
            ) from None
        base = self._collection_path.rstrip("/")
        props: dict[str, Any] | None = None
        for result in results:
            if result.href.rstrip("/") == base or len(results) == 1:
                props = dict(result.properties)
        if props is None:
            raise CalendarNotFound(f"calendar {self.collection_url} does not exist")
        kinds = props.get("{DAV:}resourcetype") or []
        if "{urn:ietf:params:xml:ns:caldav}calendar" not in kinds:
            raise CalendarNotFound(f"{self.collection_url} is not a calendar collection")
        self._props = props
        self._props_mode = mode
        return props

    def _readable(self, response: Any, what: str) -> None:
        """A 200/207 whose body is no XML is a broken reply, never "no such calendar"."""
        why = unreadable_body(response)
        if why is not None:
            raise not_xml(host_of(self.collection_url), what, why)
