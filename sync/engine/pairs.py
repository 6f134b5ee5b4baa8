"""How a pairing is stored: both sides' id, etag, content hash and last-synced event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sync.model import Event, event_from_dict, event_to_stored
from sync.providers.base import Item

Side = Literal["crm", "remote"]
SIDES: tuple[Side, Side] = ("crm", "remote")


def other(side: Side) -> Side:
    return "remote" if side == "crm" else "crm"


class Synced:
    """One side of a pair as it was when the pair was last synced.

    Read from the state file, the event stays in its stored form until something
    asks for it: a no-change run compares only ids and etags (the listing's against
    these), so it never decodes the thousands of stored events (issue 17).
    """

    __slots__ = ("_event", "_stored", "etag", "hash", "id")

    def __init__(
        self,
        id: str,
        etag: str,
        hash: str,
        event: Event | None = None,
        *,
        stored: dict[str, Any] | None = None,
    ) -> None:
        if event is None and stored is None:
            raise TypeError("Synced needs an event or its stored form")
        self.id = id
        self.etag = etag
        self.hash = hash
        self._event = event
        self._stored = stored

    @property
    def event(self) -> Event:
        if self._event is None:
            assert self._stored is not None
            self._event = event_from_dict(self._stored)
        return self._event

    @property
    def decoded(self) -> bool:
        """Whether the event was decoded (tests check that a no-change run does not)."""
        return self._event is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Synced):
            return NotImplemented
        return (self.id, self.etag, self.hash, self.event) == (
            other.id,
            other.etag,
            other.hash,
            other.event,
        )

    def __hash__(self) -> int:
        return hash((self.id, self.etag, self.hash))

    def __repr__(self) -> str:
        return f"Synced(id={self.id!r}, etag={self.etag!r}, hash={self.hash!r})"

    @classmethod
    def of(cls, item: Item) -> Synced:
        return cls(item.id, item.etag, item.event.content_hash(), item.event)

    def renamed(self, id: str, etag: str) -> Synced:
        """The same synced item under another id and etag (its event still undecoded)."""
        return Synced(id, etag, self.hash, self._event, stored=self._stored)

    def as_item(self) -> Item:
        return Item(self.id, self.etag, self.event)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "etag": self.etag,
            "hash": self.hash,
            # never decoded: its stored form as it was read
            "event": event_to_stored(self._event) if self._event is not None else self._stored,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Synced:
        return cls(str(data["id"]), str(data["etag"]), str(data["hash"]), stored=data["event"])


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    crm: Synced
    remote: Synced
    #: the side the item was first created on, or "both" when matched at init
    origin: str = "both"

    def side(self, side: Side) -> Synced:
        return self.crm if side == "crm" else self.remote

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "origin": self.origin,
            "crm": self.crm.to_json(),
            "remote": self.remote.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pair:
        return cls(
            key=str(data["key"]),
            crm=Synced.from_json(data["crm"]),
            remote=Synced.from_json(data["remote"]),
            origin=str(data.get("origin", "both")),
        )


def pair_key(event: Event) -> str:
    """Pairs are keyed by the CRM side's identity: UID plus recurrence id."""
    return f"{event.uid}#{event.recurrence_id}" if event.recurrence_id else event.uid


def make_pair(crm: Item, remote: Item, origin: str) -> Pair:
    return Pair(pair_key(crm.event), Synced.of(crm), Synced.of(remote), origin)
