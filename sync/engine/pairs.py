"""How a pairing is stored: both sides' id, etag, content hash and last-synced event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sync.model import Event, event_from_dict, event_to_dict
from sync.providers.base import Item

Side = Literal["crm", "remote"]
SIDES: tuple[Side, Side] = ("crm", "remote")


def other(side: Side) -> Side:
    return "remote" if side == "crm" else "crm"


@dataclass(frozen=True, slots=True)
class Synced:
    """One side of a pair as it was when the pair was last synced."""

    id: str
    etag: str
    hash: str
    event: Event

    @classmethod
    def of(cls, item: Item) -> Synced:
        return cls(item.id, item.etag, item.event.content_hash(), item.event)

    def as_item(self) -> Item:
        return Item(self.id, self.etag, self.event)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "etag": self.etag,
            "hash": self.hash,
            "event": event_to_dict(self.event),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Synced:
        return cls(
            str(data["id"]), str(data["etag"]), str(data["hash"]), event_from_dict(data["event"])
        )


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
