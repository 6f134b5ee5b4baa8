"""The small action objects the planner yields and the applier performs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sync.engine.pairs import Side
from sync.model import Event, event_to_dict
from sync.providers.base import Item

Op = Literal["create", "update", "delete", "pair", "unpair"]
#: operations that write to a calendar (the others only touch the stored pairings)
WRITES: frozenset[str] = frozenset({"create", "update", "delete"})


@dataclass(frozen=True)
class Action:
    op: Op
    #: the side written to (create/update/delete)
    side: Side
    reason: str
    #: the item written on `side` (update/delete)
    item_id: str | None = None
    etag: str | None = None
    before: Event | None = None
    after: Event | None = None
    #: the other side's current item: with the written item it forms the new pair
    source: Item | None = None
    #: an existing pair this action replaces or ends
    drop_key: str | None = None
    #: for "pair": both items as they are now
    crm: Item | None = None
    remote: Item | None = None
    origin: str = "both"
    #: done right after this action succeeds, with `source` set to the item this one
    #: wrote (a CRM title that follows the remote span this action moved)
    then: Action | None = None

    @property
    def writes(self) -> bool:
        return self.op in WRITES

    def chain(self) -> list[Action]:
        """This action and its follow-ups, in order."""
        return [self, *(self.then.chain() if self.then is not None else [])]

    def to_json(self) -> dict[str, Any]:
        shown = self.after or self.before or (self.crm.event if self.crm else None)
        subject = shown.subject if shown else None
        return {
            "op": self.op,
            "side": self.side,
            "reason": self.reason,
            "item_id": self.item_id,
            "subject": subject,
            "before": event_to_dict(self.before) if self.before else None,
            "after": event_to_dict(self.after) if self.after else None,
        }


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: pairs whose items were seen in this run (the base of the deletion share)
    pairs_in_view: int = 0
    #: set when the mass-deletion guard stops the run
    guard: str | None = None

    @property
    def writes(self) -> list[Action]:
        return [step for a in self.actions for step in a.chain() if step.writes]

    def count(self, op: str, side: Side) -> int:
        return sum(1 for a in self.actions if a.op == op and a.side == side)
