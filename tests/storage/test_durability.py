"""A process killed while writing never leaves a half-written state file."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from storage.state import UserFiles
from storage.workspace import Workspace
from tests.storage.conftest import child

PAIRS = 2000
#: big enough that writing and fsyncing the file is a fair part of each cycle
BLOB = 1_000_000

CYCLE = f"""
def write_once():
    with files.open_state() as state:
        version = int(state.meta.get("version", 0)) + 1
        state.meta["version"] = version
        state.meta["blob"] = str(version % 10) * {BLOB}
        for i in range({PAIRS}):
            state.pairs[f"k{{i}}"] = {{"key": f"k{{i}}", "version": version, "pad": "x" * 300}}
    print(version, flush=True)  # version is durable now
"""

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
{CYCLE}
while True:
    write_once()
"""

#: a process that forks one writer per line it reads and says when it died: every
#: writer is a fresh process running the real code, without paying Python's start-up
FORKING_WRITER = f"""
import os, sys
from pathlib import Path
from storage.state import UserFiles
from storage.workspace import Workspace

files = UserFiles(Workspace(Path(sys.argv[1])), "anna")
{CYCLE}
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            while True:
                write_once()
        finally:
            os._exit(1)
    print("pid", pid, flush=True)
    os.waitpid(pid, 0)
    print("dead", flush=True)
"""


def _consistent_version(files: UserFiles) -> int:
    """The one version every record of state.json carries (0 for no file yet).

    pairs.json is written first, so a kill between the two files leaves it one
    version ahead, never behind, and never mixed (storage/pairstore.py).
    """
    state = files.read_state()
    version = int(state.meta.get("version", 0))
    if version:
        assert len(state.pairs) == PAIRS
        assert len({p["version"] for p in state.pairs.values()}) == 1
        assert {p["version"] for p in state.pairs.values()} <= {version, version + 1}
        assert state.meta["blob"] == str(version % 10) * BLOB
    return version


def _temp_files(files: UserFiles) -> set[Path]:
    return {p for p in files.dir.iterdir() if p.name.endswith(".tmp")}


def _stop(forker: subprocess.Popen[str], writer: int) -> str:
    """Kill the forking writer and its current writer; what they said on stderr."""
    if writer > 0:  # (0 would be our whole process group)
        with contextlib.suppress(ProcessLookupError):
            os.kill(writer, signal.SIGKILL)
    forker.kill()
    return forker.communicate()[1]


def test_sigkill_mid_write_leaves_old_or_new_file(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    rng = random.Random(20240601)
    seen = 0
    kills = torn = 0
    temps: set[Path] = set()
    forker = child(FORKING_WRITER, str(ws.root))
    assert forker.stdin is not None and forker.stdout is not None
    pid = 0
    try:
        # at least 25 kills, and on until 3 of them landed between the temp file's
        # creation and its rename (the temp file it leaves behind says so)
        while kills < 25 or (torn < 3 and kills < 300):
            forker.stdin.write("go\n")
            forker.stdin.flush()
            pid, times = 0, []
            # let it finish a random number (2 or more) of writes, then kill it
            # somewhere in the next: after a random part of the last cycle's duration
            wanted = rng.randint(2, 3)
            while not pid or len(times) < wanted:
                line = forker.stdout.readline().split()
                assert line and line[0] != "dead", _stop(forker, pid)
                if line[0] == "pid":
                    pid = int(line[1])
                else:
                    assert line[0].isdigit(), line
                    times.append(time.monotonic())
            time.sleep(rng.uniform(0, times[-1] - times[-2]))
            os.kill(pid, signal.SIGKILL)
            while (line := forker.stdout.readline().split()) != ["dead"]:
                assert line and line[0].isdigit(), line
            pid = 0  # reaped: the number may be another process's now
            kills += 1
            if (now := _temp_files(files)) - temps:
                torn += 1
            temps = now
            version = _consistent_version(files)
            # the reported write is on disk; the one in flight may or may not be
            assert version >= seen
            seen = version
    finally:
        _stop(forker, pid)
    assert seen >= kills
    assert torn >= 3, f"only {torn} of {kills} kills landed mid-write"


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
    assert _temp_files(files), "the writer should be holding a full temp file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()

    assert files.state_path.read_bytes() == before
    assert _consistent_version(files) == 41
    # the next writer is not disturbed by the dead one's temp file
    with files.open_state() as state:
        state.meta["version"] = 42
        state.meta["blob"] = "2" * BLOB
        for key, pair in list(state.pairs.items()):
            state.pairs[key] = {**pair, "version": 42}  # replaced whole, as the engine does
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
