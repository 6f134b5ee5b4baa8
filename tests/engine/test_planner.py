"""The pure planner on hand-made listings: no provider, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.engine.pairs import Pair, Synced
from sync.engine.planner import Planner, SideView
from sync.model import NOTIFIES_ATTENDEES, Event, Privacy
from sync.providers.base import Item, Window
from sync.settings import Settings

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=90), NOW + timedelta(days=365))


def event(uid: str, subject: str = "Meeting", **kw) -> Event:  # type: ignore[no-untyped-def]
    start = NOW + timedelta(days=3)
    return Event(uid=uid, subject=subject, start=start, end=start + timedelta(hours=1), **kw)


def paired(crm: Item, remote: Item) -> Pair:
    return Pair(crm.event.uid, Synced.of(crm), Synced.of(remote), "remote")


def plan(pairs, crm, remote, **settings):  # type: ignore[no-untyped-def]
    return Planner(Settings(**settings), WINDOW, NOW).plan(pairs, crm, remote)


MEETING = ((NOTIFIES_ATTENDEES, "1"),)


def test_no_change_plans_nothing():
    crm, remote = Item("c", "e1", event("u")), Item("r", "e1", event("u"))
    p = plan([paired(crm, remote)], SideView({"c": crm}), SideView({"r": remote}))
    assert p.actions == []


def test_touched_file_with_same_content_is_no_change():
    crm, remote = Item("c", "e1", event("u")), Item("r", "e1", event("u"))
    touched = Item("c", "e2", event("u"))
    p = plan([paired(crm, remote)], SideView({"c": touched}), SideView({"r": remote}))
    assert [(a.op, a.reason) for a in p.actions] == [("pair", "etag refreshed")]


def test_crm_edit_of_a_protected_meeting_is_not_written_and_the_remote_wins():
    crm = Item("c", "e1", event("u"))
    remote = Item("r", "e1", event("u", extras=MEETING))
    edited = Item("c", "e2", event("u", location="Room 9"))
    p = plan([paired(crm, remote)], SideView({"c": edited}), SideView({"r": remote}))
    [action] = p.writes
    assert action.side == "crm" and action.op == "update"
    assert action.after is not None and action.after.location == ""
    assert "notify" in action.reason


def test_crm_delete_of_a_protected_meeting_recreates_it_in_the_crm():
    crm = Item("c", "e1", event("u"))
    remote = Item("r", "e1", event("u", extras=MEETING))
    view = SideView({}, gone={"c"})
    p = plan([paired(crm, remote)], view, SideView({"r": remote}))
    [action] = p.writes
    assert (action.op, action.side) == ("create", "crm") and "notify" in action.reason


def test_private_protected_meeting_is_unpaired_not_deleted():
    crm = Item("c", "e1", event("u"))
    remote = Item("r", "e1", event("u", extras=MEETING))
    private = Item("c", "e2", event("u", privacy=Privacy.PRIVATE))
    p = plan(
        [paired(crm, remote)], SideView({"c": private}), SideView({"r": remote}), skip_private=True
    )
    assert p.writes == [] and [a.op for a in p.actions] == ["unpair"]


def test_unseen_side_leaves_the_pair_alone():
    crm, remote = Item("c", "e1", event("u")), Item("r", "e1", event("u"))
    p = plan(
        [paired(crm, remote)],
        SideView({}),
        SideView({"r": Item("r", "e9", event("u", subject="x"))}),
    )
    assert p.actions == []


def test_guard_counts_deletions_against_pairs_in_view():
    pairs, crm_view, remote_view = [], SideView({}), SideView({})
    for n in range(10):
        c, r = Item(f"c{n}", "e", event(f"u{n}")), Item(f"r{n}", "e", event(f"u{n}"))
        pairs.append(paired(c, r))
        crm_view.current[c.id] = c
        if n < 4:
            remote_view.gone.add(r.id)
        else:
            remote_view.current[r.id] = r
    p = plan(pairs, crm_view, remote_view)
    assert p.count("delete", "crm") == 4 and p.guard is None  # 4 of 10: under half
    remote_view.gone.add("r4")
    del remote_view.current["r4"]
    remote_view.gone.add("r5")
    del remote_view.current["r5"]
    p = plan(pairs, crm_view, remote_view)
    assert p.guard is not None and "6 of 10" in p.guard
