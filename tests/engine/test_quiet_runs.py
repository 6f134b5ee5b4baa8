"""Consecutive quiet runs share one run record (sync/engine/record.py `coalesced`, issue 17).

Driven through the real service layer on the folder provider: a quiet run (ok,
nothing written, nothing reported) of the same origin replaces the record before it
and counts itself in `repeats`; everything else keeps a record of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.runs import read_runs
from storage.users import UserStore
from sync.engine.record import coalesced, quiet
from sync.health import judge
from tests.engine.harness import Env, ev

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def env(tmp_path: Any) -> Env:
    e = Env(tmp_path)
    e.add_user()
    e.put("crm", ev("u1", "Standup"))
    assert e.init(now=at(0)).result == "ok"
    return e


def runs(env: Env) -> list[dict[str, Any]]:
    return read_runs(env.ws, env.name)


def job(env: Env, minutes: int) -> str:
    return env.sync(by_job=True, now=at(minutes)).result


def test_three_quiet_job_runs_make_one_record(env: Env) -> None:
    for minutes in (10, 20, 30):
        assert job(env, minutes) == "ok"
    init, last = runs(env)
    assert init["kind"] == "init" and "repeats" not in init  # an init is never folded in
    assert last["repeats"] == 3 and last["since"] == at(10).isoformat()
    assert last["started"] == at(30).isoformat() and last["by"] == "job"
    assert last["result"] == "ok" and not last["errors"] and not last["warnings"]


def test_a_change_breaks_the_chain(env: Env) -> None:
    assert job(env, 10) == "ok" and job(env, 20) == "ok"
    env.put("remote", ev("u2", "Lunch"))
    assert job(env, 30) == "ok"
    assert job(env, 40) == "ok" and job(env, 50) == "ok"
    _init, quiet_before, change, quiet_after = runs(env)
    assert (quiet_before["repeats"], quiet_before["since"]) == (2, at(10).isoformat())
    assert change["counts"]["crm"]["create"] == 1 and "repeats" not in change
    assert (quiet_after["repeats"], quiet_after["since"]) == (2, at(40).isoformat())


def test_failures_keep_their_records_and_their_count(env: Env) -> None:
    assert job(env, 10) == "ok" and job(env, 20) == "ok"
    good_remote = env.remote_url
    env.set(remote=good_remote + "-gone")
    for minutes in (30, 40, 50):
        assert job(env, minutes) == "failed"
    failed = [r for r in runs(env) if r["result"] == "failed"]
    assert len(failed) == 3 and not any("repeats" in r for r in failed)
    user = UserStore(env.ws).get(env.name)
    assert judge(user, runs(env), env.config, at(51)).failures == 3
    env.set(remote=good_remote)
    assert job(env, 60) == "ok" and job(env, 70) == "ok"
    *_, last_failure, back = runs(env)
    assert last_failure["result"] == "failed"  # an ok after a failure: its own record
    assert (back["repeats"], back["since"]) == (2, at(60).isoformat())
    assert judge(UserStore(env.ws).get(env.name), runs(env), env.config, at(71)).state == "ok"


def test_an_operator_run_after_job_runs_is_its_own_record(env: Env) -> None:
    assert job(env, 10) == "ok" and job(env, 20) == "ok"
    assert env.sync(now=at(25)).result == "ok"  # an operator's `calsync sync anna`
    assert env.sync(now=at(26)).result == "ok"
    assert job(env, 30) == "ok"
    by = [(r["by"], r.get("repeats", 1)) for r in runs(env)[1:]]
    assert by == [("job", 2), ("operator", 2), ("job", 1)]


def _record(**changes: Any) -> dict[str, Any]:
    zero = {"create": 0, "update": 0, "delete": 0}
    run = {
        "by": "job",
        "id": "r",
        "started": "2026-11-29T08:00:00+00:00",
        "finished": "2026-11-29T08:00:01+00:00",
        "kind": "sync",
        "result": "ok",
        "reason": "",
        "counts": {"crm": dict(zero), "remote": dict(zero)},
        "errors": [],
        "warnings": [],
    }
    return {**run, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {"result": "deferred", "retry_after": "2026-11-29T09:00:00+00:00"},
        {"result": "needs_operator", "needs": "mass_delete"},
        {"result": "failed", "error_class": "transient", "error_type": "ConnectionFailed"},
        {"kind": "init"},
        {"warnings": ["the server sent an item without UID"]},
        {"errors": [{"item": "x", "error": "refused"}]},
        {"counts": {"crm": {"create": 0, "update": 1, "delete": 0}}},
        {"reason": "something to say"},
        {"cleared": "retry"},
    ],
)
def test_only_quiet_records_coalesce(changes: dict[str, Any]) -> None:
    assert quiet(_record()) and not quiet(_record(**changes))
    assert coalesced(_record(**changes), _record(id="r2")) is None
    assert coalesced(_record(), _record(id="r2", **changes)) is None
    merged = coalesced(_record(repeats=4, since="2026-11-28T00:00:00+00:00"), _record(id="r2"))
    assert merged == _record(id="r2", repeats=5, since="2026-11-28T00:00:00+00:00")
