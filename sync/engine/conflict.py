"""Who wins when an item changed on both sides, and what the log may say about it (R3).

Each side's change gets a time and the basis of that time: its LAST-MODIFIED where
the side's modification times are trusted, else when the change was observed — a
folder's file time, or the time of the listing that first saw the new etag (kept in
the state, `sync.engine.observed`). The later time wins. The log says "X newer" only
when both times are modification times; otherwise it states the two times it
compared, and when they are equal it says the order is unknown instead of inventing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NamedTuple

from sync.engine.pairs import Side
from sync.providers.base import Item

SIDE_NAME = {"crm": "CRM", "remote": "remote"}
MODIFIED = "modified"
FIRST_SEEN = "first seen"
#: the side kept when the order is unknown: the CRM, the business system of record
TIE_KEEPS: Side = "crm"


class When(NamedTuple):
    time: datetime
    #: "modified" (LAST-MODIFIED), "file written" or "first seen"
    basis: str

    def __str__(self) -> str:
        return f"{self.basis} {self.time.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def change_time(item: Item, trusted: bool, observed: Mapping[str, When], now: datetime) -> When:
    """When this side's version of the item changed, as well as calsync can tell."""
    if trusted and item.event.last_modified is not None:
        return When(item.event.last_modified, MODIFIED)
    return observed.get(item.id) or When(now, FIRST_SEEN)


def decide(crm: When, remote: When) -> tuple[Side, str]:
    """(the winning side, the log's reason) for a change on both sides."""
    if crm.time == remote.time:
        return TIE_KEEPS, (
            f"conflict: changed on both sides, order unknown (CRM {crm}, remote {remote}); "
            f"the {SIDE_NAME[TIE_KEEPS]} version is kept"
        )
    winner: Side = "remote" if remote.time > crm.time else "crm"
    if crm.basis == remote.basis == MODIFIED:
        return winner, f"conflict: {SIDE_NAME[winner]} newer"
    # an observation bounds a change, it does not date it: say what was compared
    won, lost = (remote, crm) if winner == "remote" else (crm, remote)
    loser = SIDE_NAME["crm" if winner == "remote" else "remote"]
    return winner, (
        f"conflict: {SIDE_NAME[winner]} version kept: {SIDE_NAME[winner]} {won} "
        f"is later than {loser} {lost}"
    )
