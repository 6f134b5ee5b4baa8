"""The one interface every calendar adapter implements.

The engine only ever talks to a `Provider`. The shape follows vdirsyncer's storage:
a cheap listing of ids and etags, a bulk fetch of just the items that changed,
and writes that are checked against the etag the engine last saw.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sync.model import Event, Privacy, ShowAs

# -- errors ---------------------------------------------------------------------------


class ProviderError(Exception):
    """Base of every adapter failure. The message is one line, fit for an operator."""


class ConnectionFailed(ProviderError):
    """Server unreachable, TLS failure, timeout."""


class Throttled(ConnectionFailed):
    """The server asks calsync to come back later than it waits within a run.

    Exchange's ErrorServerBusy carries BackOffMilliseconds of about five minutes;
    Graph's Retry-After can be as long. The run defers the user instead of failing
    them, and later runs skip that user until `retry_after` (UTC) has passed.
    """

    def __init__(self, where: str, retry_after: datetime) -> None:
        super().__init__(
            f"throttled by {where}, retry after {retry_after.astimezone(UTC):%H:%M} UTC"
        )
        self.retry_after = retry_after


class AuthFailed(ProviderError):
    """Credentials refused or access to the mailbox/calendar denied."""


class CalendarNotFound(ProviderError):
    """The configured calendar/mailbox does not exist."""


class ConfigError(ProviderError):
    """The calendar URL or its connection settings are unusable."""


class ItemNotFound(ProviderError):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id} does not exist")
        self.item_id = item_id


class EtagMismatch(ProviderError):
    """The item changed since the engine last saw it; the write was not done."""

    def __init__(self, item_id: str, expected: str | None = None) -> None:
        super().__init__(f"item {item_id} changed on the server since it was read")
        self.item_id = item_id
        self.expected = expected


class ItemRefused(ProviderError):
    """The server refused this one item (e.g. Google's 409 on a re-used UID)."""

    def __init__(self, item_id: str, reason: str, *, uid_conflict: bool = False) -> None:
        super().__init__(f"item {item_id} refused: {reason}")
        self.item_id = item_id
        self.uid_conflict = uid_conflict


class NotifyRefused(ProviderError):
    """The write would notify attendees and the provider cannot suppress that."""


class MalformedItem(ProviderError):
    """An item that cannot be read as a calendar event. Names the item."""

    def __init__(self, item_id: str, reason: str) -> None:
        super().__init__(f"item {item_id} is malformed: {reason}")
        self.item_id = item_id
        self.reason = reason


# -- data -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Items whose start lies in [start, end) take part (SPEC R2)."""

    start: datetime
    end: datetime

    def contains(self, event: Event) -> bool:
        return self.start <= event.start_utc < self.end


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    etag: str
    event: Event


@dataclass(frozen=True, slots=True)
class BrokenItem:
    """An item the provider listed but could not parse; the engine skips it."""

    id: str
    etag: str
    error: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    show_as: frozenset[ShowAs] = frozenset(ShowAs)
    privacy: frozenset[Privacy] = frozenset(Privacy)
    multiday: bool = True
    reminders: bool = True
    #: LAST-MODIFIED / last_modified_time can be trusted for conflict resolution
    trusted_mtime: bool = True
    #: the provider can re-create an item under the UID of a deleted one
    reuse_uid: bool = True
    #: an id can be handed to a new item once its item is deleted (a table's integer
    #: key: SQLite gives a new row the highest id plus one, MySQL's counter can go
    #: back after a restart): a paired id listed with another UID is that new item
    reuses_ids: bool = False


@dataclass
class Listing:
    """id -> etag of every item whose start lies in the window.

    `broken` holds items that were listed but could not be parsed; `warnings` are
    for the operator (e.g. a recurring series capped at `max_occurrences`).
    """

    etags: dict[str, str]
    broken: dict[str, BrokenItem] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Provider(ABC):
    """A calendar. Instances are created per sync run and closed afterwards."""

    #: the URL scheme this provider answers, e.g. "folder"
    scheme: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()

    #: set for a dry run or a check (`open_provider(..., read_only=True)`): the provider
    #: then writes nothing at all, not even a marker of its own (an id file, a property)
    read_only: bool = False

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self.settings: Mapping[str, Any] = settings or {}

    # -- reading ------------------------------------------------------------------------

    @abstractmethod
    def identity(self) -> str:
        """A stable string that changes when this is a different calendar (SPEC R10)."""

    def claim_identity(self) -> str:
        """At initialization: the identity to record. A provider may first mark the
        calendar so that a replacement at the same address is told apart (CalDAV)."""
        return self.identity()

    def calendar_name(self) -> str | None:
        """The calendar's human name, if the service keeps one (CalDAV's displayname,
        Graph's and EWS's folder name, Google's summary, a folder's name), else None.

        Shown beside the address when the identity question is asked (SPEC R10), so it
        never raises for a missing name: None. Providers answer from what a run already
        read (identity, listing) wherever they can, so it costs no extra request.
        """
        return None

    @abstractmethod
    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        """List the items whose start lies in `window`.

        `cache` is provider-owned, JSON-serializable and persisted per user between
        runs (sync tokens, delta links, etag indexes); the engine never reads it.
        Items may overlap the window's edges; the engine filters on start itself.
        """

    @abstractmethod
    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        """Fetch these items in bulk. An id absent from the result is confirmed gone."""

    def change_time(self, item: Item) -> datetime | None:
        """When `item` last changed by a clock the calendar itself keeps (a folder's
        file time), for conflicts between items without LAST-MODIFIED (SPEC R3).

        None: the engine uses the time it first saw the change, kept in the state.
        """
        return None

    # -- writing (never notify attendees: `notify` exists so callers say so) -----------

    @abstractmethod
    def create(self, event: Event, *, notify: bool = False) -> Item:
        """Create an item; its UID is `event.uid`. Raises ItemRefused on a UID clash."""

    @abstractmethod
    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        """Overwrite the item if it still has `etag`, else raise EtagMismatch."""

    @abstractmethod
    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        """Delete the item if it still has `etag` (EtagMismatch), or ItemNotFound.

        Raise one of `sync.engine.pending.NOT_DONE` only when the item surely was not
        deleted; any other error leaves the outcome unknown (the trash entry stays).
        """

    def create_many(self, events: Iterable[Event]) -> list[Item | ProviderError]:
        """Bulk create; providers with a bulk API override this."""
        results: list[Item | ProviderError] = []
        for event in events:
            try:
                results.append(self.create(event, notify=False))
            except ProviderError as exc:
                results.append(exc)
        return results

    def moved_ids(self, before: Mapping[str, Event]) -> dict[str, str]:
        """{old id: current id} for paired items this calendar no longer lists under the
        ids another adapter of the same calendar gave them (`before`: id -> the event as
        last synced). Google over CalDAV -> the Calendar API (sync.engine.moved)."""
        return {}

    # -- operator checks ------------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        """(check name, ok, detail) per access check for `calsync check` (SPEC R13)."""
        try:
            ident = self.identity()
        except ProviderError as exc:
            return [("calendar reachable", False, str(exc))]
        return [("calendar reachable", True, ident)]

    def window_problem(self, window: Window) -> str | None:
        """Why this calendar cannot serve a sync window this long, or None (a server's
        limit, e.g. Graph's 1825-day calendar view). `calsync check` shows it."""
        return None

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make every write so far durable.

        The engine calls this before it records writes in the user's state, so the
        state never names an item a crash could still take back. Writes of remote
        providers are durable when the server answers; a local store may batch them.
        Raises ProviderError when it cannot.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (after a `flush`)."""

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ensure_no_notify(notify: bool) -> None:
    """Every adapter calls this: calsync never sends invitations or cancellations."""
    if notify:
        raise NotifyRefused("calsync never sends meeting invitations or cancellations")
