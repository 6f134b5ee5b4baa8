"""A Hypothesis state machine: calendar edits, syncs through a lying network, kills, restores.

The remote is Radicale behind `FaultProxy`; each faulty sync meets a queue of
faults Hypothesis chose (500 / reset before or after forwarding, stalls past the
timeout, trickled, truncated or non-XML answers, 412, 429/503). Kills stop a sync
dead between two requests, just after one reached the server, or between two
applier steps. Restores may lose their answer and are then run again.

After the faults stop (the `converge` rule, and at the end of every example):

- both sides hold the same items, no UID and no (title, start) twice on a side;
- no trash entry is left pending, no item has two live (unrestored) entries, and
  every item deleted on one side while paired is in the trash exactly once;
- a restore run again after a lost answer puts the item back once, and a third
  run is refused as already done.

CALSYNC_FAULT_EXAMPLES sets the number of examples (default small, for CI);
CALSYNC_FAULT_STEPS the steps per example.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from storage.state import UserState
from sync import service
from sync.engine.pairs import Pair
from sync.engine.transform import strip_suffix
from sync.providers.base import ProviderError
from sync.providers.dav import provider as caldav_module
from tests.engine.harness import ev
from tests.faults.proxy import FAULTS, FaultProxy
from tests.faults.world import FaultWorld
from tests.providers.dav.radicale_server import RadicaleServer

EXAMPLES = int(os.environ.get("CALSYNC_FAULT_EXAMPLES", "5"))
STEPS = int(os.environ.get("CALSYNC_FAULT_STEPS", "14"))
#: items both calendars hold when an example starts
SEED = 6

SIDES = st.sampled_from(["crm", "remote"])
FAULT = st.sampled_from(FAULTS)
#: a fault for most requests, or a request let through
SCHEDULE = st.lists(st.one_of(FAULT, FAULT, st.none()), min_size=1, max_size=6)
#: the requests faults are for: writes mostly, the listing, or any request (after
#: letting the first few through)
CHANGES = st.lists(
    st.tuples(st.sampled_from(["create", "edit", "delete"]), SIDES, st.integers(0, 50)),
    min_size=1,
    max_size=4,
)
WRITES = st.sampled_from(
    [("PUT", "DELETE"), ("DELETE",), ("PUT",), ("PUT", "DELETE"), ("PROPFIND", "REPORT"), None]
)


class Crash(BaseException):
    """Stands for kill -9: nothing below catches it, nothing is flushed."""


@contextlib.contextmanager
def kill_at(request: int, after: bool) -> Iterator[None]:
    """Kill the run at its `request`-th CalDAV request, before or after it reached the server."""
    original = caldav_module.CalDAVProvider._request
    count = 0

    def dying(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        if count == request and not after:
            raise Crash
        response = original(self, method, url, *args, **kwargs)
        if count == request:
            raise Crash
        return response

    caldav_module.CalDAVProvider._request = dying  # type: ignore[method-assign]
    try:
        yield
    finally:
        caldav_module.CalDAVProvider._request = original  # type: ignore[method-assign]


class FaultMachine(RuleBasedStateMachine):
    def __init__(self, radicale: RadicaleServer, proxy: FaultProxy) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="calsync-faults-"))
        self.proxy = proxy
        proxy.clear()
        self.world = FaultWorld(self.root, radicale, proxy)
        self.world.add_user(skip_private=False)
        # a synced calendar to start from: edits and deletes have something to act on
        for n in range(SEED):
            self.world.put("crm" if n % 3 else "remote", ev(f"fm-{n}@x", f"Item {n}", days=n + 1))
        assert self.world.init().result == "ok"
        self.counter = SEED
        #: uid -> the sides the test deleted it on, and whether it was paired then
        self.deleted: dict[str, tuple[set[str], bool]] = {}
        #: edits since the last `converge`: it checks only after a few
        self.unchecked = 0

    def teardown(self) -> None:
        try:
            self.converge()
        finally:
            self.proxy.clear()
            shutil.rmtree(self.root, ignore_errors=True)

    # -- edits on either side -------------------------------------------------------------

    def _items(self, side: str) -> list[Any]:
        return sorted(self.world.items(side), key=lambda i: i.id)

    def _create(self, side: str, days: int) -> None:
        self.counter += 1
        n = self.counter
        self.world.put(side, ev(f"fm-{n}@x", f"Item {n}", days=days))

    def _edit(self, side: str, pick: int, location: str) -> None:
        items = self._items(side)
        if not items:
            return
        item = items[pick % len(items)]
        stamp = datetime.now(UTC).replace(microsecond=0)
        with self.world.provider(side) as p:
            p.update(item.id, item.etag, item.event.replace(location=location, last_modified=stamp))

    def _delete(self, side: str, pick: int) -> None:
        items = self._items(side)
        if not items:
            return
        item = items[pick % len(items)]
        state = UserState(self.world.files.state_path, writable=False)
        paired = any(
            Pair.from_json(p).side(side).id == item.id  # type: ignore[arg-type]
            for p in state.pairs.values()
        )
        with self.world.provider(side) as p:
            p.delete(item.id, item.etag)
        sides, was_paired = self.deleted.get(item.event.uid, (set(), False))
        self.deleted[item.event.uid] = (sides | {side}, was_paired or paired)

    def _apply(self, changes: list[tuple[str, str, int]]) -> None:
        for op, side, pick in changes:
            if op == "create":
                self._create(side, 1 + pick % 40)
            elif op == "edit":
                self._edit(side, pick, f"Room {pick}")
            else:
                self._delete(side, pick)
        self.unchecked += 1

    @rule(changes=CHANGES)
    def change(self, changes: list[tuple[str, str, int]]) -> None:
        self._apply(changes)

    # -- syncs through faults, and kills (each after a few changes) ---------------------------

    @rule(changes=CHANGES, faults=SCHEDULE, methods=WRITES, skip=st.integers(0, 4))
    def faulty_sync(
        self,
        changes: list[tuple[str, str, int]],
        faults: list[str | None],
        methods: tuple[str, ...] | None,
        skip: int,
    ) -> None:
        self._apply(changes)
        self.proxy.schedule([None] * skip + faults, methods)
        try:
            self.world.sync(force=True)
        finally:
            self.proxy.clear()

    @rule(changes=CHANGES, request=st.integers(1, 8), after=st.booleans())
    def killed_sync(self, changes: list[tuple[str, str, int]], request: int, after: bool) -> None:
        self._apply(changes)
        with contextlib.suppress(Crash), kill_at(request, after):
            self.world.sync(force=True)

    @rule(changes=CHANGES, step=st.integers(1, 6))
    def killed_between_steps(self, changes: list[tuple[str, str, int]], step: int) -> None:
        self._apply(changes)

        def progress(done: int, total: int, label: str) -> None:
            if done == step:
                raise Crash

        with contextlib.suppress(Crash):
            self.world.sync(force=True, progress=progress)

    @rule(
        changes=CHANGES,
        faults=st.lists(FAULT, min_size=1, max_size=2),
        kill=st.integers(1, 5),
    )
    def faulty_then_killed(
        self, changes: list[tuple[str, str, int]], faults: list[str], kill: int
    ) -> None:
        """A write meets a fault, and the run is killed a few requests later."""
        self._apply(changes)
        self.proxy.schedule(faults, ("PUT", "DELETE"))
        try:
            with contextlib.suppress(Crash), kill_at(kill, True):
                self.world.sync(force=True)
        finally:
            self.proxy.clear()

    # -- restores -----------------------------------------------------------------------------

    @rule(pick=st.integers(0, 50), fault=st.sampled_from([None, "500_after", "reset_after"]))
    def restore(self, pick: int, fault: str | None) -> None:
        entries = sorted(self.world.trash(), key=lambda e: str(e["id"]))
        if not entries:
            return
        entry = entries[pick % len(entries)]
        ws, config, name = self.world.ws, self.world.config, self.world.name
        if fault is not None:
            self.proxy.schedule([fault], ("PUT",))
        try:
            service.restore(ws, config, name, entry["id"])
        except ProviderError:
            self.proxy.clear()
            # the operator runs it again: it must succeed now, and store the item once
            service.restore(ws, config, name, entry["id"])
        finally:
            self.proxy.clear()
        with pytest.raises(service.OperationError, match="already restored"):
            service.restore(ws, config, name, entry["id"])
        assert self.world.duplicates(entry["side"]) == []

    # -- after the faults stop --------------------------------------------------------------------

    @precondition(lambda self: self.unchecked >= 3)
    @rule()
    def converge(self) -> None:
        self.unchecked = 0
        self.proxy.clear()
        world = self.world
        world.patient()
        try:
            results = [world.sync(force=True) for _ in range(3)]
        finally:
            world.impatient()
        assert results[-1].result == "ok", results
        for side in ("crm", "remote"):
            assert world.duplicates(side) == [], (side, world.duplicates(side))

        def shape(side: str) -> dict[str, tuple[str, datetime, str]]:
            return {
                i.event.uid: (strip_suffix(i.event.subject), i.event.start_utc, i.event.location)
                for i in world.items(side)
            }

        crm, remote = shape("crm"), shape("remote")
        assert crm == remote
        plan = world.sync(dry_run=True).plan
        assert plan is not None and not plan.writes, [a.to_json() for a in plan.writes]

        trash = world.all_trash()
        assert [e for e in trash if e.get("pending")] == []
        live: dict[str, int] = {}
        for entry in trash:
            if not entry.get("restored_at"):
                uid = entry["item"]["uid"]
                live[uid] = live.get(uid, 0) + 1
        assert all(n == 1 for n in live.values()), live
        for uid, (sides, paired) in self.deleted.items():
            if uid not in crm and len(sides) == 1 and paired:
                assert live.get(uid) == 1, (uid, sides, trash)


def test_fault_machine(radicale_server: RadicaleServer, proxy: FaultProxy) -> None:
    run_state_machine_as_test(
        lambda: FaultMachine(radicale_server, proxy),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
