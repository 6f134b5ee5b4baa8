"""Recurring-series scenarios (issue 9), run against every remote that holds series.

Each test module provides a `case` fixture: a fresh, not yet initialized user
(CRM = a folder of single items) and a `Remote` that makes and changes series
the way the remote calendar's own app would. After every scenario each remote
occurrence has exactly one CRM copy (and back), and a second sync plans nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sync import service
from tests.engine.harness import Env
from tests.recurring.series import (
    ZONE,
    Remote,
    SeriesSpec,
    assert_mirrored,
    by_key,
    crm_delete,
    crm_edit,
    crm_series,
    local,
    next_dst_change,
    rid_of,
    today,
)


@dataclass
class Case:
    env: Env
    remote: Remote


def weekly(uid: str, count: int = 6, days: int = 3) -> SeriesSpec:
    return SeriesSpec(
        uid, "Standup", local(today() + timedelta(days=days)), timedelta(minutes=30), count=count
    )


def test_weekly_series_with_two_exceptions_and_an_exdate(case: Case) -> None:
    spec = weekly("weekly-1", count=8)
    starts = spec.starts()
    spec.exdates = [starts[2]]
    spec.overrides = {
        starts[4]: ("Standup (moved)", starts[4] + timedelta(hours=2)),
        starts[5]: ("Standup with the board", starts[5]),
    }
    case.remote.add(spec)
    result = case.env.init()
    assert result.result == "ok", result

    crm = crm_series(case.env, "weekly-1")
    assert set(crm) == {rid_of(s) for s in spec.starts()}  # 7: one excluded
    moved = crm[rid_of(starts[4])]
    assert moved.subject == "Standup (moved)" and moved.start == starts[4] + timedelta(hours=2)
    assert crm[rid_of(starts[5])].subject == "Standup with the board"
    assert crm[rid_of(starts[0])].subject == "Standup"
    assert all(e.end - e.start == timedelta(minutes=30) for e in crm.values())
    assert_mirrored(case.env)


def test_series_across_a_dst_change_keeps_the_wall_clock_time(case: Case) -> None:
    change = next_dst_change(today() + timedelta(days=1))
    first = change - timedelta(weeks=2, days=1)
    spec = SeriesSpec("dst-1", "Planning", local(first, 9), timedelta(hours=1), count=5)
    case.remote.add(spec)
    assert case.env.init().result == "ok"

    crm = crm_series(case.env, "dst-1")
    assert len(crm) == 5
    walls = {e.start.astimezone(ZONE).hour for e in crm.values()}  # type: ignore[union-attr]
    offsets = {e.start.astimezone(ZONE).utcoffset() for e in crm.values()}  # type: ignore[union-attr]
    assert walls == {9} and len(offsets) == 2
    assert_mirrored(case.env)


def test_all_day_yearly_series(case: Case) -> None:
    first = today() - timedelta(days=30)
    spec = SeriesSpec("yearly-1", "Anniversary", first, timedelta(days=1), freq="YEARLY", count=5)
    case.remote.add(spec)
    assert case.env.init().result == "ok"

    crm = crm_series(case.env, "yearly-1")
    # the default window (90 days back, 365 ahead) holds this year's and next year's
    assert set(crm) == {first.isoformat(), first.replace(year=first.year + 1).isoformat()}
    assert all(e.all_day and e.end == e.start + timedelta(days=1) for e in crm.values())  # type: ignore[operator]
    assert_mirrored(case.env)


def test_crm_edits_and_deletes_single_occurrences(case: Case) -> None:
    spec = weekly("edit-1")
    starts = spec.starts()
    case.remote.add(spec)
    assert case.env.init().result == "ok"

    crm_edit(case.env, "edit-1", rid_of(starts[1]), subject="Standup (customer)", location="HQ")
    crm_delete(case.env, "edit-1", rid_of(starts[3]))
    result = case.env.sync()
    assert result.result == "ok", result
    assert result.counts["remote"] == {"create": 0, "update": 1, "delete": 1}

    remote = {r: e for (u, r), e in by_key(case.env, "remote").items() if u == "edit-1"}
    assert set(remote) == {rid_of(s) for s in starts} - {rid_of(starts[3])}
    assert remote[rid_of(starts[1])].subject == "Standup (customer)"
    assert remote[rid_of(starts[1])].location == "HQ"
    assert {remote[rid_of(s)].subject for i, s in enumerate(starts) if i not in (1, 3)} == {
        "Standup"
    }
    trashed = case.env.trash()
    assert [(t["side"], t["item"]["recurrence_id"]) for t in trashed] == [
        ("remote", rid_of(starts[3]))
    ]
    assert_mirrored(case.env)

    # the exception is edited again, and a moved occurrence keeps its identity
    crm_edit(
        case.env,
        "edit-1",
        rid_of(starts[1]),
        start=starts[1] + timedelta(hours=3),
        end=starts[1] + timedelta(hours=3, minutes=30),
    )
    crm_edit(case.env, "edit-1", rid_of(starts[2]), text="Bring numbers")
    result = case.env.sync()
    assert result.counts["remote"] == {"create": 0, "update": 2, "delete": 0}, result
    remote = {r: e for (u, r), e in by_key(case.env, "remote").items() if u == "edit-1"}
    assert remote[rid_of(starts[1])].start == starts[1] + timedelta(hours=3)
    assert remote[rid_of(starts[1])].subject == "Standup (customer)"
    assert remote[rid_of(starts[2])].text == "Bring numbers"
    assert_mirrored(case.env)


def test_remote_rule_change_updates_survivors_and_trashes_the_rest(case: Case) -> None:
    spec = weekly("rule-1", count=6)
    case.remote.add(spec)
    assert case.env.init().result == "ok"
    before = crm_series(case.env, "rule-1")

    spec.count, spec.subject = 3, "Standup (new format)"
    case.remote.change(spec)
    result = case.env.sync()
    assert result.result == "ok", result
    assert result.counts["crm"] == {"create": 0, "update": 3, "delete": 3}

    after = crm_series(case.env, "rule-1")
    assert set(after) == {rid_of(s) for s in spec.starts()} and set(after) < set(before)
    assert {e.subject for e in after.values()} == {"Standup (new format)"}
    assert sorted(t["item"]["recurrence_id"] for t in case.env.trash()) == sorted(
        set(before) - set(after)
    )
    assert_mirrored(case.env)


def test_remote_series_deleted_then_one_occurrence_restored(case: Case) -> None:
    spec = weekly("gone-1", count=6)
    case.remote.add(spec)
    assert case.env.init().result == "ok"

    case.remote.delete(spec)
    guarded = case.env.sync()
    assert guarded.result == "needs_operator" and guarded.needs == "mass_delete"
    result = case.env.sync(force=True)
    assert result.result == "ok" and result.counts["crm"]["delete"] == 6, result
    assert crm_series(case.env, "gone-1") == {}
    trashed = case.env.trash()
    assert len(trashed) == 6 and {t["side"] for t in trashed} == {"crm"}

    # restoring one occurrence brings it back as a single CRM item; its remote copy
    # is a single item (never a series) under the occurrence's pair key
    entry = next(t for t in trashed if t["item"]["recurrence_id"] == rid_of(spec.start))
    service.restore(case.env.ws, case.env.config, case.env.name, entry["id"])
    result = case.env.sync()
    assert result.result == "ok" and result.counts["remote"]["create"] == 1, result
    remote = by_key(case.env, "remote")
    assert list(remote) == [(f"gone-1#{rid_of(spec.start)}", None)]
    assert_mirrored(case.env)


def test_crm_edit_wins_over_a_remote_occurrence_deletion(case: Case) -> None:
    spec = weekly("race-1", count=4)
    starts = spec.starts()
    case.remote.add(spec)
    assert case.env.init().result == "ok"

    crm_edit(case.env, "race-1", rid_of(starts[2]), subject="Standup (kept)")
    spec.exdates = [starts[2]]
    case.remote.change(spec)
    result = case.env.sync()
    assert result.result == "ok" and result.counts["remote"]["create"] == 1, result
    remote = by_key(case.env, "remote")
    detached = remote[(f"race-1#{rid_of(starts[2])}", None)]
    assert detached.subject == "Standup (kept)" and detached.start == starts[2]
    assert ("race-1", rid_of(starts[2])) not in remote
    assert_mirrored(case.env)
