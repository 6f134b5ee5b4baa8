"""Deletes and restores whose answer never arrives (issue 20, items 1-3).

The remote is Radicale behind `FaultProxy`, so each request really reaches (or
does not reach) a CalDAV server and only its answer is lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync import service
from sync.providers.base import ProviderError
from tests.engine.harness import ev
from tests.faults.proxy import FaultProxy
from tests.faults.world import PASSWORD_ENV, FaultWorld


def _three(world: FaultWorld) -> None:
    for n in range(3):
        world.put("crm", ev(f"lost-{n}@x", f"Meeting {n}", days=n + 1))
    assert world.init().result == "ok"
    assert sorted(world.by_subject("remote")) == ["Meeting 0", "Meeting 1", "Meeting 2"]


def _deletes_logged(world: FaultWorld, uid: str) -> int:
    return sum(
        1
        for e in world.log()
        if e["action"] == "delete" and (e.get("before") or {}).get("uid") == uid
    )


@pytest.mark.parametrize("fault", ["500_after", "reset_after", "stall", "truncate"])
def test_a_delete_whose_answer_is_lost_keeps_its_trash_entry(
    world: FaultWorld, proxy: FaultProxy, fault: str
) -> None:
    _three(world)
    world.remove("crm", "Meeting 1")
    proxy.schedule([fault], methods=["DELETE"])
    first = world.sync()
    assert proxy.faults_hit() and proxy.faults_hit()[0][2] == fault
    assert first.result == "failed", first
    assert "the item stays in the trash" in first.errors[0]["error"]
    # the server did delete it; the entry stays although the run heard no answer
    assert "Meeting 1" not in world.by_subject("remote")
    assert world.trash_count("lost-1@x") == 1
    assert [e["item"]["uid"] for e in world.files.trash.pending()] == ["lost-1@x"]

    world.patient()
    second = world.sync()
    assert second.result == "ok", second
    assert any("did happen" in w for w in second.warnings), second.warnings
    assert world.trash_count("lost-1@x") == 1
    assert world.files.trash.pending() == []
    assert _deletes_logged(world, "lost-1@x") == 1
    world.assert_converged()
    assert world.sync().result == "ok"
    assert _deletes_logged(world, "lost-1@x") == 1  # logged once, not every run


@pytest.mark.parametrize("fault", ["500_before", "reset_before", "hang"])
def test_a_delete_that_never_reached_the_server_is_retried_under_the_same_entry(
    world: FaultWorld, proxy: FaultProxy, fault: str
) -> None:
    _three(world)
    world.remove("crm", "Meeting 1")
    proxy.schedule([fault], methods=["DELETE"])
    assert world.sync().result == "failed"
    assert "Meeting 1" in world.by_subject("remote")
    assert world.trash_count("lost-1@x") == 1

    world.patient()
    assert world.sync().result == "ok"
    assert "Meeting 1" not in world.by_subject("remote")
    assert world.trash_count("lost-1@x") == 1
    assert world.files.trash.pending() == []
    assert _deletes_logged(world, "lost-1@x") == 1
    world.assert_converged()


def test_a_pending_delete_of_an_item_edited_meanwhile_is_dropped(
    world: FaultWorld, proxy: FaultProxy
) -> None:
    _three(world)
    world.remove("crm", "Meeting 2")
    proxy.schedule(["500_before"], methods=["DELETE"])
    assert world.sync().result == "failed"
    world.edit("remote", "Meeting 2", location="Room 4")  # the edit wins over the delete
    world.patient()
    assert world.sync().result == "ok"
    assert world.by_subject("crm")["Meeting 2"].event.location == "Room 4"
    assert world.trash_count("lost-2@x") == 0  # nothing was deleted after all
    world.assert_converged()


def test_a_spurious_412_on_delete_is_a_conflict_and_drops_the_entry(
    world: FaultWorld, proxy: FaultProxy
) -> None:
    _three(world)
    world.remove("crm", "Meeting 0")
    proxy.schedule(["412"], methods=["DELETE"])
    first = world.sync()
    assert first.conflicts == 1
    assert world.trash_count("lost-0@x") == 0
    assert world.sync().result == "ok"
    assert world.trash_count("lost-0@x") == 1
    world.assert_converged()


@pytest.mark.parametrize("fault", ["stall", "hang"])
def test_a_kill_during_a_stalled_delete_leaves_one_trash_entry(
    world: FaultWorld, proxy: FaultProxy, fault: str, tmp_path: Path
) -> None:
    _three(world)
    world.remove("crm", "Meeting 1")
    world.patient()  # the client waits; the kill comes first
    proxy.stall = 60
    proxy.schedule([fault], methods=["DELETE"])
    env = {**os.environ, PASSWORD_ENV: "x"}
    code = "import sys; from tui.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--workspace", str(world.ws.root), "sync", "anna"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # a readiness wait, not a timed assertion: until the DELETE reached the proxy
        deadline = time.monotonic() + 60
        while not proxy.faults_hit() and time.monotonic() < deadline:
            assert proc.poll() is None, "the sync ended before its DELETE"
            time.sleep(0.02)
        assert proxy.faults_hit(), "the DELETE never came"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert world.trash_count("lost-1@x") == 1

    proxy.stall = 1.0
    for _ in range(2):
        assert world.sync().result == "ok"
    assert "Meeting 1" not in world.by_subject("remote")
    assert world.trash_count("lost-1@x") == 1
    assert _deletes_logged(world, "lost-1@x") == 1
    world.assert_converged()


@pytest.mark.parametrize("fault", ["500_after", "reset_after", "truncate"])
def test_a_restore_whose_answer_is_lost_is_not_duplicated_when_retried(
    world: FaultWorld, proxy: FaultProxy, fault: str
) -> None:
    _three(world)
    world.remove("crm", "Meeting 1")
    assert world.sync().result == "ok"
    (entry,) = [e for e in world.trash() if e["side"] == "remote"]

    proxy.schedule([fault], methods=["PUT"])
    with pytest.raises(ProviderError):
        service.restore(world.ws, world.config, world.name, entry["id"])
    assert "Meeting 1" in world.by_subject("remote")  # stored, though no answer came
    assert world.files.trash.get(entry["id"])["restored_at"] is None

    again = service.restore(world.ws, world.config, world.name, entry["id"])
    assert again["uid"] == "lost-1@x"
    remote = world.by_subject("remote")  # asserts no subject twice
    assert remote["Meeting 1"].event.uid == "lost-1@x"
    with pytest.raises(service.OperationError, match="already restored"):
        service.restore(world.ws, world.config, world.name, entry["id"])

    world.patient()
    assert world.sync().result == "ok"
    assert world.duplicates("crm") == [] and world.duplicates("remote") == []
    assert sorted(world.by_subject("crm")) == ["Meeting 0", "Meeting 1", "Meeting 2"]
    world.assert_converged()


def test_a_restore_finds_its_copy_by_content_when_the_uid_differs(
    world: FaultWorld, proxy: FaultProxy
) -> None:
    """The first attempt stored the item under another UID (a fresh one, on a server that
    keeps deleted UIDs); the retry meets the old UID and must find the copy by content."""
    _three(world)
    world.remove("crm", "Meeting 2")
    assert world.sync().result == "ok"
    (entry,) = [e for e in world.trash() if e["side"] == "remote"]
    copy = ev("fresh-uid@calsync", "Meeting 2", days=3)
    world.put("remote", copy)
    world.put("remote", ev("lost-2@x", "Another item with the old UID", days=20))
    result = service.restore(world.ws, world.config, world.name, entry["id"])
    assert result["uid"] == "fresh-uid@calsync"
    assert world.duplicates("remote") == []
    assert [i.event.uid for i in world.items("remote") if i.event.subject == "Meeting 2"] == [
        "fresh-uid@calsync"
    ]
