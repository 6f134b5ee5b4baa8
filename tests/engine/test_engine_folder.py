"""Engine semantics on folder ↔ folder (SPEC R1–R10, Safety)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from sync.engine.runner import identity_changed_reason
from sync.model import Privacy, ShowAs
from tests.engine.harness import Env, at, ev


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    e.add_user()
    return e


def test_sync_before_init_needs_operator_and_writes_nothing(env):
    env.put("crm", ev("a1", "Visit"))
    result = env.sync()
    assert result.result == "needs_operator" and result.needs == "not_initialized"
    assert env.items("remote") == []
    assert not env.files.state_path.exists()


def test_init_matches_by_uid_then_shape_and_creates_the_rest(env):
    env.put("crm", ev("same-uid", "Board meeting", days=2))
    env.put("remote", ev("same-uid", "Board meeting", days=2))
    env.put("crm", ev("crm-uid", "Lunch with Nordvik", days=3))
    env.put("remote", ev("remote-uid", "lunch  with NORDVIK", days=3))  # same start/end/subject
    env.put("crm", ev("c-only", "Quote review", days=4))
    env.put("remote", ev("r-only", "Dentist", days=5))

    result = env.init()
    assert result.result == "ok", result
    assert result.counts["remote"]["create"] == 1 and result.counts["crm"]["create"] == 1
    assert len(env.items("crm")) == 4 and len(env.items("remote")) == 4
    state = env.files.read_state()
    assert state.initialized and state.identity
    # re-running init never duplicates
    again = env.init()
    assert again.result == "ok"
    assert len(env.items("crm")) == 4 and len(env.items("remote")) == 4
    env.assert_converged()


def test_two_way_create_change_delete(env):
    env.init()
    env.put("crm", ev("c1", "Customer visit", location="Storgatan 1", reminder=30))
    env.put("remote", ev("r1", "Team meeting", show_as=ShowAs.TENTATIVE))
    r = env.sync()
    assert r.result == "ok"
    remote = env.by_subject("remote")["Customer visit"].event
    assert remote.location == "Storgatan 1" and remote.reminder == 30 and remote.uid == "c1"
    assert env.by_subject("crm")["Team meeting"].event.show_as is ShowAs.TENTATIVE

    env.edit("remote", "Customer visit", location="Kungsgatan 2")
    env.edit("crm", "Team meeting", text="Agenda attached")
    r = env.sync()
    assert r.counts["crm"]["update"] == 1 and r.counts["remote"]["update"] == 1
    assert env.by_subject("crm")["Customer visit"].event.location == "Kungsgatan 2"
    assert env.by_subject("remote")["Team meeting"].event.text == "Agenda attached"

    env.remove("remote", "Customer visit")
    r = env.sync()
    assert r.counts["crm"]["delete"] == 1
    assert "Customer visit" not in env.by_subject("crm")
    trashed = env.trash()
    assert [t["item"]["subject"] for t in trashed] == ["Customer visit"]
    assert trashed[0]["side"] == "crm"
    env.assert_converged()


def test_no_change_sync_plans_nothing_and_rewrites_nothing(env):
    for n in range(5):
        env.put("crm", ev(f"c{n}", f"Item {n}", days=n))
    env.init()
    stamps = {
        p: p.stat().st_mtime_ns
        for side in ("crm", "remote")
        for p in (env.ws.root.parent / side).glob("*.ics")
    }
    r = env.sync(dry_run=True)
    assert r.plan is not None and r.plan.writes == []
    r = env.sync()
    assert r.result == "ok" and all(v == 0 for c in r.counts.values() for v in c.values())
    after = {
        p: p.stat().st_mtime_ns
        for side in ("crm", "remote")
        for p in (env.ws.root.parent / side).glob("*.ics")
    }
    assert after == stamps


@pytest.mark.parametrize("later", ["crm", "remote"])
def test_conflict_later_modification_wins_and_log_says_why(env, later):
    env.put("crm", ev("c1", "Demo"))
    env.init()
    earlier = "remote" if later == "crm" else "crm"
    env.edit(earlier, "Demo", location=f"set in {earlier}")
    time.sleep(1.1)  # LAST-MODIFIED has one-second precision
    env.edit(later, "Demo", location=f"set in {later}")
    r = env.sync()
    assert r.result == "ok"
    for side in ("crm", "remote"):
        assert env.by_subject(side)["Demo"].event.location == f"set in {later}"
    entry = env.log()[0]
    assert entry["side"] == earlier
    assert entry["reason"] == f"conflict: {'CRM' if later == 'crm' else 'remote'} newer"
    assert entry["before"]["location"] == f"set in {earlier}"
    assert entry["after"]["location"] == f"set in {later}"
    env.assert_converged()


def test_edit_beats_delete(env):
    env.put("crm", ev("c1", "Demo"))
    env.init()
    env.remove("crm", "Demo")
    env.edit("remote", "Demo", location="Moved")
    r = env.sync()
    assert r.counts["crm"]["create"] == 1
    assert env.by_subject("crm")["Demo"].event.location == "Moved"
    assert "edit in remote wins over delete in CRM" in env.log()[0]["reason"]
    env.assert_converged()


def test_window_edge_is_not_a_deletion_but_moves_travel(env):
    env.put("crm", ev("c1", "Soon", days=5))
    env.put("crm", ev("c2", "Far", days=100))
    env.set(window_future_days=200)
    env.init()
    assert "Far" in env.by_subject("remote")
    # shrink the window: "Far" leaves it, nothing is deleted
    env.set(window_future_days=30)
    r = env.sync()
    assert r.result == "ok" and r.counts["remote"]["delete"] == 0 and r.counts["crm"]["delete"] == 0
    # moving an item out of the window on one side moves its copy (not a deletion)
    item = env.by_subject("remote")["Soon"]
    env.edit(
        "remote",
        "Soon",
        start=item.event.start + timedelta(days=60),
        end=item.event.end + timedelta(days=60),
    )
    r = env.sync()
    assert r.counts["crm"]["update"] == 1 and r.counts["crm"]["delete"] == 0
    assert env.by_subject("crm")["Soon"].event.start == item.event.start + timedelta(days=60)


def test_multiday_remote_item_gets_a_title_and_keeps_its_span(env):
    start = date.today() + timedelta(days=10)
    env.put(
        "remote",
        ev("fair", "Fair", days=10).replace(
            start=start, end=start + timedelta(days=3), all_day=True
        ),
    )
    env.init()
    crm = env.by_subject("crm")
    title = f"Fair (until {(start + timedelta(days=2)).isoformat()})"
    assert title in crm
    assert crm[title].event.start == start and crm[title].event.end == start + timedelta(days=1)
    # a CRM edit of the subject travels back without the suffix, span kept
    env.edit("crm", title, subject=title.replace("Fair", "Big fair"), location="Elmia")
    env.sync()
    remote = env.by_subject("remote")["Big fair"].event
    assert remote.end == start + timedelta(days=3) and remote.location == "Elmia"
    # never accumulates
    env.sync()
    assert title.replace("Fair", "Big fair") in env.by_subject("crm")
    # moving the CRM activity moves the remote item, keeping its three days
    env.edit(
        "crm",
        title.replace("Fair", "Big fair"),
        start=start + timedelta(days=1),
        end=start + timedelta(days=2),
    )
    env.sync()
    remote = env.by_subject("remote")["Big fair"].event
    assert remote.start == start + timedelta(days=1) and remote.end == start + timedelta(days=4)
    env.assert_converged()


def test_multiday_timed_item_and_keep_mode(tmp_path):
    env = Env(tmp_path)
    env.add_user(multiday="keep")
    env.put("remote", ev("trip", "Trip", days=3, hours=50))
    env.init()
    assert env.by_subject("crm")["Trip"].event.end == at(3) + timedelta(hours=50)


def test_skip_private_not_copied_and_becoming_private_removes_copy(tmp_path):
    env = Env(tmp_path)
    env.add_user(skip_private=True)
    env.put("remote", ev("p1", "Dentist", privacy=Privacy.PRIVATE))
    env.put("crm", ev("p2", "Personal errand", privacy=Privacy.PERSONAL))
    env.put("remote", ev("n1", "Team meeting"))
    r = env.init()
    assert set(env.by_subject("crm")) == {"Personal errand", "Team meeting"}
    assert set(env.by_subject("remote")) == {"Dentist", "Team meeting"}
    assert any("private" in w for w in r.warnings)
    env.edit("remote", "Team meeting", privacy=Privacy.CONFIDENTIAL)
    r = env.sync()
    assert r.counts["crm"]["delete"] == 1
    assert "Team meeting" not in env.by_subject("crm")
    assert "became private" in env.log()[0]["reason"]
    assert env.trash()[0]["item"]["subject"] == "Team meeting"
    env.assert_converged()


@pytest.mark.parametrize(
    ("policy", "on_create", "after_edit"),
    [("sync", 30, 5), ("off", None, None), ("minutes:10", 10, 10)],
)
def test_reminder_policies(tmp_path, policy, on_create, after_edit):
    env = Env(tmp_path)
    env.add_user(reminders=policy)
    env.put("crm", ev("c1", "Call", reminder=30))
    env.init()
    assert env.by_subject("remote")["Call"].event.reminder == on_create
    env.edit("crm", "Call", reminder=5)
    env.sync()
    assert env.by_subject("remote")["Call"].event.reminder == after_edit
    env.assert_converged()


def test_identity_change_stops_sync_until_reinitialized(tmp_path):
    env = Env(tmp_path)
    env.add_user()
    env.put("crm", ev("c1", "Visit"))
    env.init()
    (tmp_path / "other-remote").mkdir()
    env.set(remote=f"folder:{tmp_path / 'other-remote'}")
    env.remote_url = f"folder:{tmp_path / 'other-remote'}"
    r = env.sync()
    assert r.result == "needs_operator" and r.reason == identity_changed_reason("anna")
    assert env.items("remote") == []
    r = env.init()
    assert r.result == "needs_operator" and r.needs == "identity_changed"
    # the operator sees both calendars by name, the recorded one as named at init
    assert r.calendars["recorded"]["name"] == "remote"
    assert r.calendars["current"]["name"] == "other-remote"
    assert r.calendars["recorded"]["address"] == f"folder:{tmp_path / 'remote'}"
    r = env.init(accept_new_identity=True)
    assert r.result == "ok" and [i.event.subject for i in env.items("remote")] == ["Visit"]
    env.assert_converged()
    (tmp_path / "third").mkdir()
    env.set(remote=f"folder:{tmp_path / 'third'}")
    env.remote_url = f"folder:{tmp_path / 'third'}"
    r = env.sync()
    assert r.calendars["recorded"]["name"] == "other-remote"  # re-recorded at the re-init
    assert r.calendars["current"]["name"] == "third"


def test_mass_deletion_guard_and_force(env):
    for n in range(8):
        env.put("crm", ev(f"c{n}", f"Item {n}", days=n + 1))
    env.init()
    for n in range(6):
        env.remove("remote", f"Item {n}")
    r = env.sync()
    assert r.result == "needs_operator" and r.needs == "mass_delete"
    assert "delete 6 of 8" in r.reason
    assert len(env.items("crm")) == 8
    r = env.sync(force=True)
    assert r.result == "ok" and len(env.items("crm")) == 2


def test_side_listing_nothing_triggers_guard(env):
    env.put("crm", ev("c1", "Only one"))
    env.init()
    env.remove("remote", "Only one")
    r = env.sync()
    assert r.needs == "mass_delete" and "lists no items" in r.reason


def test_restore_and_revert(env):
    env.put("crm", ev("c1", "Visit"))
    env.put("crm", ev("c2", "Call", days=2))
    env.init()
    env.remove("remote", "Visit")
    env.sync()
    from sync import service

    entry = env.trash()[0]
    service.restore(env.ws, env.config, env.name, entry["id"])
    assert "Visit" in env.by_subject("crm")
    assert env.log()[0]["action"] == "restore"
    env.sync()
    assert "Visit" in env.by_subject("remote")
    assert env.trash() == []

    env.edit("remote", "Visit", location="Wrong place")
    env.sync()
    update = next(e for e in env.log() if e["action"] == "update")
    service.revert(env.ws, env.config, env.name, update["id"])
    assert env.by_subject("crm")["Visit"].event.location == ""
    env.sync()
    assert env.by_subject("remote")["Visit"].event.location == ""
    env.assert_converged()


def test_stale_etag_during_apply_is_replanned_not_overwritten(env):
    from storage.state import UserState
    from sync.engine.applier import Applier
    from sync.engine.pairs import Pair
    from sync.engine.planner import Planner
    from sync.engine.runner import make_window
    from sync.engine.views import gather
    from sync.settings import Settings

    env.put("crm", ev("c1", "Visit"))
    env.init()
    env.edit("crm", "Visit", location="A")
    now = datetime.now(UTC)
    with env.files.locked():
        state = UserState(env.files.state_path, writable=True)
        pairs = [Pair.from_json(p) for p in state.pairs.values()]
        providers = {"crm": env.provider("crm"), "remote": env.provider("remote")}
        window = make_window(Settings(), now)
        views = gather(providers, state, pairs, window)
        plan = Planner(Settings(), window, now).plan(pairs, views["crm"], views["remote"])
        env.edit("remote", "Visit", location="B")  # lands between plan and apply
        out = Applier(providers, state, env.files.log, env.files.trash, run_id="t", now=now).apply(
            plan.actions
        )
    assert out.conflicts == 1 and not out.errors
    assert env.by_subject("remote")["Visit"].event.location == "B"
    env.sync()
    assert {i.event.location for side in ("crm", "remote") for i in env.items(side)} in (
        {"A"},
        {"B"},
    )
    env.assert_converged()


def test_broken_item_is_skipped_and_the_rest_sync(env, tmp_path):
    env.put("crm", ev("c1", "Good"))
    (tmp_path / "crm" / "broken.ics").write_text("BEGIN:VCALENDAR\nnot really\n")
    r = env.init()
    assert r.result == "ok"
    assert any("broken.ics" in w for w in r.warnings)
    assert [i.event.subject for i in env.items("remote")] == ["Good"]


def test_a_live_uid_clash_is_reported_not_duplicated(env):
    env.set(window_future_days=30)
    env.put("remote", ev("shared-uid", "Far away", days=200))  # outside the window
    env.put("crm", ev("shared-uid", "Near", days=2))
    r = env.init()
    assert r.result == "failed"
    assert "already exists in the remote calendar" in r.errors[0]["error"]
    assert sorted(i.event.subject for i in env.items("remote")) == ["Far away"]


def test_retention_drops_old_log_months_and_trash_entries(env):
    env.put("crm", ev("c1", "Visit"))
    env.put("crm", ev("c2", "Call", days=2))
    env.init()
    env.remove("remote", "Visit")
    env.sync()
    assert env.trash() and env.log()
    env.ws.config_path.write_text("[log]\nretention_days = 1\n")
    env.sync(now=datetime.now(UTC) + timedelta(days=70))
    assert env.trash() == []
    assert all(e["run"] != "" for e in env.log())
    assert not any(e["action"] == "delete" for e in env.log())


#: the scenarios that hold for any remote calendar: tests/e2e re-runs each of them
#: against CalDAV, Exchange and Microsoft 365 with its own `env` fixture
PORTABLE = (
    test_sync_before_init_needs_operator_and_writes_nothing,
    test_init_matches_by_uid_then_shape_and_creates_the_rest,
    test_two_way_create_change_delete,
    test_no_change_sync_plans_nothing_and_rewrites_nothing,
    test_conflict_later_modification_wins_and_log_says_why,
    test_edit_beats_delete,
    test_window_edge_is_not_a_deletion_but_moves_travel,
    test_multiday_remote_item_gets_a_title_and_keeps_its_span,
    test_mass_deletion_guard_and_force,
    test_side_listing_nothing_triggers_guard,
    test_restore_and_revert,
    test_stale_etag_during_apply_is_replanned_not_overwritten,
    test_broken_item_is_skipped_and_the_rest_sync,
)


def portable_scenarios() -> dict[str, object]:
    """`globals().update(portable_scenarios())` in a module that defines `env`."""
    return {test.__name__: test for test in PORTABLE}
