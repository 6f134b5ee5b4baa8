"""The multi-day title "Fair (until …)" (SPEC R4, issues 15.5 and 21.15)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.engine.harness import Env, at, ev


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    e.add_user()
    return e


def fair(start: date, days: int = 3):  # type: ignore[no-untyped-def]
    return ev("fair", "Fair", days=10).replace(
        start=start, end=start + timedelta(days=days), all_day=True
    )


def until(last: date) -> str:
    return f"Fair (until {last.isoformat()})"


def test_moving_the_crm_activity_recomputes_its_title(env):
    start = date.today() + timedelta(days=10)
    env.put("remote", fair(start))
    env.init()
    assert until(start + timedelta(days=2)) in env.by_subject("crm")

    env.edit(
        "crm",
        until(start + timedelta(days=2)),
        start=start + timedelta(days=5),
        end=start + timedelta(days=6),
    )
    result = env.sync()
    assert result.result == "ok", result
    remote = env.by_subject("remote")["Fair"].event
    assert (remote.start, remote.end) == (start + timedelta(days=5), start + timedelta(days=8))
    crm = env.by_subject("crm")
    # the title follows the remote item's new last day in the same run
    assert list(crm) == [until(start + timedelta(days=7))]
    assert crm[until(start + timedelta(days=7))].event.start == start + timedelta(days=5)
    reasons = [(e["side"], e["reason"]) for e in env.log()]
    assert ("crm", "multi-day item moved: the title follows its new end date") in reasons
    [pair] = env.files.read_state().pairs.values()
    assert pair["origin"] == "remote"
    env.assert_converged()


def test_a_crm_edit_that_keeps_the_dates_keeps_the_title_as_typed(env):
    start = date.today() + timedelta(days=10)
    env.put("remote", fair(start))
    env.init()
    env.edit("crm", until(start + timedelta(days=2)), subject="Fair", location="Elmia")
    env.sync()
    # no move, so no retitle: the operator's own subject stays
    assert list(env.by_subject("crm")) == ["Fair"]
    assert env.by_subject("remote")["Fair"].event.location == "Elmia"
    env.assert_converged()


def test_a_remote_move_still_retitles(env):
    start = date.today() + timedelta(days=10)
    env.put("remote", fair(start))
    env.init()
    env.edit("remote", "Fair", start=start + timedelta(days=1), end=start + timedelta(days=5))
    env.sync()
    assert list(env.by_subject("crm")) == [until(start + timedelta(days=4))]
    env.assert_converged()


def test_a_multiday_item_born_in_the_crm_keeps_its_title_and_span(env):
    """Issue 21.15: the suffix is for remote multi-day items only."""
    start = date.today() + timedelta(days=10)
    env.put(
        "crm",
        ev("offsite", "Offsite", days=10).replace(
            start=start, end=start + timedelta(days=3), all_day=True
        ),
    )
    env.init()
    assert env.by_subject("remote")["Offsite"].event.end == start + timedelta(days=3)

    env.edit("remote", "Offsite", subject="Offsite 2027", location="Hotel")
    env.sync()
    crm = env.by_subject("crm")
    assert list(crm) == ["Offsite 2027"]
    assert crm["Offsite 2027"].event.location == "Hotel"
    assert crm["Offsite 2027"].event.end == start + timedelta(days=3)

    # and a CRM change of its span reaches the remote as it is
    env.edit("crm", "Offsite 2027", end=start + timedelta(days=4))
    env.sync()
    assert env.by_subject("remote")["Offsite 2027"].event.end == start + timedelta(days=4)
    assert list(env.by_subject("crm")) == ["Offsite 2027"]
    env.assert_converged()


def test_a_timed_item_born_in_the_crm_keeps_its_title(env):
    env.put("crm", ev("trip", "Trip", days=3, hours=50))
    env.init()
    env.edit("remote", "Trip", subject="Trip to Oslo")
    env.sync()
    crm = env.by_subject("crm")
    assert list(crm) == ["Trip to Oslo"]
    assert crm["Trip to Oslo"].event.end == at(3) + timedelta(hours=50)
    env.assert_converged()
