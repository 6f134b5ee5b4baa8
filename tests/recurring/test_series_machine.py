"""A Hypothesis state machine over folder ↔ folder sync with recurring series.

Series live in the remote folder (as khal writes them); the machine creates them,
edits and deletes single occurrences on either side, changes a series' rule the
way a calendar app does (rewriting the resource, its exceptions gone), deletes
whole series, adds single CRM items, and syncs, sometimes crashing between two
applier steps. After every completed sync each side holds exactly one item per
pair key with the same fields as the other, and a second sync plans nothing.
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

from sync.engine.pairs import pair_key
from tests.engine.harness import Env, ev
from tests.recurring.series import SeriesSpec, folder_remote, items, local, today


class Crash(Exception):
    """Stands for the process dying between two applier steps."""


SIDES = st.sampled_from(["crm", "remote"])


class SeriesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="calsync-series-"))
        self.env = Env(self.root)
        self.env.add_user(skip_private=False)
        self.remote = folder_remote(self.root / "remote")
        assert self.env.init().result == "ok"
        self.series: dict[str, SeriesSpec] = {}
        self.counter = 0
        self.synced = True

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _occurrences(self, side: str):  # type: ignore[no-untyped-def]
        found = [i for i in items(self.env, side) if i.event.recurrence_id is not None]
        return sorted(found, key=lambda i: i.id)

    # -- the remote user's series -------------------------------------------------------

    @rule(
        days=st.integers(-20, 40),
        count=st.integers(1, 6),
        freq=st.sampled_from(["DAILY", "WEEKLY"]),
        hour=st.sampled_from([0, 9, 23]),
    )
    def create_series(self, days: int, count: int, freq: str, hour: int) -> None:
        self.counter += 1
        uid = f"series-{self.counter}"
        start = local(today() + timedelta(days=days), hour)
        spec = SeriesSpec(uid, f"Series {self.counter}", start, timedelta(hours=1), freq, count)
        self.series[uid] = spec
        self.remote.add(spec)
        self.synced = False

    @rule(pick=st.integers(0, 20), count=st.integers(1, 6), subject=st.booleans())
    def change_rule(self, pick: int, count: int, subject: bool) -> None:
        if not self.series:
            return
        spec = self.series[sorted(self.series)[pick % len(self.series)]]
        spec.count = count
        if subject:
            spec.subject += " (changed)"
        self.remote.change(spec)  # a rewrite: exceptions calsync wrote are gone, as in apps
        self.synced = False

    @rule(pick=st.integers(0, 20))
    def delete_series(self, pick: int) -> None:
        if not self.series:
            return
        uid = sorted(self.series)[pick % len(self.series)]
        self.remote.delete(self.series.pop(uid))
        self.synced = False

    # -- single occurrences, either side -------------------------------------------------

    @rule(side=SIDES, pick=st.integers(0, 50), location=st.sampled_from(["", "HQ", "Room 2"]))
    def edit_occurrence(self, side: str, pick: int, location: str) -> None:
        found = self._occurrences(side)
        if not found:
            return
        item = found[pick % len(found)]
        stamp = datetime.now(UTC).replace(microsecond=0)
        with self.env.provider(side) as p:
            p.update(item.id, item.etag, item.event.replace(location=location, last_modified=stamp))
        self.synced = False

    @rule(side=SIDES, pick=st.integers(0, 50), hours=st.integers(-2, 2))
    def move_occurrence(self, side: str, pick: int, hours: int) -> None:
        found = self._occurrences(side)
        if not found:
            return
        item = found[pick % len(found)]
        delta = timedelta(hours=hours)
        with self.env.provider(side) as p:
            p.update(
                item.id,
                item.etag,
                item.event.replace(start=item.event.start + delta, end=item.event.end + delta),
            )
        self.synced = False

    @rule(side=SIDES, pick=st.integers(0, 50))
    def delete_occurrence(self, side: str, pick: int) -> None:
        found = self._occurrences(side)
        if not found:
            return
        item = found[pick % len(found)]
        with self.env.provider(side) as p:
            p.delete(item.id, item.etag)
        self.synced = False

    @rule(days=st.integers(0, 30))
    def create_crm_item(self, days: int) -> None:
        self.counter += 1
        self.env.put("crm", ev(f"single-{self.counter}", f"Single {self.counter}", days=days))
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

    @rule()
    def sync(self) -> None:
        result = self.env.sync(force=True)
        assert result.result == "ok", result
        self.synced = True

    @precondition(lambda self: self.synced)
    @invariant()
    def mirrored(self) -> None:
        def shape(side: str) -> dict[str, tuple[object, ...]]:
            found = items(self.env, side)
            out = {
                pair_key(i.event): (i.event.subject, i.event.start_utc, i.event.location)
                for i in found
            }
            assert len(out) == len(found), f"duplicate on {side}"
            return out

        assert shape("crm") == shape("remote")
        plan = self.env.sync(dry_run=True).plan
        assert plan is not None and not plan.writes, [a.to_json() for a in plan.writes]


SeriesMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSeriesMachine = SeriesMachine.TestCase
