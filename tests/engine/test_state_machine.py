"""A Hypothesis state machine over folder ↔ folder sync, with crashes between applier steps.

After every completed sync: both sides hold the same items (modulo the multi-day
title), no UID twice on a side, every item the test deleted whose copy went away
is in the trash, and a second sync plans nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sync.engine.transform import strip_suffix
from sync.model import Privacy
from tests.engine.harness import Env, ev


class Crash(Exception):
    """Stands for the process dying between two applier steps."""


SIDES = st.sampled_from(["crm", "remote"])
SUBJECTS = st.sampled_from(
    ["Visit", "Call", "Demo", "Lunch", "Review", "Fair", "Training", "Ölprovning"]
)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="calsync-sm-"))
        self.env = Env(self.root)
        self.env.add_user(skip_private=False)
        assert self.env.init().result == "ok"
        self.counter = 0
        self.deleted: set[str] = set()
        self.synced = True

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _items(self, side: str):  # type: ignore[no-untyped-def]
        return sorted(self.env.items(side), key=lambda i: i.id)

    # -- edits on either side ------------------------------------------------------------

    @rule(
        side=SIDES,
        subject=SUBJECTS,
        days=st.integers(-20, 60),
        hours=st.sampled_from([1, 2, 30, 72]),
    )
    def create(self, side: str, subject: str, days: int, hours: int) -> None:
        self.counter += 1
        self.env.put(
            side, ev(f"sm-{self.counter}", f"{subject} {self.counter}", days=days, hours=hours)
        )
        self.synced = False

    @rule(side=SIDES, pick=st.integers(0, 50), location=st.text(max_size=8))
    def edit(self, side: str, pick: int, location: str) -> None:
        items = self._items(side)
        if not items:
            return
        item = items[pick % len(items)]
        with self.env.provider(side) as p:
            p.update(
                item.id,
                item.etag,
                item.event.replace(
                    location=location.replace("\r", ""),
                    last_modified=datetime.now(UTC).replace(microsecond=0),
                ),
            )
        self.synced = False

    @rule(side=SIDES, pick=st.integers(0, 50), shift=st.integers(-3, 3))
    def move(self, side: str, pick: int, shift: int) -> None:
        items = self._items(side)
        if not items:
            return
        item = items[pick % len(items)]
        delta = timedelta(days=shift)
        with self.env.provider(side) as p:
            p.update(
                item.id,
                item.etag,
                item.event.replace(start=item.event.start + delta, end=item.event.end + delta),
            )
        self.synced = False

    @rule(side=SIDES, pick=st.integers(0, 50))
    def flip_privacy(self, side: str, pick: int) -> None:
        items = self._items(side)
        if not items:
            return
        item = items[pick % len(items)]
        new = Privacy.NORMAL if item.event.is_private else Privacy.PRIVATE
        with self.env.provider(side) as p:
            p.update(item.id, item.etag, item.event.replace(privacy=new))
        self.synced = False

    @rule(side=SIDES, pick=st.integers(0, 50))
    def delete(self, side: str, pick: int) -> None:
        items = self._items(side)
        if not items:
            return
        item = items[pick % len(items)]
        with self.env.provider(side) as p:
            p.delete(item.id, item.etag)
        self.deleted.add(item.event.uid)
        self.synced = False

    # -- syncing -------------------------------------------------------------------------

    @rule(after=st.integers(1, 6))
    def crashing_sync(self, after: int) -> None:
        def progress(done: int, total: int, label: str) -> None:
            if done == after:
                raise Crash

        with contextlib.suppress(Crash):
            self.env.sync(force=True, progress=progress)
        self.synced = False

    #: whether a synced item has the same UID on both sides (see GoogleSyncMachine)
    same_uids = True

    @rule()
    def sync(self) -> None:
        result = self.env.sync(force=True)
        assert result.result == "ok", result
        self.synced = True

    @precondition(lambda self: self.synced)
    @invariant()
    def converged(self) -> None:
        crm = self._items("crm")
        remote = self._items("remote")
        for side_items in (crm, remote):
            uids = [i.event.uid for i in side_items]
            assert len(uids) == len(set(uids)), f"duplicate UID: {sorted(uids)}"

        def shape(items):  # type: ignore[no-untyped-def]
            fields = {
                i.event.uid: (
                    strip_suffix(i.event.subject),
                    i.event.start_utc,
                    i.event.location,
                    i.event.privacy,
                )
                for i in items
            }
            return fields if self.same_uids else sorted(fields.values(), key=repr)

        assert shape(crm) == shape(remote)
        plan = self.env.sync(dry_run=True).plan
        assert plan is not None and not plan.writes, [a.to_json() for a in plan.writes]
        trashed = {t["item"]["uid"] for t in self.env.trash()}
        present = set(shape(crm))
        for uid in self.deleted - present:
            # its copy was deleted by the sync (or it had no copy yet / both went)
            copies = [
                e
                for e in self.env.log()
                if e["action"] == "delete" and (e["before"] or {}).get("uid") == uid
            ]
            if copies:
                assert uid in trashed


SyncMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=18,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSyncMachine = SyncMachine.TestCase


class PrivateSyncMachine(SyncMachine):
    """The same edits with skip_private on and a minutes:N reminder policy: private
    items never have a copy, everything else matches on both sides."""

    def __init__(self) -> None:
        super().__init__()
        self.env.set(skip_private=True, reminders="minutes:10")

    @precondition(lambda self: self.synced)
    @invariant()
    def converged(self) -> None:
        sides = {
            side: {i.event.uid: i.event for i in self._items(side)} for side in ("crm", "remote")
        }
        for side, events in sides.items():
            assert len(events) == len(self._items(side)), f"duplicate UID on {side}"
        for uid in set(sides["crm"]) | set(sides["remote"]):
            crm, remote = sides["crm"].get(uid), sides["remote"].get(uid)
            if crm is not None and remote is not None:
                assert not crm.is_private and not remote.is_private, uid
                assert (strip_suffix(crm.subject), crm.start_utc, crm.location) == (
                    strip_suffix(remote.subject),
                    remote.start_utc,
                    remote.location,
                )
            else:
                present = crm if crm is not None else remote
                assert present is not None and present.is_private, f"{uid} has no copy"
        plan = self.env.sync(dry_run=True).plan
        assert plan is not None and not plan.writes, [a.to_json() for a in plan.writes]


PrivateSyncMachine.TestCase.settings = SyncMachine.TestCase.settings
TestPrivateSyncMachine = PrivateSyncMachine.TestCase
