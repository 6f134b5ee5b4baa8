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

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NoReturn

from exchangelib import Build, EWSDateTime
from exchangelib import errors as ews_errors
from exchangelib.items import MOVE_TO_DELETED_ITEMS, NEVER_OVERWRITE, SAVE_ONLY, SEND_TO_NONE
from exchangelib.properties import ItemId

from sync.ical.recurrence import detach
from sync.model import Event
from sync.providers.base import (
    BrokenItem,
    ConfigError,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Listing,
    Provider,
    ProviderError,
    Window,
    ensure_no_notify,
)
from sync.providers.ews.checks import check
from sync.providers.ews.config import ExchangeSettings, parse_settings
from sync.providers.ews.connection import open_account, release_account
from sync.providers.ews.errors import ABSENT, NO_OCCURRENCE, one_line, raise_provider_error
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

#: the longest CalendarView asked of Exchange, which refuses more than two years
VIEW_SPAN = timedelta(days=700)


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

    def _connect(self) -> Any:
        if self._account is None:
            self._account = open_account(self.conn, self.mailbox)
        return self._account

    def folder(self) -> Any:
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
        raise_provider_error(exc, self.conn, self.mailbox)

    # -- reading -------------------------------------------------------------------------

    def identity(self) -> str:
        return f"ews:{self.mailbox}/{self.folder().id}"

    def calendar_name(self) -> str | None:
        # the folder's DisplayName, in the GetFolder reply identity() already read
        name = getattr(self.folder(), "name", None)
        return name if isinstance(name, str) and name.strip() else None

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        folder = self.folder()
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
        folder = self.folder()
        fields = self._fetch_fields()
        out: dict[str, Item | BrokenItem] = {}
        results = self._get_items(ids, folder, fields)
        for wanted, result in zip(ids, results, strict=True):
            if isinstance(result, ABSENT):
                continue  # confirmed gone (or never an id of this calendar)
            if isinstance(result, Exception):
                out[wanted] = BrokenItem(id=wanted, etag="", error=one_line(result))
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
            if not isinstance(cause, NO_OCCURRENCE):
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
        folder = self.folder()
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
        account, folder = self._connect(), self.folder()
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
                out[i] = ItemRefused(event.uid, one_line(result))
            else:
                out[i] = Item(id=result.id, etag=result.changekey, event=event)
        return [r for r in out if r is not None]

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        account, folder = self._connect(), self.folder()
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
            if isinstance(cause, ABSENT):
                raise ItemNotFound(item_id) from cause
            raise
        new_id, new_key = result
        return Item(id=new_id, etag=new_key, event=event)

    def _current_changekey(self, item_id: str) -> str | None:
        (found,) = self._get_items([item_id], self.folder(), ["changekey"])
        if isinstance(found, ABSENT):
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
        return check(self)

    def close(self) -> None:
        if self._account is not None:
            # keep exchangelib's cached protocol (its version probe serves the next user),
            # but release its connections once no other mailbox is using them
            release_account(self._account)
        self._account = None
        self._calendar = None
