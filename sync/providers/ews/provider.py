"""Exchange calendars over EWS (exchangelib), reached through one service account.

`ews:anna@example.com` is Anna's default calendar. The `[exchange]` table says how
to reach Exchange (see `config.py`); the service account acts on each mailbox by
impersonation (default) or delegate access (SPEC R13).

Listing is a calendar view (occurrences of series come as their own items) asking
only for id, changekey and start; the engine compares changekeys with what it
stored and fetches just the changed items (GetItem, in chunks). SyncFolderItems is
not used: it reports whole series rather than the windowed occurrences calsync
pairs, so it would not save the calendar-view round trip.

Writes never notify attendees (SendToNone everywhere) and are checked against the
changekey the engine last saw.

An unknown outcome (the answer to a write lost) is settled by those changekeys and
the UID: an update repeated with the old changekey and NEVER_OVERWRITE is a conflict,
not a blind overwrite; a delete compares the changekey first and finds a deleted item
gone; every CreateItem follows a FindItem on the UID, so the next sync finds an item
whose creation was not acknowledged and pairs it instead of creating it again.

Recurring series: the calendar view lists each occurrence under its own item id
(uid = the series' UID, recurrence id = its original start). Saving an occurrence
makes it an exception; deleting one removes only that occurrence; GetItem of an
occurrence the series no longer has answers "deleted from recurrence" or "out of
recurrence range", which count as gone. A CRM item is always created as a single
item (`sync.ical.recurrence.detach`): calsync never makes series.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NoReturn
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
    EWSDateTime,
    EWSTimeZone,
    FaultTolerance,
    Identity,
    OAuth2Credentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.items import MOVE_TO_DELETED_ITEMS, NEVER_OVERWRITE, SAVE_ONLY, SEND_TO_NONE
from exchangelib.properties import ItemId
from exchangelib.protocol import BaseProtocol, Protocol
from exchangelib.version import VERSIONS

from sync.ical.recurrence import detach
from sync.model import Event
from sync.providers import deadline
from sync.providers.base import (
    AuthFailed,
    BrokenItem,
    CalendarNotFound,
    ConfigError,
    ConnectionFailed,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Listing,
    Provider,
    ProviderError,
    Throttled,
    Window,
    ensure_no_notify,
)
from sync.providers.ews.config import ExchangeSettings, parse_settings
from sync.providers.ews.mapping import (
    FETCH_FIELDS,
    UID_PROPERTY,
    UPDATE_FIELDS,
    MappingError,
    clean_global_object_id,
    event_to_item,
    item_to_event,
    register_uid_property,
)
from sync.providers.known_texts import KnownTexts
from sync.secrets import resolve_secret

#: exchangelib's class-level pool sizes and adapters are shared; guard our tweaks
_PROTOCOL_LOCK = threading.Lock()

# exchangelib's DEBUG records carry request headers (Basic/NTLM credentials, OAuth
# tokens) and whole mailbox XML; calsync's logs must never hold secrets
for _name in ("exchangelib", "requests_ntlm", "requests_oauthlib", "oauthlib"):
    _logger = logging.getLogger(_name)
    if _logger.level < logging.INFO:  # NOTSET would follow a root logger set to DEBUG
        _logger.setLevel(logging.INFO)


#: GetItem answers, for an occurrence of a series, that its series no longer has it
#: ("deleted from recurrence", "the series no longer reaches that far"); exchangelib
#: raises these for the whole batch instead of returning them per item
_NO_OCCURRENCE = (
    ews_errors.ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ews_errors.ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange,
)
#: GetItem answers that mean "no such item here"
_ABSENT = (ews_errors.ErrorItemNotFound, ews_errors.ErrorInvalidIdMalformed, *_NO_OCCURRENCE)


#: the longest CalendarView asked of Exchange, which refuses more than two years
VIEW_SPAN = timedelta(days=700)


class CredentialsRefused(AuthFailed):
    """Exchange refused the service account's credentials (HTTP 401)."""


class AccessRefused(AuthFailed):
    """The service account may not act on this mailbox."""


class _BoundedRetry(FaultTolerance):  # type: ignore[misc]
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


def _adapter_class(verify: bool | str | None) -> type[requests.adapters.HTTPAdapter]:
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
BaseProtocol.HTTP_ADAPTER_CLS = _adapter_class(None)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _unreachable_reason(exc: BaseException) -> str | None:
    """Why the endpoint could not be reached, if that is what went wrong.

    exchangelib re-raises connection errors as ErrorTimeoutExpired, and its version
    probe wraps even that in a TransportError, so look through the whole chain.
    """
    hit = any(
        isinstance(e, ews_errors.ErrorTimeoutExpired | requests.ConnectionError | requests.Timeout)
        for e in _chain(exc)
    )
    if not hit:
        return None
    text = " ".join(str(e) for e in _chain(exc)).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("name or service not known", "unknown host name"),
        ("nodename nor servname", "unknown host name"),
        ("temporary failure in name resolution", "unknown host name"),
        ("certificate", "TLS certificate problem"),
    ):
        if needle in text:
            return reason
    return "connection failed"


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EWSProvider(Provider):
    scheme: ClassVar[str] = "ews"

    def __init__(self, url: str, *, settings: Any = None) -> None:
        super().__init__(url, settings=settings)
        self.mailbox = self.normalize_url(url).partition(":")[2]
        self.conn: ExchangeSettings = parse_settings(self.settings.get("exchange"))
        self._account: Any = None
        self._calendar: Any = None
        self._texts = KnownTexts()

    @staticmethod
    def normalize_url(url: str) -> str:
        scheme, _, mailbox = url.partition(":")
        mailbox = mailbox.strip()
        local, at, domain = mailbox.partition("@")
        if scheme.lower() != "ews" or not at or not local or "." not in domain or " " in mailbox:
            raise ConfigError(f"calendar {url!r} is not of the form ews:MAILBOX (an SMTP address)")
        return f"ews:{local}@{domain.lower()}"

    # -- connection ----------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return self.conn.service_endpoint or f"autodiscover for {self.mailbox}"

    def _version(self) -> Any:
        if not self.conn.version:
            return None
        for build, api_version, _ in VERSIONS:
            if api_version == self.conn.version:
                return Version(build=build, api_version=api_version)
        return Version(build=Build(15, 1), api_version=self.conn.version)

    def _credentials(self) -> tuple[Any, str]:
        table = self.conn.table
        if self.conn.auth == "oauth":
            secret = resolve_secret(table, "client_secret", "exchange")
            creds = OAuth2Credentials(
                client_id=self.conn.client_id,
                client_secret=str(secret),
                tenant_id=self.conn.tenant_id,
                identity=Identity(primary_smtp_address=self.mailbox),
            )
            return creds, OAUTH2
        password = resolve_secret(table, "password", "exchange")
        creds = Credentials(username=self.conn.username, password=str(password))
        return creds, NTLM if self.conn.auth == "ntlm" else BASIC

    def _zone(self) -> Any:
        if self.conn.timezone:
            return EWSTimeZone(self.conn.timezone)
        try:
            return EWSTimeZone.localzone()
        except Exception:  # no Windows name for the host zone, or none found
            return EWSTimeZone("UTC")

    def _connect(self) -> Any:
        if self._account is not None:
            return self._account
        creds, auth_type = self._credentials()
        config = Configuration(
            service_endpoint=self.conn.service_endpoint,
            credentials=creds,
            auth_type=auth_type,
            version=self._version(),
            retry_policy=_BoundedRetry(self.conn.max_backoff),
            max_connections=1,
        )
        access = IMPERSONATION if self.conn.access == "impersonation" else DELEGATE
        with self._errors(), _PROTOCOL_LOCK:
            if self.conn.service_endpoint:
                # exchangelib picks the HTTP adapter per Protocol class and caches protocols
                # per endpoint+credentials; a subclass created first is the one Account reuses
                verify = None if self.conn.verify_tls is True else self.conn.verify_tls
                cls = type(
                    "CalsyncProtocol", (Protocol,), {"HTTP_ADAPTER_CLS": _adapter_class(verify)}
                )
                cls(config=config)
            account = Account(
                primary_smtp_address=self.mailbox,
                access_type=access,
                config=config,
                autodiscover=self.conn.autodiscover,
                credentials=creds if self.conn.autodiscover else None,
                default_timezone=self._zone(),
                locale="en_US",
            )
            # exchangelib shares one Protocol per endpoint+credentials; make sure it runs
            # with this table's timeout and back-off bound even if another made it first
            account.protocol.TIMEOUT = self.conn.timeout
            account.protocol.config.retry_policy = config.retry_policy
        self._account = account
        return account

    def _folder(self) -> Any:
        if self._calendar is None:
            account = self._connect()
            with self._errors():
                self._calendar = account.calendar
        return self._calendar

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """exchangelib's many exceptions as calsync's typed, one-line errors."""
        try:
            yield
        except ProviderError:
            raise
        except Exception as exc:  # exchangelib raises from deep inside requests/lxml too
            self._raise(exc)

    def _raise(self, exc: Exception) -> NoReturn:
        user, box, where = self.conn.account_name, self.mailbox, self._where
        e = ews_errors
        for cause in _chain(exc):  # exchangelib may wrap it (its version probe does)
            if isinstance(cause, deadline.DeadlineExceeded):
                raise cause from None
        if isinstance(exc, e.ErrorImpersonateUserDenied):
            raise AccessRefused(
                f"{user} may not impersonate {box}: grant ApplicationImpersonation "
                "(full mailbox access allows delegate access, not impersonation)"
            ) from exc
        if isinstance(exc, e.ErrorAccessDenied | e.ErrorItemSave) and "denied" in str(exc).lower():
            if self.conn.access == "delegate":
                raise AccessRefused(
                    f"{user} has no delegate access to {box}'s calendar: grant full mailbox "
                    "access or calendar editor rights"
                ) from exc
            raise AccessRefused(f"{user} was denied access to {box}'s calendar") from exc
        if isinstance(exc, e.ErrorNonExistentMailbox | e.ErrorMailboxStoreUnavailable):
            raise CalendarNotFound(f"Exchange has no mailbox {box}") from exc
        if isinstance(exc, e.ErrorNonPrimarySmtpAddress):
            raise CalendarNotFound(f"{box} is not the mailbox's primary SMTP address") from exc
        if isinstance(exc, e.ErrorFolderNotFound):
            raise CalendarNotFound(f"{box} has no calendar folder") from exc
        if isinstance(exc, e.UnauthorizedError):
            raise CredentialsRefused(
                f"Exchange refused the credentials of {user} ({self.conn.auth} auth at {where})"
            ) from exc
        if isinstance(exc, e.RateLimitError) and exc.wait:
            # Exchange asks for minutes (BackOffMilliseconds ~300000): defer the user
            retry = datetime.now(UTC) + timedelta(seconds=float(exc.wait))
            raise Throttled(f"Exchange at {where} (ErrorServerBusy)", retry) from exc
        if isinstance(exc, e.RateLimitError | e.ErrorServerBusy):
            raise ConnectionFailed(
                f"Exchange at {where} is throttling calsync (ErrorServerBusy) beyond "
                f"{self.conn.max_backoff:g} s of back-off; try again later"
            ) from exc
        unreachable = _unreachable_reason(exc)
        if unreachable:
            raise ConnectionFailed(f"cannot reach Exchange at {where}: {unreachable}") from exc
        if isinstance(exc, e.AutoDiscoverFailed):
            raise ConnectionFailed(f"autodiscover found no Exchange for {box}") from exc
        if isinstance(exc, e.TransportError | requests.RequestException):
            text = _one_line(exc)
            if "ssl" in text.lower() or "certificate" in text.lower():
                raise ConnectionFailed(
                    f"TLS failure talking to {where}: {text} (fix the certificate chain, "
                    "or point verify_tls at a CA bundle)"
                ) from exc
            raise ConnectionFailed(f"Exchange at {where} failed: {text}") from exc
        if isinstance(exc, e.EWSError):
            raise ProviderError(
                f"Exchange error for {box}: {type(exc).__name__}: {_one_line(exc)}"
            ) from exc
        raise ProviderError(f"Exchange adapter failed for {box}: {_one_line(exc)}") from exc

    # -- reading -------------------------------------------------------------------------

    def identity(self) -> str:
        return f"ews:{self.mailbox}/{self._folder().id}"

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        folder = self._folder()
        etags: dict[str, str] = {}
        cursor = window.start.astimezone(UTC)
        window_end = window.end.astimezone(UTC)
        page = self.conn.page_size
        with self._errors():
            # A calendar view cannot be paged by offset: Exchange returns the first
            # MaxEntriesReturned items by start. Restart the view at the last start seen
            # (items overlapping it come again and are de-duplicated by id). Exchange
            # also refuses a view over two years (ErrorCalendarViewRangeTooBig), so a
            # longer window is read in spans of at most VIEW_SPAN.
            while True:
                span_end = min(window_end, cursor + VIEW_SPAN)
                view = folder.view(
                    start=EWSDateTime.from_datetime(cursor),
                    end=EWSDateTime.from_datetime(span_end),
                    max_items=page,
                ).only("start", "changekey")
                rows = [r for r in view if not isinstance(r, Exception)]
                for row in rows:
                    etags[row.id] = row.changekey
                if len(rows) < page:
                    if span_end >= window_end:
                        break
                    cursor = span_end
                    continue
                last = max(datetime.fromtimestamp(r.start.timestamp(), UTC) for r in rows)
                if last <= cursor:
                    page *= 2  # a page full of items starting at the cursor: widen the page
                    continue
                cursor = last
        return Listing(etags=etags)

    def _fetch_fields(self) -> list[str]:
        account = self._connect()
        with self._errors():
            modern = account.version.build >= Build(15, 0)
        return [*FETCH_FIELDS, "text_body" if modern else "body"]

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        ids = [i for i in dict.fromkeys(ids) if i]  # an empty id names nothing
        if not ids:
            return {}
        folder = self._folder()
        fields = self._fetch_fields()
        out: dict[str, Item | BrokenItem] = {}
        results = self._get_items(ids, folder, fields)
        for wanted, result in zip(ids, results, strict=True):
            if isinstance(result, _ABSENT):
                continue  # confirmed gone (or never an id of this calendar)
            if isinstance(result, Exception):
                out[wanted] = BrokenItem(id=wanted, etag="", error=_one_line(result))
                continue
            try:
                event = item_to_event(result, prefer=self._connect().default_timezone)
            except MappingError as exc:
                out[wanted] = BrokenItem(id=wanted, etag=result.changekey or "", error=str(exc))
                continue
            out[wanted] = Item(id=result.id, etag=result.changekey, event=event)
            self._texts.remember(result.id, result.changekey, event.text)
        return out

    def _get_items(self, ids: Sequence[str], folder: Any, fields: Sequence[str]) -> list[Any]:
        """GetItem results in the order of `ids` (an exception instance per failed id)."""
        account = self._connect()
        try:
            with self._errors():
                return list(
                    account.fetch(
                        ids=[ItemId(id=i) for i in ids], folder=folder, only_fields=fields
                    )
                )
        except ProviderError as exc:
            cause = exc.__cause__
            if not isinstance(cause, _NO_OCCURRENCE):
                raise
            if len(ids) == 1:
                return [cause]
        # an occurrence its series no longer has failed the whole batch: ask one by one
        return [r for i in ids for r in self._get_items([i], folder, fields)]

    # -- writing -------------------------------------------------------------------------

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        result = self.create_many([event])[0]
        if isinstance(result, ProviderError):
            raise result
        return result

    def _uids_present(self, uids: Sequence[str]) -> set[str]:
        """Which of these UIDs an item in the calendar already has (one FindItem per 50)."""
        register_uid_property()
        found: set[str] = set()
        folder = self._folder()
        with self._errors():
            for i in range(0, len(uids), 50):
                chunk = list(uids[i : i + 50])
                blobs = [clean_global_object_id(u) for u in chunk]
                # FindItem on the derived id; GetItem of the UID only for the (rare) hits
                query = folder.filter(**{f"{UID_PROPERTY}__in": blobs}).only("uid")
                found.update(
                    row.uid for row in query if not isinstance(row, Exception) and row.uid in chunk
                )
        return found

    def create_many(self, events: Iterable[Event]) -> list[Item | ProviderError]:
        events = [detach(e) for e in events]
        if not events:
            return []
        account, folder = self._connect(), self._folder()
        # Exchange would store a second item under a UID it already holds: refuse that here
        taken = self._uids_present(sorted({e.uid for e in events}))
        fresh: list[Event] = []
        out: list[Item | ProviderError | None] = []
        for event in events:
            if event.uid in taken:
                out.append(
                    ItemRefused(event.uid, "an item with this UID exists", uid_conflict=True)
                )
            else:
                taken.add(event.uid)
                fresh.append(event)
                out.append(None)
        with self._errors():
            items = [event_to_item(e, account, folder) for e in fresh]
            results = iter(
                account.bulk_create(
                    folder=folder,
                    items=items,
                    message_disposition=SAVE_ONLY,
                    send_meeting_invitations=SEND_TO_NONE,
                )
                if items
                else []
            )
        for i, event in enumerate(events):
            if out[i] is not None:
                continue
            result = next(results)
            if isinstance(result, Exception):
                out[i] = ItemRefused(event.uid, _one_line(result))
            else:
                out[i] = Item(id=result.id, etag=result.changekey, event=event)
        return [r for r in out if r is not None]

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        account, folder = self._connect(), self._folder()
        try:
            with self._errors():
                item = event_to_item(event, account, folder, id=item_id, changekey=etag)
                fields = UPDATE_FIELDS
                if self._texts.same(item_id, etag, event.text) is None:
                    self.fetch([item_id])  # remembers its current text
                if self._texts.same(item_id, etag, event.text):
                    # the text is unchanged: leave the (HTML) body alone (known_texts.py)
                    fields = [f for f in UPDATE_FIELDS if f != "body"]
                (result,) = account.bulk_update(
                    items=[(item, fields)],
                    conflict_resolution=NEVER_OVERWRITE,
                    message_disposition=SAVE_ONLY,
                    send_meeting_invitations_or_cancellations=SEND_TO_NONE,
                )
                if isinstance(result, Exception):
                    raise result
        except ProviderError as exc:
            cause = exc.__cause__
            if isinstance(
                cause, ews_errors.ErrorIrresolvableConflict | ews_errors.ErrorInvalidChangeKey
            ):
                raise EtagMismatch(item_id, etag) from cause
            if isinstance(cause, _ABSENT):
                raise ItemNotFound(item_id) from cause
            raise
        new_id, new_key = result
        return Item(id=new_id, etag=new_key, event=event)

    def _current_changekey(self, item_id: str) -> str | None:
        (found,) = self._get_items([item_id], self._folder(), ["changekey"])
        if isinstance(found, _ABSENT):
            return None
        if isinstance(found, Exception):
            self._raise(found)
        return str(found.changekey)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        # DeleteItem does not check changekeys, so compare first: a user's edit since the
        # engine looked must not be thrown away (edit wins over delete, R3)
        current = self._current_changekey(item_id)
        if current is None:
            raise ItemNotFound(item_id)
        if current != etag:
            raise EtagMismatch(item_id, etag)
        with self._errors():
            (result,) = self._connect().bulk_delete(
                ids=[(item_id, etag)],
                delete_type=MOVE_TO_DELETED_ITEMS,
                send_meeting_cancellations=SEND_TO_NONE,
            )
        if isinstance(result, ews_errors.ErrorItemNotFound):
            raise ItemNotFound(item_id)
        if isinstance(result, Exception):
            self._raise(result)

    # -- operator checks -------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        user, box, where = self.conn.account_name, self.mailbox, self._where
        access = "impersonation" if self.conn.access == "impersonation" else "delegate access"
        out: list[tuple[str, bool, str]] = []
        try:
            folder = self._folder()
        except (ConnectionFailed, ConfigError) as exc:
            return [("endpoint reachable", False, str(exc))]
        except CredentialsRefused as exc:
            return [
                ("endpoint reachable", True, where),
                ("service account accepted", False, str(exc)),
            ]
        except ProviderError as exc:
            return [
                ("endpoint reachable", True, where),
                ("service account accepted", True, f"{user} ({self.conn.auth})"),
                (f"{access} to {box}", False, str(exc)),
            ]
        out += [
            ("endpoint reachable", True, where),
            ("service account accepted", True, f"{user} ({self.conn.auth})"),
            (f"{access} to {box}", True, f"{user} acts on {box}"),
        ]
        try:
            now = datetime.now(UTC)
            self.list_window(Window(now, now + timedelta(days=1)), {})
            out.append(("calendar readable", True, f"ews:{box}/{folder.id}"))
        except ProviderError as exc:
            out.append(("calendar readable", False, str(exc)))
            return out
        rights = getattr(folder, "effective_rights", None)
        if rights is None:
            out.append(("calendar writable", True, "the server does not report rights; assumed"))
        elif rights.create_contents and rights.modify and rights.delete:
            out.append(("calendar writable", True, "create, modify and delete allowed"))
        else:
            missing = [
                name
                for name, ok in (
                    ("create", rights.create_contents),
                    ("modify", rights.modify),
                    ("delete", rights.delete),
                )
                if not ok
            ]
            out.append(
                (
                    "calendar writable",
                    False,
                    f"{user} may not {'/'.join(missing)} items in {box}'s calendar: grant "
                    "full mailbox access or calendar editor rights",
                )
            )
        return out

    def close(self) -> None:
        if self._account is not None:
            # keep exchangelib's cached protocol (its version probe serves the next user),
            # but release its connections
            self._account.protocol.close()
        self._account = None
        self._calendar = None
