"""Files and disks that fail under a run (issue 20, items 8-11), through the real CLI.

A full disk is made for real where the kernel lets an ordinary user do it: a small
tmpfs mounted in a private user and mount namespace (`unshare`), filled up before
calsync runs. Where that is not allowed the test is skipped, not faked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sync.providers.folder.files import file_name_for
from tests.cli.test_sync_cli import calsync
from tests.engine.harness import Env, ev

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    e.add_user()
    for n in range(3):
        e.put("crm", ev(f"c{n}", f"Visit {n}", days=n + 1))
    assert e.init().result == "ok"
    # pending for the next sync: an update, a delete and a create on the remote
    e.edit("crm", "Visit 0", location="Room 1")
    e.remove("crm", "Visit 2")
    e.put("crm", ev("c9", "New visit", days=4))
    return e


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.ics"))}


# -- item 9: every file a run needs is checked before the first write ------------------


def test_corrupt_trash_stops_the_run_before_anything_is_written(env: Env, tmp_path: Path) -> None:
    trash = env.files.trash.path
    trash.write_text("{not json")
    remote_before = _files(tmp_path / "remote")
    state_before = env.files.state_path.read_bytes()

    proc = calsync(env.ws.root, "sync", "anna")

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(trash) in proc.stderr and proc.stderr.count("\n") == 1
    assert _files(tmp_path / "remote") == remote_before  # exit 2: nothing written
    assert env.files.state_path.read_bytes() == state_before
    assert trash.read_text() == "{not json"  # left untouched


# -- item 10: a change-log line without its newline is kept and shown ------------------


def test_log_line_without_newline_is_shown_and_kept_by_the_next_sync(env: Env) -> None:
    assert env.sync().result == "ok"
    (segment,) = env.files.log.segments()
    before = [e["id"] for e in env.log()]
    segment.write_bytes(segment.read_bytes().rstrip(b"\n"))  # an editor dropped it
    shown = json.loads(calsync(env.ws.root, "log", "anna", "--json").stdout)
    assert [e["id"] for e in shown] == before  # the last entry is not hidden

    env.edit("crm", "Visit 1", location="Room 4")
    assert env.sync().result == "ok"

    shown = json.loads(calsync(env.ws.root, "log", "anna", "--json").stdout)
    assert [e["id"] for e in shown][1:] == before  # nor cut off by the next append
    assert shown[0]["action"] == "update"


def test_unreadable_log_line_is_reported_by_file_and_line_and_kept(env: Env) -> None:
    assert env.sync().result == "ok"
    (segment,) = env.files.log.segments()
    lines = segment.read_bytes().splitlines(keepends=True)
    damaged = b"".join([lines[0], b"{half an entr\n", *lines[1:]])
    segment.write_bytes(damaged)

    proc = calsync(env.ws.root, "log", "anna", "--json")
    assert proc.returncode == 0
    assert len(json.loads(proc.stdout)) == len(lines)
    assert f"{segment} line 2" in proc.stderr

    env.edit("crm", "Visit 1", location="Room 4")
    assert env.sync().result == "ok"
    assert segment.read_bytes().startswith(damaged)  # appended to, never rewritten


# -- item 11: what failed goes to stderr, the results to stdout ------------------------


def test_single_user_failures_go_to_stderr(env: Env) -> None:
    env.set(remote="caldav:http://127.0.0.1:9/calendars/anna/")
    proc = calsync(env.ws.root, "sync", "anna")
    assert proc.returncode == 1
    assert "anna: failed" in proc.stdout
    assert proc.stderr.startswith("calsync: anna: failed: cannot reach 127.0.0.1:9")

    proc = calsync(env.ws.root, "sync", "anna", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["result"] == "failed"  # stdout stays JSON only
    assert "cannot reach 127.0.0.1:9" in proc.stderr


def test_each_failed_item_is_one_stderr_line(env: Env, tmp_path: Path) -> None:
    # a remote item whose CRM file name is taken by a folder: its create fails, the rest work
    env.put("remote", ev("r9", "From remote", days=5))
    (tmp_path / "crm" / file_name_for("r9", None)).mkdir()
    proc = calsync(env.ws.root, "sync", "anna")
    assert proc.returncode == 1
    assert "anna: failed — 1 item(s) failed" in proc.stdout
    assert "From remote" not in proc.stdout
    (line,) = proc.stderr.splitlines()
    assert line.startswith("calsync: anna: create crm: From remote: ")


# -- item 8: a full disk ---------------------------------------------------------------


def _on_full_disk(env: Env, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`calsync ARGS` with the workspace on a tmpfs that has no free space left."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a private tmpfs")
    mount = tmp_path / "disk"
    mount.mkdir()
    script = f"""
set -e
mount -t tmpfs -o size=512k tmpfs "{mount}"
cp -a "{env.ws.root}" "{mount}/ws"
dd if=/dev/zero of="{mount}/filler" bs=4k 2>/dev/null || true
exec "{sys.executable}" -m tui --workspace "{mount}/ws" "$@"
"""
    proc = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    if "mount:" in proc.stderr or "unshare:" in proc.stderr:
        pytest.skip(f"this kernel does not let a user mount a tmpfs: {proc.stderr.strip()}")
    return proc


def test_full_disk_sync_all_json_prints_its_summary_and_names_the_files(
    env: Env, tmp_path: Path
) -> None:
    proc = _on_full_disk(env, tmp_path, "sync", "--all", "--json")
    assert "Logging error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    summary = json.loads(proc.stdout)
    (user,) = summary["users"]
    assert user["result"] == "failed"
    disk = tmp_path / "disk" / "ws"
    assert user["error"].startswith(f"cannot write {disk}/users/anna/")
    assert user["error"].endswith(": No space left on device")
    assert f"cannot write the run log {disk}/logs/calsync.log: No space left" in proc.stderr


def test_full_disk_single_sync_fails_with_exit_1_naming_the_file(env: Env, tmp_path: Path) -> None:
    proc = _on_full_disk(env, tmp_path, "sync", "anna")
    assert "Traceback" not in proc.stderr, proc.stderr
    # the remote may have been written before the workspace refused: a failure, not 2
    assert proc.returncode == 1
    assert f"cannot write {tmp_path / 'disk' / 'ws'}/users/anna/" in proc.stderr
