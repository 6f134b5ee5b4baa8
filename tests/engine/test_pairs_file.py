"""The engine over pairs.json and its digest (issue 17): a crash between the two files'
writes costs nothing but a read, and a damaged pairs.json stops that user's run with
its name, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from storage.atomic import atomic_write
from storage.users import UserStore
from sync.health import health_of
from tests.engine.harness import Env, ev


def _no_writes(env: Env) -> None:
    result = env.sync()
    assert result.result == "ok", result.reason
    assert not any(n for side in result.counts.values() for n in side.values()), result.counts


def test_new_pairings_beside_an_old_digest_sync_without_a_write(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.add_user()
    env.put("crm", ev("c1", "CRM one", days=1))
    env.put("remote", ev("r1", "Remote one", days=2))
    assert env.init().result == "ok"
    _no_writes(env)
    old_state = env.files.state_path.read_bytes()
    env.edit("crm", "CRM one", location="Room 4")
    assert env.sync().result == "ok"
    # killed after pairs.json's rename, before state.json's: old digest and caches
    atomic_write(env.files.state_path, old_state)
    _no_writes(env)  # the pairings read say every item is synced: nothing to redo
    _no_writes(env)
    assert env.by_subject("remote")["CRM one"].event.location == "Room 4"
    env.assert_converged()


def test_a_corrupt_pairs_json_fails_that_user_by_name_and_is_left_alone(
    tmp_path: Path,
) -> None:
    env = Env(tmp_path)
    env.add_user()
    env.put("crm", ev("c1", "CRM one", days=1))
    assert env.init().result == "ok"
    pairs_path = env.files.state_path.with_name("pairs.json")
    atomic_write(pairs_path, b'{"pairs": [')
    _no_writes(env)  # nothing changed: the pairings are not even read
    env.edit("crm", "CRM one", location="Room 4")
    result = env.sync()
    assert result.result == "failed"
    assert str(pairs_path) in result.reason and "\n" not in result.reason
    assert env.files.read_state().last_run["reason"] == result.reason  # status says it
    health = health_of(env.ws, env.config, UserStore(env.ws).get("anna"))
    assert (health.state, health.error_class) == ("needs_operator", "permanent")
    assert "calsync init anna" in health.action  # what mends it, not "wait for a retry"
    assert pairs_path.read_bytes() == b'{"pairs": ['
    assert "Room 4" not in json.dumps([e.event.location for e in env.by_subject("remote").values()])
