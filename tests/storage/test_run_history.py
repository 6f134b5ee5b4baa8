"""A quiet run's record lives in last-run.json while later quiet runs replace it: a
no-change run of a user with a long history neither reads nor rewrites runs.json
(issue 17); every reader still sees one history, oldest first."""

from __future__ import annotations

import json
from pathlib import Path

from storage.atomic import atomic_write
from storage.run_history import MAX_RUNS_KEPT
from storage.state import UserFiles
from storage.workspace import Workspace


def _run(n: int) -> dict[str, object]:
    return {"id": f"r{n}", "started": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00"}


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def _record(files: UserFiles, run: dict[str, object], *, quiet: bool) -> None:
    with files.open_state() as state:
        last = state.last_run
        if quiet and last is not None and last.get("quiet"):
            state.replace_last_run({**run, "quiet": True, "repeats": last.get("repeats", 1) + 1})
        else:
            state.add_run({**run, "quiet": quiet}, replaceable=quiet)


def test_quiet_runs_after_a_long_history_touch_only_last_run_json(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    for n in range(150):
        _record(files, {**_run(n), "result": "failed"}, quiet=False)
    runs_path = files.state_path.with_name("runs.json")
    tail_path = files.state_path.with_name("last-run.json")
    _record(files, _run(150), quiet=True)  # the first of a quiet chain
    before = _stamp(runs_path)
    for n in range(151, 160):
        _record(files, _run(n), quiet=True)
    assert _stamp(runs_path) == before  # never rewritten
    atomic_write(runs_path, b"{ not json")  # and never read: a read would fail now
    for n in range(160, 165):
        _record(files, _run(n), quiet=True)
    tail = json.loads(tail_path.read_text())["run"]["1"]
    assert (tail["id"], tail["repeats"]) == ("r164", 15)
    with files.open_state() as state:  # a run reads the newest record from the tail
        assert state.last_run == tail


def test_a_record_of_its_own_folds_the_quiet_one_into_the_history(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    _record(files, {**_run(1), "result": "failed"}, quiet=False)
    _record(files, _run(2), quiet=True)
    _record(files, _run(3), quiet=True)
    tail_path = files.state_path.with_name("last-run.json")
    assert tail_path.exists()
    _record(files, {**_run(4), "result": "failed"}, quiet=False)
    assert not tail_path.exists()
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r3", "r4"]
    on_disk = json.loads(files.state_path.with_name("runs.json").read_text())
    assert [r["id"] for r in on_disk["runs"].values()] == ["r1", "r3", "r4"]


def test_a_tail_that_runs_json_holds_too_is_read_once(ws: Workspace) -> None:
    """The tail is written before runs.json, so a kill never leaves it behind; a copy
    of an older last-run.json put back by hand is still read only once."""
    files = UserFiles(ws, "anna")
    _record(files, _run(1), quiet=True)
    tail_path = files.state_path.with_name("last-run.json")
    left_behind = tail_path.read_bytes()
    _record(files, {**_run(2), "result": "failed"}, quiet=False)
    assert not tail_path.exists()
    atomic_write(tail_path, left_behind)
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r2"]
    _record(files, {**_run(3), "result": "failed"}, quiet=False)
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r2", "r3"]
    assert not tail_path.exists()


def test_the_history_keeps_its_bound_with_a_tail(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        for n in range(MAX_RUNS_KEPT + 5):
            state.add_run({**_run(n), "result": "failed"})
        state.add_run(_run(MAX_RUNS_KEPT + 5), replaceable=True)
    runs = files.read_state().runs
    assert len(runs) == MAX_RUNS_KEPT and runs[-1]["id"] == f"r{MAX_RUNS_KEPT + 5}"


def test_an_old_quiet_record_in_runs_json_is_replaced_once_then_only_the_tail(
    ws: Workspace,
) -> None:
    """A history written before last-run.json ends in a quiet record: the first quiet
    run replaces it (runs.json rewritten once), later ones touch only the tail."""
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.add_run({**_run(1), "result": "failed"})
        state.add_run({**_run(2), "quiet": True})  # as an older calsync kept it
    runs_path = files.state_path.with_name("runs.json")
    _record(files, _run(3), quiet=True)
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r3"]
    before = _stamp(runs_path)
    _record(files, _run(4), quiet=True)
    assert _stamp(runs_path) == before
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r4"]
