"""The pure planner: two listings + the stored pairings → a list of actions.

No I/O here. Per pair, each side's status comes from `sync.engine.sideview`; the
decision table below is vdirsyncer's, extended with conflicts by modification
time (R3), edit-beats-delete, privacy (R5) and the mass-deletion guard
(`sync.engine.guard`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sync.engine.actions import Action, Plan
from sync.engine.conflict import SIDE_NAME, When, change_time, decide
from sync.engine.guard import Safety, guard
from sync.engine.matching import match_by_shape
from sync.engine.multiday import title_follow_up
from sync.engine.pairs import SIDES, Pair, Side, other, pair_key
from sync.engine.sideview import SideView, Status, status_of
from sync.engine.transform import (
    desired,
    equivalent,
    is_private_for,
    new_copy,
    propagate,
)
from sync.engine.unpaired import create_actions, remote_by_pair_key, unpaired_items
from sync.model import Event
from sync.providers.base import Item, Window
from sync.settings import Settings

__all__ = ["PROTECTED_REASON", "Planner", "Safety", "SideView"]

PROTECTED_REASON = "a meeting with attendees: writing it would notify them, so its version is kept"


class Planner:
    def __init__(
        self,
        settings: Settings,
        window: Window,
        now: datetime,
        *,
        init: bool = False,
        safety: Safety | None = None,
    ) -> None:
        self.settings = settings
        self.window = window
        self.now = now
        self.init = init
        self.safety = safety or Safety()

    # -- entry point ----------------------------------------------------------------------

    def plan(self, pairs: Iterable[Pair], crm: SideView, remote: SideView) -> Plan:
        views: dict[Side, SideView] = {"crm": crm, "remote": remote}
        plan = Plan()
        paired_ids: dict[Side, set[str]] = {"crm": set(), "remote": set()}
        paired_keys: set[str] = set()
        for pair in pairs:
            for side in SIDES:
                if pair.side(side).id not in views[side].reused:
                    paired_ids[side].add(pair.side(side).id)
            if pair.remote.id not in remote.gone:
                paired_keys.add(pair.key)  # its remote item still holds the key
            self._plan_pair(pair, views, plan)
        for side in SIDES:
            for item_id, error in sorted(views[side].broken.items()):
                plan.warnings.append(
                    f"skipped unreadable {SIDE_NAME[side]} item {item_id}: {error}"
                )
        self._plan_unpaired(views, paired_ids, paired_keys, plan)
        guard(plan, views, self.safety)
        return plan

    # -- existing pairs ---------------------------------------------------------------------

    def _plan_pair(self, pair: Pair, views: dict[Side, SideView], plan: Plan) -> None:
        c, crm_item = status_of(pair.crm, views["crm"])
        r, remote_item = status_of(pair.remote, views["remote"])
        if Status.UNSEEN in (c, r) or Status.BROKEN in (c, r):
            return  # cannot decide safely: leave the pair as it is
        plan.pairs_in_view += 1
        if crm_item is None and remote_item is None and c is r is Status.SAME:
            if not self.settings.skip_private:
                return  # both listed as last synced: nothing to do, nothing decoded
        if c is Status.SAME and crm_item is None:
            crm_item = pair.crm.as_item()
        if r is Status.SAME and remote_item is None:
            remote_item = pair.remote.as_item()
        items: dict[Side, Item | None] = {"crm": crm_item, "remote": remote_item}
        status: dict[Side, Status] = {"crm": c, "remote": r}

        if c is Status.GONE and r is Status.GONE:
            plan.actions.append(Action("unpair", "crm", "deleted on both sides", drop_key=pair.key))
            return
        for side in SIDES:
            if status[side] is Status.GONE:
                self._plan_gone(pair, side, status[other(side)], items[other(side)], plan)
                return
        assert crm_item is not None and remote_item is not None
        if self.settings.skip_private and self._plan_private(pair, items, status, plan):
            return
        if c is Status.SAME and r is Status.SAME:
            if crm_item.etag != pair.crm.etag or remote_item.etag != pair.remote.etag:
                plan.actions.append(
                    self._pair_action(crm_item, remote_item, "etag refreshed", pair)
                )
            return
        if c is Status.CHANGED and r is Status.CHANGED:
            winner, reason = self._winner(crm_item, remote_item, views)
            loser = other(winner)
            self._propagate(pair, winner, items[winner], None, items[loser], reason, plan)
            return
        changed: Side = "crm" if c is Status.CHANGED else "remote"
        self._propagate(
            pair,
            changed,
            items[changed],
            pair.side(changed).event,
            items[other(changed)],
            f"changed in {SIDE_NAME[changed]}",
            plan,
        )

    def _plan_gone(
        self,
        pair: Pair,
        gone_side: Side,
        other_status: Status,
        other_item: Item | None,
        plan: Plan,
    ) -> None:
        keep_side = other(gone_side)
        assert other_item is not None
        if other_item.event.notifies_attendees:
            other_status = Status.CHANGED  # cannot delete it silently: it comes back instead
        if other_status is Status.CHANGED:
            if self.settings.skip_private and is_private_for(keep_side, other_item.event):
                plan.actions.append(
                    Action(
                        "unpair",
                        "crm",
                        "deleted on one side, private on the other",
                        drop_key=pair.key,
                    )
                )
                return
            # edit versus delete: the edit wins and the item is re-created (R3)
            plan.actions.append(
                Action(
                    "create",
                    gone_side,
                    PROTECTED_REASON
                    if other_item.event.notifies_attendees
                    else f"conflict: edit in {SIDE_NAME[keep_side]} wins over delete in {SIDE_NAME[gone_side]}",
                    after=new_copy(other_item.event, keep_side, self.settings, self.now),
                    source=other_item,
                    drop_key=pair.key,
                    origin=keep_side,
                )
            )
            return
        plan.actions.append(
            Action(
                "delete",
                keep_side,
                f"deleted in {SIDE_NAME[gone_side]}",
                item_id=other_item.id,
                etag=other_item.etag,
                before=other_item.event,
                source=pair.side(gone_side).as_item(),  # what was deleted: for the trash
                drop_key=pair.key,
            )
        )

    def _plan_private(
        self,
        pair: Pair,
        items: dict[Side, Item | None],
        status: dict[Side, Status],
        plan: Plan,
    ) -> bool:
        private = [s for s in SIDES if is_private_for(s, items[s].event)]  # type: ignore[union-attr]
        if not private:
            return False
        if len(private) == 1:
            keep = private[0]
        elif pair.origin in SIDES:
            keep = pair.origin  # type: ignore[assignment]
        else:
            keep = next((s for s in SIDES if status[s] is Status.CHANGED), "remote")
        drop = other(keep)
        item = items[drop]
        assert item is not None
        if item.event.notifies_attendees:
            plan.actions.append(
                Action(
                    "unpair",
                    "crm",
                    f"private in {SIDE_NAME[keep]}; {PROTECTED_REASON}",
                    drop_key=pair.key,
                )
            )
            return True
        plan.actions.append(
            Action(
                "delete",
                drop,
                f"became private in {SIDE_NAME[keep]}: its copy is removed",
                item_id=item.id,
                etag=item.etag,
                before=item.event,
                drop_key=pair.key,
            )
        )
        return True

    def _propagate(
        self,
        pair: Pair | None,
        source_side: Side,
        source: Item | None,
        old: Event | None,
        target: Item | None,
        reason: str,
        plan: Plan,
    ) -> None:
        assert source is not None and target is not None
        if target.event.notifies_attendees and not source.event.notifies_attendees:
            # the protected item's version wins: copy it over the other side instead
            self._propagate(pair, other(source_side), target, None, source, PROTECTED_REASON, plan)
            return
        # a pair born in the CRM never gets the multi-day title form (R4)
        titling = pair is None or pair.origin != "crm"
        after = propagate(
            source.event, old, source_side, target.event, self.settings, self.now, titling=titling
        )
        if after is None:
            crm, remote = (source, target) if source_side == "crm" else (target, source)
            plan.actions.append(self._pair_action(crm, remote, f"{reason} (nothing to copy)", pair))
            return
        key, origin = (pair.key, pair.origin) if pair else (None, "both")
        retitle = title_follow_up(
            source_side, source, target.event, after, self.settings, self.now, titling, key
        )
        plan.actions.append(
            Action(
                "update",
                other(source_side),
                reason,
                item_id=target.id,
                etag=target.etag,
                before=target.event,
                after=after,
                source=source,
                drop_key=key,
                origin=origin,
                then=retitle,
            )
        )

    def _pair_action(self, crm: Item, remote: Item, reason: str, pair: Pair | None) -> Action:
        return Action(
            "pair",
            "crm",
            reason,
            crm=crm,
            remote=remote,
            drop_key=pair.key if pair else None,
            origin=pair.origin if pair else "both",
        )

    def _winner(self, crm: Item, remote: Item, views: dict[Side, SideView]) -> tuple[Side, str]:
        def when(side: Side, item: Item) -> When:
            view = views[side]
            return change_time(item, view.trusted_mtime, view.observed, self.now)

        return decide(when("crm", crm), when("remote", remote))

    # -- items with no pair yet -----------------------------------------------------------

    def _plan_unpaired(
        self,
        views: dict[Side, SideView],
        paired_ids: dict[Side, set[str]],
        paired_keys: set[str],
        plan: Plan,
    ) -> None:
        fresh = unpaired_items(views, paired_ids, self.window, self.settings, plan)
        remote_by_key, clashing = remote_by_pair_key(fresh["remote"], paired_keys, plan)
        unmatched_crm: list[Item] = []
        for crm_item in fresh["crm"]:
            match = remote_by_key.pop(pair_key(crm_item.event), None)
            if match is None:
                unmatched_crm.append(crm_item)
            else:
                self._plan_match(crm_item, match, "matched by UID", views, plan)
        unmatched_remote = list(remote_by_key.values())

        #: the CRM copy of each unmatched remote item, worked out once for matching
        #: and creating (an initial sync does this for every item)
        copies: dict[int, Event] = {}
        if self.init:

            def crm_view(remote_item: Item) -> Event:
                view = desired(remote_item.event, "remote", None, self.settings)
                copies[id(remote_item)] = view
                return view

            matched, unmatched_crm, unmatched_remote = match_by_shape(
                unmatched_crm, unmatched_remote, crm_view
            )
            for crm_item, match in matched:
                self._plan_match(crm_item, match, "matched by start, end and subject", views, plan)

        unmatched: dict[Side, list[Item]] = {"crm": unmatched_crm, "remote": unmatched_remote}
        plan.actions.extend(create_actions(unmatched, copies, clashing, self.settings, self.now))

    def _plan_match(
        self, crm: Item, remote: Item, how: str, views: dict[Side, SideView], plan: Plan
    ) -> None:
        if equivalent(crm.event, remote.event, self.settings):
            plan.actions.append(self._pair_action(crm, remote, how, None))
            return
        winner, reason = self._winner(crm, remote, views)
        items: dict[Side, Item] = {"crm": crm, "remote": remote}
        self._propagate(
            None, winner, items[winner], None, items[other(winner)], f"{how}; {reason}", plan
        )
