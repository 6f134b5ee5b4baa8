"""Two processes writing one user's state serialize on the user's lock."""

from __future__ import annotations

import pytest

from storage.errors import StoreBusy
from storage.state import UserFiles
from storage.workspace import Workspace
from tests.storage.conftest import child

INCREMENTER = """
import sys
from pathlib import Path
from storage.state import UserFiles
from storage.workspace import Workspace

files = UserFiles(Workspace(Path(sys.argv[1])), "anna")
print("ready", flush=True)
sys.stdin.readline()  # start together with the other process
for _ in range(int(sys.argv[2])):
    with files.open_state(timeout=60) as state:
        # a read-modify-write that loses updates unless the lock serializes it
        counter = int(state.meta.get("counter", 0))
        state.pairs[f"p{counter}"] = {"key": f"p{counter}", "pad": "x" * 2000}
        state.meta["counter"] = counter + 1
"""

OPENER = """
import sys
from pathlib import Path
from storage.errors import StoreBusy
from storage.state import UserFiles
from storage.workspace import Workspace

try:
    with UserFiles(Workspace(Path(sys.argv[1])), "anna").open_state(timeout=0.2):
        print("opened")
except StoreBusy as exc:
    print(f"busy: {exc}")
"""


def test_two_processes_increment_without_losing_updates(ws: Workspace) -> None:
    n = 150
    procs = [child(INCREMENTER, str(ws.root), str(n)) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    state = UserFiles(ws, "anna").read_state()
    assert state.meta["counter"] == 2 * n
    assert len(state.pairs) == 2 * n


def test_second_opener_in_another_process_gets_store_busy(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    with files.open_state():
        proc = child(OPENER, str(ws.root))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "busy: user anna is locked by another calsync process"
    # once released, the same opener gets in
    proc = child(OPENER, str(ws.root))
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "opened", err


def test_second_opener_in_same_process_gets_store_busy(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["mine"] = True
        with pytest.raises(StoreBusy, match="user anna"), files.open_state(timeout=0.05):
            pass
    assert files.read_state().meta["mine"] is True


def test_failed_block_does_not_flush(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["version"] = 1
    with pytest.raises(RuntimeError), files.open_state() as state:
        state.meta["version"] = 2
        raise RuntimeError("sync failed half-way")
    assert files.read_state().meta["version"] == 1


def test_read_state_of_new_user_creates_nothing(ws: Workspace) -> None:
    files = UserFiles(ws, "bert")
    state = files.read_state()
    assert not state.initialized
    assert state.identity is None
    assert state.last_run is None
    assert not files.dir.exists()
    with pytest.raises(RuntimeError, match="read-only"):
        state.flush()
