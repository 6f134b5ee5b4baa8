"""A process killed while writing never leaves a half-written state file."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from storage.state import UserFiles
from storage.workspace import Workspace
from tests.storage.conftest import child

PAIRS = 2000
#: a big blob makes writing, not computing, most of each cycle, so kills land mid-write
BLOB = 8_000_000

WRITER = f"""
import os, sys
from pathlib import Path
from storage.state import UserFiles
from storage.workspace import Workspace

files = UserFiles(Workspace(Path(sys.argv[1])), "anna")
stall = sys.argv[2] == "stall"
if stall:
    real_fsync = os.fsync
    def announce_and_wait(fd):
        # the temp file is written but not yet renamed: the worst moment to die
        print("in-fsync", flush=True)
        sys.stdin.readline()
        real_fsync(fd)
    os.fsync = announce_and_wait
while True:
    with files.open_state() as state:
        version = int(state.meta.get("version", 0)) + 1
        state.meta["version"] = version
        state.meta["blob"] = str(version % 10) * {BLOB}
        for i in range({PAIRS}):
            state.pairs[f"k{{i}}"] = {{"key": f"k{{i}}", "version": version, "pad": "x" * 300}}
    print(version, flush=True)  # version is durable now
"""


def _consistent_version(files: UserFiles) -> int:
    """The one version every record of the file carries (0 for no file yet)."""
    state = files.read_state()
    version = int(state.meta.get("version", 0))
    if version:
        assert len(state.pairs) == PAIRS
        assert {p["version"] for p in state.pairs.values()} == {version}
        assert state.meta["blob"] == str(version % 10) * BLOB
    return version


def test_sigkill_mid_write_leaves_old_or_new_file(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    rng = random.Random(20240601)
    seen = 0
    kills = 25
    for _ in range(kills):
        proc = child(WRITER, str(ws.root), "loop")
        assert proc.stdout is not None
        # let it finish a random number of writes, then kill it somewhere in the next
        for _ in range(rng.randint(1, 3)):
            line = proc.stdout.readline()
            assert line.strip().isdigit(), proc.stderr.read() if proc.stderr else line
        time.sleep(rng.uniform(0, 0.05))  # where in the next write the kill lands
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
        assert proc.stdin is not None
        proc.stdin.close()
        version = _consistent_version(files)
        # the reported write is on disk; the one in flight may or may not be
        assert version >= seen
        seen = version
    assert seen >= kills


def test_kill_between_write_and_rename_keeps_old_version(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["version"] = 41
        state.meta["blob"] = "1" * BLOB
        for i in range(PAIRS):
            state.pairs[f"k{i}"] = {"key": f"k{i}", "version": 41}
    before = files.state_path.read_bytes()

    proc = child(WRITER, str(ws.root), "stall")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "in-fsync"
    leftovers = [p for p in files.dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the writer should be holding a full temp file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()

    assert files.state_path.read_bytes() == before
    assert _consistent_version(files) == 41
    # the next writer is not disturbed by the dead one's temp file
    with files.open_state() as state:
        state.meta["version"] = 42
        state.meta["blob"] = "2" * BLOB
        for pair in state.pairs.values():
            pair["version"] = 42
    assert _consistent_version(files) == 42


def test_temp_files_are_private_while_being_written(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    proc = child(WRITER, str(ws.root), "stall")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "in-fsync"
    try:
        temps = [p for p in Path(files.dir).iterdir() if p.name.endswith(".tmp")]
        assert temps
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in temps)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
