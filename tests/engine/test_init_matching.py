"""Initialization's start + end + subject matching is one-to-one (SPEC R9, issue 21.11)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sync.engine.planner import Planner, SideView
from sync.providers.base import Item
from sync.settings import Settings
from tests.engine.harness import Env, ev
from tests.engine.test_planner import NOW, WINDOW, event

DATA = Path(__file__).parent / "data"


def test_remote_items_sharing_start_end_and_subject_are_all_created_at_init(tmp_path):
    """Thunderbird's same_event_recurring_at_same_time.ics: a daily series whose
    occurrences were moved onto each other, so 3 + 3 of its 6 occurrences share start,
    end and subject. Init used to create one per shape (2 of 6) and the next sync the rest."""
    env = Env(tmp_path)
    # the file's series runs 2024-09-23..28: widen the window back to it
    days_back = (datetime.now(UTC) - datetime(2024, 9, 1, tzinfo=UTC)).days
    env.add_user(window_past_days=days_back)
    (tmp_path / "remote").mkdir(exist_ok=True)
    shutil.copy(DATA / "same_event_recurring_at_same_time.ics", tmp_path / "remote")
    result = env.init()
    assert result.result == "ok", result
    assert result.counts["crm"]["create"] == 6
    starts = sorted(i.event.start_utc.isoformat() for i in env.items("crm"))
    assert len(starts) == 6 and len(set(starts)) == 2
    again = env.sync()
    assert again.result == "ok" and all(v == 0 for c in again.counts.values() for v in c.values())
    env.assert_converged()


def test_two_crm_twins_match_two_remote_twins_and_the_third_is_created():
    twins = [Item(f"r{n}", "e", event(f"r{n}", "Standup")) for n in range(3)]
    crm = [Item(f"c{n}", "e", event(f"c{n}", "Standup")) for n in range(2)]
    plan = Planner(Settings(), WINDOW, NOW, init=True).plan(
        [], SideView({i.id: i for i in crm}), SideView({i.id: i for i in twins})
    )
    paired = [(a.crm.id, a.remote.id) for a in plan.actions if a.op == "pair"]  # type: ignore[union-attr]
    assert sorted(c for c, _ in paired) == ["c0", "c1"]
    assert len({r for _, r in paired}) == 2  # never one remote item for two CRM items
    [create] = [a for a in plan.actions if a.op == "create"]
    assert create.side == "crm" and create.source is not None
    assert create.source.id not in {r for _, r in paired}


def test_shape_matching_leaves_uid_matches_alone(tmp_path):
    env = Env(tmp_path)
    env.add_user()
    env.put("crm", ev("same", "Review", days=2))
    env.put("remote", ev("same", "Review", days=2))
    env.put("remote", ev("other", "Review", days=2))  # same shape, another item
    result = env.init()
    assert result.result == "ok" and result.counts["crm"]["create"] == 1
    assert len(env.items("crm")) == 2 and len(env.items("remote")) == 2
    env.assert_converged()
