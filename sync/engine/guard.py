"""The mass-deletion guard: a plan that would delete too much stops for an operator."""

from __future__ import annotations

from dataclasses import dataclass

from sync.engine.actions import Plan
from sync.engine.conflict import SIDE_NAME
from sync.engine.pairs import SIDES, Side, other
from sync.engine.sideview import SideView


@dataclass(frozen=True)
class Safety:
    max_delete_share: float = 0.5
    min_delete_count: int = 5


def guard(plan: Plan, views: dict[Side, SideView], safety: Safety) -> None:
    """Set `plan.guard` when the plan deletes more than a sync should without an operator."""
    for side in SIDES:
        deletes = plan.count("delete", side)
        if not deletes:
            continue
        source = other(side)
        if views[source].listed_nothing and plan.pairs_in_view:
            plan.guard = (
                f"the {SIDE_NAME[source]} calendar lists no items while {plan.pairs_in_view} "
                f"synced pair(s) exist: this sync would delete {deletes} item(s) in the "
                f"{SIDE_NAME[side]} calendar"
            )
            return
        if deletes >= safety.min_delete_count and deletes > safety.max_delete_share * max(
            plan.pairs_in_view, 1
        ):
            plan.guard = (
                f"this sync would delete {deletes} of {plan.pairs_in_view} item(s) in the "
                f"{SIDE_NAME[side]} calendar"
            )
            return
