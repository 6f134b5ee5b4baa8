"""A CalDAV calendar collection as a calsync remote: `caldav:https://host/path/to/calendar/`.

Connection settings come from the `[caldav]` table of calsync.toml, optionally
refined per server by `[caldav.servers."https://host/"]` subtables (the longest
prefix of the calendar URL wins):

    [caldav]
    username = "anna"
    password_env = "CALSYNC_CALDAV_PASSWORD"   # or password_file / password_keyring
    # token_env = "..."                        # a bearer token instead of a password
    verify_tls = true                          # or a CA bundle path
    timeout = 30                               # seconds per socket read ([job] request_deadline: whole request)
    auth = "basic"                             # basic | digest | auto (negotiate on 401)

Listing uses WebDAV sync (RFC 6578): the sync token and an index
{item id: [etag, start (UTC ISO) or None, parse error or None]} live in the
provider cache, so a run with no changes costs one request. Servers without
sync-collection (or failing it) get a time-range calendar-query of etags instead.
Changed items are fetched with calendar-multiget, never one GET per item.

A resource holding a recurring series is listed as its occurrences in the window
(`href#<original start UTC>`, see `sync.ical.recurrence`); its text is kept in the
cache ("series": {href: [etag, text]}) so the occurrences can be worked out
again as the window moves without asking the server. An occurrence edited in
the CRM becomes an override component in the same resource, a deleted one an
EXDATE, both written with If-Match on the resource's etag. A CRM item is never
written as a series: a create of an occurrence makes a single item
(`sync.ical.recurrence.detach`).

An unknown outcome (the answer to a write lost: a 5xx or a reset after the server
did it, a timeout) is settled by the conditions every write carries: a create is a
PUT with If-None-Match: * to an href named after the UID, so a repeat meets 412 and
the next sync pairs the stored item by UID; an update or delete carries If-Match, so
a repeat is a conflict (412) or finds the item gone (404). See docs/lost-replies.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

from sync.ical import parse_event, recurrence, render_event
from sync.ical.recurrence import Series
from sync.model import Event
from sync.occurrence_index import OccurrenceIndex
from sync.providers.base import (
    AuthFailed,
    BrokenItem,
    CalendarNotFound,
    Capabilities,
    ConfigError,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Listing,
    MalformedItem,
    Provider,
    ProviderError,
    Window,
    ensure_no_notify,
)
from sync.providers.dav import each as dav_each
from sync.providers.dav import identity as dav_identity
from sync.providers.dav import probe as dav_probe
from sync.providers.dav.http import (
    Forbidden,
    RetryPolicy,
    dav_request,
    host_of,
    not_xml,
    refused_as_conflict,
    unreadable_body,
)
from sync.providers.dav.probe import Credentials
from sync.secrets import Secret, has_secret, resolve_secret

#: 2: series resources are kept in "series" and listed as occurrences
CACHE_VERSION = 2
#: hrefs per calendar-multiget; keeps each reply a sane size
MULTIGET_CHUNK = 250
#: after sync-collection failed, try it again this much later (Google's 507 comes and goes)
SYNC_RETRY_AFTER = timedelta(days=7)
#: statuses with which a server says "I do not do sync-collection (now)"
SYNC_UNSUPPORTED = {400, 403, 405, 409, 415, 500, 501, 507}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,150}$")
_CS = "http://calendarserver.org/ns/"

_PROPFIND_COLLECTION = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><d:resourcetype/>{tokens}<d:resource-id/>"
    "<d:current-user-privilege-set/><d:displayname/>"
    f"{dav_identity.PROP_XML}</d:prop></d:propfind>"
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
_PROPFIND_ETAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)
_SYNC_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>"
    "<d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"
)
_QUERY_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/></d:prop>"
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
    '<c:time-range start="{start}" end="{end}"/>'
    "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
)
_MULTIGET_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"
)
#: privileges (any of) that let the account create, change and delete items
_WRITE_PRIVILEGES = {"{DAV:}write", "{DAV:}all", "{DAV:}write-content"}


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp() -> datetime:
    """LAST-MODIFIED for a write: calsync is the client revising the item now (RFC 5545)."""
    return _now().replace(microsecond=0)


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


class CalDAVProvider(Provider):
    scheme: ClassVar[str] = "caldav"
    #: CalDAV servers leave LAST-MODIFIED to the clients, and the common ones (and
    #: calsync) stamp it on every edit; an item without one falls back to the time
    #: the engine first saw the change
    capabilities: ClassVar[Capabilities] = Capabilities(trusted_mtime=True)
    #: the calsync.toml table holding this provider's connection settings
    section: ClassVar[str] = "caldav"
    #: send If-None-Match: * on create (Google honours only If-Match)
    if_none_match: ClassVar[bool] = True
    #: mark the collection at init with a dead property (`dav_identity`)
    dead_properties: ClassVar[bool] = True

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        self.collection_url = self._collection_url_for(url)
        self.table = server_table(self.settings, self.section, self.collection_url)
        self.timeout = self._number("timeout", 30.0)
        self.retry = RetryPolicy(
            retries=int(self._number("retries", 3)),
            backoff=self._number("retry_backoff", 1.0),
            max_wait=self._number("max_retry_wait", 60.0),
        )
        verify = self.table.get("verify_tls", True)
        if not isinstance(verify, (bool, str)):
            raise ConfigError(f"[{self.section}] verify_tls must be true, false or a CA file path")
        self.verify_tls: bool | str = verify
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
        return f"{cls.scheme}:{cls._collection_url(url)}"

    def _collection_url_for(self, url: str) -> str:
        return self._collection_url(url)

    @classmethod
    def _collection_url(cls, url: str) -> str:
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

    def _number(self, key: str, default: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"[{self.section}] {key} must be a number ≥ 0 (got {value!r})")
        return float(value)

    def _resolve_credentials(self) -> Credentials:
        """The configured credentials, resolved once per run (env, 0600 file or keyring)."""
        if self._resolved is not None:
            return self._resolved
        where = self.section
        if has_secret(self.table, "token"):
            creds = Credentials(token=resolve_secret(self.table, "token", where))
        elif (username := self.table.get("username")) is None:
            if has_secret(self.table, "password"):
                raise ConfigError(f"[{where}] has a password reference but no username")
            creds = Credentials()  # anonymous, e.g. a server behind an authenticating proxy
        else:
            password: Secret = resolve_secret(self.table, "password", where)
            mode = self.table.get("auth", "basic")
            if mode not in ("basic", "digest", "auto"):
                raise ConfigError(f"[{where}] auth must be basic, digest or auto (got {mode!r})")
            creds = Credentials(username=str(username), password=password, mode=mode)
        self._resolved = creds
        return creds

    def _auth(self) -> dict[str, Any]:
        """DAVClient keyword arguments for the configured credentials."""
        creds = self._resolve_credentials()
        if creds.token is not None:
            from caldav.requests import HTTPBearerAuth

            return {"auth": HTTPBearerAuth(creds.token)}
        if creds.username is None:
            return {}
        kwargs: dict[str, Any] = {"username": creds.username, "password": str(creds.password)}
        if creds.mode != "auto":
            # naming the scheme saves the 401 round trip negotiation would cost each run
            kwargs["auth_type"] = creds.mode
        return kwargs

    def _probe_headers(self) -> dict[str, str] | None:
        """Authorization for `dav_probe`, or None where only the DAVClient can log in."""
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
        """A request on the collection: over `dav_probe` while no DAVClient is open."""
        if self._client is None and (auth := self._probe_headers()) is not None:
            # often the run's only requests: no need to load the caldav library for them
            response = dav_probe.request(
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

    # -- reading ---------------------------------------------------------------------------

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

    def identity(self) -> str:
        # list_window read the collection's properties moments ago in this run
        props = self._props if self._props is not None else self._collection_props()
        resource_id = props.get("{DAV:}resource-id")
        ident = f"{self.scheme}:{self.collection_url}"
        if isinstance(resource_id, str) and resource_id:
            ident = f"{ident}#{resource_id}"
        # a calendar re-created at this URL differs by a marker or its sync token
        return dav_identity.identity(ident, props, replaced=self._replaced)

    def claim_identity(self) -> str:
        if self.dead_properties:
            dav_identity.claim(
                self._props if self._props is not None else self._collection_props(),
                lambda body: self._listing_request("PROPPATCH", body, dav_identity.HEADERS),
                lambda: self._collection_props(self._props_mode),
            )
        self._replaced = False  # init accepts the calendar as it is now
        return self.identity()

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        if cache.get("v") != CACHE_VERSION or cache.get("url") != self.collection_url:
            cache.clear()
            cache.update({"v": CACHE_VERSION, "url": self.collection_url, "index": {}})
        series = cache.get("series")
        if not isinstance(series, dict):
            series = cache["series"] = {}
        self._series = series
        self._replaced = False
        self._expanded = OccurrenceIndex(cache, "occurrences")
        # one PROPFIND answers both "did anything change?" (sync token, ctag) and
        # "is this still the same calendar?" (resource id): a no-change run costs one request
        self._collection_props(cache.get("mode"))
        retry_at = cache.get("sync_retry_at")
        if retry_at is None or retry_at <= _now().isoformat():
            try:
                self._sync_listing(cache)
                cache.pop("sync_retry_at", None)
                cache["mode"] = "sync"
                return self._window_of(cache, window)
            except _SyncUnsupported:
                cache["sync_retry_at"] = (_now() + SYNC_RETRY_AFTER).isoformat()
                cache.pop("token", None)
                cache["index"] = {}
        cache["mode"] = "query"
        self._query_listing(cache, window)
        return self._window_of(cache, window)

    def _window_of(self, cache: MutableMapping[str, Any], window: Window) -> Listing:
        index: Mapping[str, list[Any]] = cache["index"]
        for stale in set(self._series) - set(index):
            del self._series[stale]
        listing = Listing(etags={})
        for item_id, (etag, when, problem) in index.items():
            kept = self._series.get(item_id)
            if problem:
                listing.broken[item_id] = BrokenItem(item_id, etag, problem)
            elif kept is not None and kept[0] == etag:
                self._list_series(item_id, etag, kept[1], window, listing)
            elif when is None or window.start <= datetime.fromisoformat(when) < window.end:
                listing.etags[item_id] = etag
        self._expanded.prune()
        return listing

    def _list_series(
        self, item_id: str, etag: str, data: str, window: Window, listing: Listing
    ) -> None:
        if self._raw.get(item_id, ("", ""))[0] != etag:
            self._raw[item_id] = (etag, data)  # the base for a write, with no GET
        try:
            self._expanded.list_series(
                item_id,
                etag,
                lambda: self._parsed_series(item_id, etag, data),
                window,
                self.max_occurrences,
                listing,
            )
        except MalformedItem as exc:
            listing.broken[item_id] = BrokenItem(item_id, etag, exc.reason)

    def _parsed_series(self, item_id: str, etag: str, data: str) -> Series | None:
        """The series this run's listing already parsed, else parsed now (once per run)."""
        read = self._read_series.pop(item_id, None)
        return read[1] if read is not None and read[0] == etag else Series.parse(data, item_id)

    # sync-collection (RFC 6578)

    def _sync_listing(self, cache: MutableMapping[str, Any]) -> None:
        token = cache.get("token")
        known = self._props or {}
        if token and known.get("{DAV:}sync-token") == token:
            return  # identity() just read the collection's token: nothing changed
        index: dict[str, list[Any]] = dict(cache.get("index") or {}) if token else {}
        refused_from: dict[str, list[Any]] | None = None
        missing: list[str] = []
        while True:
            try:
                response = self._listing_request(
                    "REPORT",
                    _SYNC_REPORT.format(token=escape(token or "")),
                    {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
                )
            except Forbidden as exc:
                # RFC 6578 §3.2: 403 + DAV:valid-sync-token is "token expired": start over.
                # A 403 without a token is a server refusing sync-collection; if it is
                # really about access, the time-range listing will say so.
                if not token:
                    raise _SyncUnsupported(str(exc)) from None
                result = None
            else:
                result = self._parse_sync(response, token)
            if result is None:  # the token is no longer valid: list everything afresh
                refused_from = index
                token, index, missing = None, {}, []
                continue
            for href in result.deleted:
                gone = self._id_of(href)
                if gone is not None:
                    index.pop(gone, None)
                    self._raw.pop(gone, None)
                    self._series.pop(gone, None)
            for entry in result.changed:
                item_id = self._id_of(entry.href)
                if item_id is None:
                    continue
                if entry.status == 404:
                    index.pop(item_id, None)
                elif entry.etag and entry.calendar_data:
                    self._remember(index, item_id, entry.etag, entry.calendar_data)
                else:  # some servers leave the data (or etag) out: fetch those in bulk
                    missing.append(item_id)
            if result.truncated and result.sync_token in (None, token):
                # a server that truncates without moving its token would loop forever
                raise _SyncUnsupported("truncated sync reply without a new token")
            token = result.sync_token
            if not result.truncated:
                break
        if missing:
            for item_id, got in self._multiget(missing).items():
                if got is None:
                    index.pop(item_id, None)
                else:
                    self._remember(index, item_id, *got)
        cache["token"] = token
        cache["index"] = index
        if refused_from is not None:
            self._replaced = dav_identity.replaced(refused_from, index)

    def _parse_sync(self, response: Any, token: str | None) -> Any:
        if response.status == 404:
            raise CalendarNotFound(f"calendar {self.collection_url} does not exist (HTTP 404)")
        if response.status in (200, 207):
            self._readable(response, "REPORT sync-collection")
            try:
                return response.parse_sync_collection()
            except Exception as exc:
                raise _SyncUnsupported(str(exc)) from None
        if token and response.status in SYNC_UNSUPPORTED:
            return None  # e.g. 409/507 for a token the server forgot: retry without it
        if response.status in SYNC_UNSUPPORTED:
            raise _SyncUnsupported(f"HTTP {response.status}")
        raise ProviderError(
            f"{host_of(self.collection_url)}: sync-collection answered HTTP {response.status}"
        )

    def _remember(self, index: dict[str, list[Any]], item_id: str, etag: str, data: str) -> None:
        if "BEGIN:VEVENT" not in data.upper():
            # Google keeps VTIMEZONE-only leftovers; they are not events
            index.pop(item_id, None)
            return
        self._raw[item_id] = (etag, data)
        self._series.pop(item_id, None)
        try:
            if (parsed := Series.parse(data, item_id)) is not None:
                # its occurrences are listed from the kept text (`_window_of`)
                self._series[item_id] = [etag, data]
                self._read_series[item_id] = (etag, parsed)
                index[item_id] = [etag, None, None]
                return
            event = parse_event(data, item_id)
        except MalformedItem as exc:
            index[item_id] = [etag, None, exc.reason]
            return
        self._parsed[item_id] = (etag, event)
        index[item_id] = [etag, event.start_utc.isoformat(), None]

    # calendar-query fallback

    def _query_listing(self, cache: MutableMapping[str, Any], window: Window) -> None:
        if self._props_mode != "query":
            # a first run asked for no change marker; the next run compares this one
            self._collection_props("query")
        ctag = (self._props or {}).get(f"{{{_CS}}}getctag")
        span = [window.start.astimezone(UTC).isoformat(), window.end.astimezone(UTC).isoformat()]
        cached = cache.get("window")
        if (
            ctag
            and cache.get("ctag") == ctag
            and isinstance(cached, list)
            and cached[0] <= span[0]
            and span[1] <= cached[1]
        ):
            return  # nothing changed in the collection, and the window is covered
        body = _QUERY_REPORT.format(start=_utc_stamp(window.start), end=_utc_stamp(window.end))
        response = self._request(
            "REPORT",
            self.collection_url,
            body,
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if response.status == 404:
            raise CalendarNotFound(f"calendar {self.collection_url} does not exist (HTTP 404)")
        if response.status not in (200, 207):
            raise ProviderError(
                f"{host_of(self.collection_url)}: calendar-query answered HTTP {response.status}"
            )
        old: Mapping[str, list[Any]] = cache.get("index") or {}
        index: dict[str, list[Any]] = {}
        for result in self._parse_query(response):
            item_id = self._id_of(result.href)
            if item_id is not None and result.status != 404 and result.etag:
                row = old.get(item_id)
                known = row is not None and row[0] == result.etag and (row[1] or row[2])
                index[item_id] = row if known else [result.etag, None, None]  # type: ignore[assignment]
        # a resource not read yet may hold a series, which is listed by its occurrences:
        # read the new and changed ones now (the engine would fetch them anyway)
        unknown = [
            i
            for i, (etag, when, problem) in index.items()
            if when is None and not problem and self._series.get(i, [""])[0] != etag
        ]
        for item_id, got in self._multiget(unknown).items() if unknown else ():
            if got is None:
                index.pop(item_id, None)
            else:
                self._remember(index, item_id, *got)
        cache["index"] = index
        cache["window"] = span
        if ctag:
            cache["ctag"] = ctag
        else:
            cache.pop("ctag", None)

    def _readable(self, response: Any, what: str) -> None:
        """A 200/207 whose body is no XML is a broken reply, never "no such calendar"."""
        why = unreadable_body(response)
        if why is not None:
            raise not_xml(host_of(self.collection_url), what, why)

    def _parse_query(self, response: Any) -> list[Any]:
        self._readable(response, "REPORT")
        try:
            return list(response.parse_calendar_query())
        except Exception as exc:
            raise ProviderError(
                f"{host_of(self.collection_url)}: unreadable REPORT reply: {exc}"
            ) from None

    # bulk fetch

    def _multiget(self, ids: Sequence[str]) -> dict[str, tuple[str, str] | None]:
        """id -> (etag, data), or None where the server says the item is gone."""
        found: dict[str, tuple[str, str] | None] = {}
        for start in range(0, len(ids), MULTIGET_CHUNK):
            chunk = list(ids[start : start + MULTIGET_CHUNK])
            body = _MULTIGET_REPORT.format(
                hrefs="".join(f"<d:href>{escape(self._path(i))}</d:href>" for i in chunk)
            )
            response = self._request(
                "REPORT",
                self.collection_url,
                body,
                {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            )
            if response.status == 404:
                # not proof of a missing calendar: sabre/dav 1.8 refuses the whole
                # REPORT when one href is gone (dav_each.py)
                found.update(
                    dav_each.fetch_ids(self._request, self.collection_url, chunk, self._href)
                )
                continue
            if response.status not in (200, 207):
                raise ProviderError(
                    f"{host_of(self.collection_url)}: calendar-multiget answered HTTP "
                    f"{response.status}"
                )
            for result in self._parse_query(response):
                item_id = self._id_of(result.href)
                if item_id is None:
                    continue
                if result.status == 404 or not result.calendar_data:
                    found[item_id] = None
                else:
                    found[item_id] = (result.etag or "", result.calendar_data)
        return found

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        wanted = list(dict.fromkeys(ids))
        resources = list(dict.fromkeys(recurrence.split_id(i)[0] for i in wanted))
        have = {i: self._raw[i] for i in resources if i in self._raw}
        needed = [i for i in resources if i not in have]
        if needed:
            for item_id, got in self._multiget(needed).items():
                if got is not None:
                    have[item_id] = got
                    self._raw[item_id] = got
        out: dict[str, Item | BrokenItem] = {}
        series: dict[str, Series | MalformedItem | None] = {}
        for item_id in wanted:
            resource, rid = recurrence.split_id(item_id)
            if resource not in have:
                continue  # the server does not have it: gone
            etag, data = have[resource]
            listed = self._expanded.event(resource, etag, rid) if rid else None
            if listed is not None:  # expanded by this run's listing: no second parse
                out[item_id] = Item(item_id, etag, listed)
                continue
            if resource not in series:
                try:
                    series[resource] = Series.parse(data, resource)
                except MalformedItem as exc:
                    series[resource] = exc
            found = series[resource]
            if isinstance(found, MalformedItem):
                out[item_id] = BrokenItem(item_id, etag, found.reason)
                continue
            if rid is not None or found is not None:
                # an occurrence of a series; a plain id whose resource became a series
                # is gone (its occurrences are the items now), as is an occurrence
                # whose resource no longer is one
                event = self._occurrence(resource, etag, rid, found) if rid else None
                if event is not None:
                    out[item_id] = Item(item_id, etag, event)
                continue
            parsed = self._parsed.get(item_id)
            if parsed is not None and parsed[0] == etag:
                out[item_id] = Item(item_id, etag, parsed[1])
                continue
            if "BEGIN:VEVENT" not in data.upper():
                continue
            try:
                out[item_id] = Item(item_id, etag, parse_event(data, item_id))
            except MalformedItem as exc:
                out[item_id] = BrokenItem(item_id, etag, exc.reason)
        return out

    def _occurrence(
        self, resource: str, etag: str, rid: str, series: Series | None
    ) -> Event | None:
        listed = self._expanded.event(resource, etag, rid)
        if listed is not None or series is None:
            return listed
        try:
            return series.occurrence(rid)
        except MalformedItem:
            return None

    # -- writing ---------------------------------------------------------------------------

    def _write_headers(self) -> dict[str, str]:
        # RFC 6638: ask a scheduling server not to send iTIP for this change
        return {"Content-Type": 'text/calendar; charset="utf-8"', "Schedule-Reply": "F"}

    def _etag_after_write(self, response: Any, item_id: str) -> str:
        etag = response.headers.get("ETag") if response.headers is not None else None
        if etag:
            return str(etag)
        # the server changed what we sent (allowed by RFC 4791), so it kept the etag back
        got = self._request("PROPFIND", self._href(item_id), _PROPFIND_ETAG, {"Depth": "0"})
        for result in self._parse_propfind(got):
            value = result.properties.get("{DAV:}getetag")
            if value:
                return str(value)
        raise ProviderError(f"{host_of(self.collection_url)}: no etag for {item_id} after writing")

    def _exists(self, item_id: str) -> bool:
        """Whether the server has `item_id` (a Depth-0 PROPFIND; only a 404 says no)."""
        got = self._request("PROPFIND", self._href(item_id), _PROPFIND_ETAG, {"Depth": "0"})
        return got.status not in (404, 410)

    def _parse_propfind(self, response: Any) -> list[Any]:
        if response.status not in (200, 207):
            return []
        try:
            return list(response.parse_propfind())
        except Exception:
            return []

    def _put(self, item_id: str, body: bytes, headers: dict[str, str]) -> Any:
        return self._request("PUT", self._href(item_id), body, {**self._write_headers(), **headers})

    def create(self, event: Event, *, notify: bool = False, base: str | None = None) -> Item:
        """`base`: the text of an item this one restores (the trash keeps it whole)."""
        ensure_no_notify(notify)
        event = recurrence.detach(event)  # never a second resource with the series' UID
        item_id = self._name_for(event.uid)
        event = event.replace(last_modified=_stamp())
        headers = {"If-None-Match": "*"} if self.if_none_match else {}
        body = without_scheduling(render_event(event, base=base))
        response = self._put(item_id, body, headers)
        if response.status == 412:
            if not self._exists(item_id):
                # If-None-Match refused with nothing there: not a UID clash
                raise refused_as_conflict(host_of(self.collection_url), item_id)
            raise ItemRefused(
                item_id, f"an item with UID {event.uid!r} already exists", uid_conflict=True
            )
        self._check_write(response, item_id, "create")
        etag = self._etag_after_write(response, item_id)
        self._raw.pop(item_id, None)
        self._props = None  # the collection's sync token moved on
        return Item(item_id, etag, event)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        resource, rid = recurrence.split_id(item_id)
        if rid is not None:
            return self._update_occurrence(item_id, resource, rid, etag, event)
        base = self._base_for(item_id, etag)
        event = event.replace(last_modified=_stamp())
        body = without_scheduling(render_event(event, base=base))
        response = self._put(item_id, body, {"If-Match": etag})
        if response.status == 412:
            raise dav_each.precondition_failed(self._request, self._href(item_id), item_id, etag)
        if response.status == 404:
            raise ItemNotFound(item_id)
        self._check_write(response, item_id, "update")
        new_etag = self._etag_after_write(response, item_id)
        self._raw.pop(item_id, None)
        self._props = None  # the collection's sync token moved on
        return Item(item_id, new_etag, event)

    def item_text(self, item_id: str, etag: str) -> str | None:
        """The item's stored iCalendar text, for the trash to keep it whole; None for
        an occurrence (its text is the whole series) or when it cannot be read."""
        if recurrence.split_id(item_id)[1] is not None:
            return None
        try:
            return self._base_for(item_id, etag)
        except ProviderError:
            return None

    def _base_for(self, item_id: str, etag: str) -> str:
        """The item's current text, so an update keeps what calsync does not map."""
        cached = self._raw.get(item_id)
        if cached is not None and cached[0] == etag:
            return cached[1]
        response = self._request("GET", self._href(item_id), "", {"Accept": "text/calendar"})
        if response.status == 404:
            raise ItemNotFound(item_id)
        if response.status != 200:
            raise ProviderError(
                f"{host_of(self.collection_url)}: GET {item_id} answered HTTP {response.status}"
            )
        current = response.headers.get("ETag")
        if current and current != etag:
            raise EtagMismatch(item_id, etag)
        return dav_each.response_text(response)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        resource, rid = recurrence.split_id(item_id)
        if rid is not None:
            self._delete_occurrence(item_id, resource, rid, etag)
            return
        response = self._request(
            "DELETE", self._href(item_id), "", {"If-Match": etag, "Schedule-Reply": "F"}
        )
        if response.status == 412:
            raise dav_each.precondition_failed(self._request, self._href(item_id), item_id, etag)
        if response.status in (404, 410):
            raise ItemNotFound(item_id)
        self._check_write(response, item_id, "delete")
        self._raw.pop(item_id, None)
        self._props = None

    # occurrences of a series: writes into the series' resource

    def _current_etag(self, resource: str, etag: str) -> str:
        """`etag`, or the resource's etag after this run's own writes if those replaced it.

        Every occurrence of a series shares the resource's etag, and the engine holds
        the etag it listed: after calsync wrote one occurrence, a second write to the
        same series in the run would fail If-Match although only calsync changed it.
        Only etags this provider replaced itself are followed.
        """
        seen = self._superseded.get(resource)
        return seen[1] if seen is not None and etag in seen[0] else etag

    def _series_base(self, item_id: str, resource: str, etag: str) -> tuple[str, str]:
        current = self._current_etag(resource, etag)
        try:
            return current, self._base_for(resource, current)
        except EtagMismatch:
            raise EtagMismatch(item_id, etag) from None
        except ItemNotFound:
            raise ItemNotFound(item_id) from None

    def _write_series(
        self, item_id: str, resource: str, current: str, etag: str, body: bytes | None
    ) -> str | None:
        """PUT the new text (DELETE when None) with If-Match; the new etag, if any."""
        if body is None:
            response = self._request(
                "DELETE", self._href(resource), "", {"If-Match": current, "Schedule-Reply": "F"}
            )
        else:
            body = without_scheduling(body)
            response = self._put(resource, body, {"If-Match": current})
        if response.status == 412:
            raise EtagMismatch(item_id, etag)
        if response.status in (404, 410):
            raise ItemNotFound(item_id)
        self._check_write(response, item_id, "update" if body is not None else "delete")
        self._props = None  # the collection's sync token moved on
        self._raw.pop(resource, None)
        if body is None:
            return None
        kept_as_sent = bool(response.headers is not None and response.headers.get("ETag"))
        new_etag = self._etag_after_write(response, resource)
        if kept_as_sent:  # RFC 4791 5.3.4: an ETag on PUT means the server stored our text
            self._raw[resource] = (new_etag, body.decode("utf-8"))
        old, _ = self._superseded.get(resource, (set(), ""))
        self._superseded[resource] = (old | {current}, new_etag)
        return new_etag

    def _update_occurrence(
        self, item_id: str, resource: str, rid: str, etag: str, event: Event
    ) -> Item:
        current, base = self._series_base(item_id, resource, etag)
        event = event.replace(recurrence_id=rid, last_modified=_stamp())
        try:
            body = recurrence.override(base, resource, event)
        except ItemNotFound:
            raise ItemNotFound(item_id) from None
        new_etag = self._write_series(item_id, resource, current, etag, body)
        assert new_etag is not None
        written = Series.parse(body, resource)
        got = written.occurrence(rid) if written is not None else None
        return Item(item_id, new_etag, got or event)

    def _delete_occurrence(self, item_id: str, resource: str, rid: str, etag: str) -> None:
        current, base = self._series_base(item_id, resource, etag)
        try:
            body = recurrence.exclude(base, resource, rid)
        except ItemNotFound:
            raise ItemNotFound(item_id) from None
        self._write_series(item_id, resource, current, etag, body)

    def _check_write(self, response: Any, item_id: str, what: str) -> None:
        if 200 <= response.status < 300:
            return
        if response.status == 409:
            raise self._conflict(item_id, response)
        if response.status == 507:
            raise ItemRefused(item_id, "the server's storage is full (HTTP 507)")
        if response.status in (400, 415, 422):
            raise ItemRefused(item_id, f"the server rejected the data (HTTP {response.status})")
        raise ProviderError(
            f"{host_of(self.collection_url)}: {what} of {item_id} answered HTTP {response.status}"
        )

    def _conflict(self, item_id: str, response: Any) -> ProviderError:
        return ItemRefused(item_id, "conflict with an existing item (HTTP 409)")

    # -- operator checks ------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        host = host_of(self.collection_url)
        checks: list[tuple[str, bool, str]] = []
        try:
            self._auth()
        except ConfigError as exc:
            return [("credentials configured", False, str(exc))]
        try:
            props = self._collection_props()
        except Forbidden as exc:
            return [
                ("server reachable", True, host),
                ("credentials accepted", True, "signed in"),
                ("calendar exists", False, str(exc)),
            ]
        except AuthFailed as exc:
            return [("server reachable", True, host), ("credentials accepted", False, str(exc))]
        except CalendarNotFound as exc:
            return [
                ("server reachable", True, host),
                ("credentials accepted", True, "signed in"),
                ("calendar exists", False, str(exc)),
            ]
        except ProviderError as exc:
            return [("server reachable", False, str(exc))]
        checks.append(("server reachable", True, host))
        checks.append(("credentials accepted", True, "signed in"))
        name = props.get("{DAV:}displayname")
        checks.append(
            ("calendar exists", True, f"{self.collection_url}" + (f" ({name})" if name else ""))
        )
        privileges = props.get("{DAV:}current-user-privilege-set")
        if not isinstance(privileges, list):
            checks.append(("write permission", True, "the server does not report privileges"))
        elif _WRITE_PRIVILEGES & set(privileges) or {
            "{DAV:}bind",
            "{DAV:}unbind",
            "{DAV:}write-content",
        } <= set(privileges):
            checks.append(("write permission", True, "the account may change this calendar"))
        else:
            have = ", ".join(p.rpartition("}")[2] for p in privileges) or "none"
            checks.append(
                ("write permission", False, f"the account may not write to it (has: {have})")
            )
        return checks


class _SyncUnsupported(ProviderError):
    """sync-collection does not work on this collection; list by time range instead."""


def without_scheduling(body: bytes) -> bytes:
    """Mark ORGANIZER/ATTENDEE SCHEDULE-AGENT=CLIENT so a scheduling server sends no iTIP.

    RFC 6638 §7.1: with SCHEDULE-AGENT=CLIENT the server leaves scheduling to the
    client, and calsync never schedules. Items without attendees pass unchanged.
    """
    if b"ATTENDEE" not in body.upper() and b"ORGANIZER" not in body.upper():
        return body
    import icalendar

    cal = icalendar.Calendar.from_ical(body)
    for comp in cal.walk("VEVENT"):
        for name in ("ORGANIZER", "ATTENDEE"):
            values = comp.get(name)
            for value in values if isinstance(values, list) else [values]:
                if value is not None and hasattr(value, "params"):
                    value.params["SCHEDULE-AGENT"] = "CLIENT"
    return bytes(cal.to_ical())
