"""Run records live in runs.json; state.json is rewritten only when pairings or caches change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.atomic import atomic_write
from storage.state import UserFiles, UserState
from storage.workspace import Workspace


def _run(n: int) -> dict[str, object]:
    return {"id": f"r{n}", "started": f"2026-01-01T00:00:{n:02d}+00:00", "result": "ok"}


def _pair(key: str) -> dict[str, object]:
    return {"key": key, "crm": {"id": f"{key}.ics"}, "remote": {"id": f"{key}.ics"}}


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def _initial(ws: Workspace) -> UserFiles:
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.pairs["a"] = _pair("a")
        state.cache("remote")["token"] = "t1"
        state.add_run(_run(1))
    return files


def test_a_run_that_changed_nothing_leaves_state_json_alone(ws: Workspace) -> None:
    files = _initial(ws)
    before = _stamp(files.state_path)
    with files.open_state() as state:
        state.add_run(_run(2))
    assert _stamp(files.state_path) == before
    again = files.read_state()
    assert [r["id"] for r in again.runs] == ["r1", "r2"]
    assert list(again.pairs) == ["a"] and again.cache("remote")["token"] == "t1"


def test_a_changed_pairing_or_cache_rewrites_state_json(ws: Workspace) -> None:
    files = _initial(ws)
    with files.open_state() as state:
        state.pairs.pop("a")
        state.pairs["b"] = _pair("b")
    assert list(files.read_state().pairs) == ["b"]
    before = _stamp(files.state_path)
    with files.open_state() as state:
        state.cache("remote")["token"] = "t2"  # providers edit their cache in place
    assert _stamp(files.state_path) != before
    assert files.read_state().cache("remote")["token"] == "t2"


def test_a_state_file_from_before_the_split_keeps_its_runs(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    legacy = {
        "meta": {"1": {"initialized_at": "2026-01-01T00:00:00+00:00"}},
        "pairs": {"1": _pair("a")},
        "runs": {"1": _run(1)},
    }
    atomic_write(files.state_path, json.dumps(legacy).encode())
    assert [r["id"] for r in files.read_state().runs] == ["r1"]
    with files.open_state() as state:
        state.add_run(_run(2))
    on_disk = json.loads(files.state_path.read_text(encoding="utf-8"))
    assert "runs" not in on_disk and "pairs" not in on_disk  # both moved out
    assert list(files.read_state().pairs.values()) == [_pair("a")]
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r2"]


def test_a_swapped_in_plain_dict_is_still_written(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = UserState(path, writable=True)
    state.flush()
    state.pairs = {"a": _pair("a")}
    state.flush()
    assert list(UserState(path, writable=False).pairs) == ["a"]


def test_a_deep_in_place_cache_edit_is_seen_and_an_undone_one_is_not(ws: Workspace) -> None:
    files = _initial(ws)
    with files.open_state() as state:
        state.cache("crm")["index"] = {"a.ics": ["e1", None, None, False]}
    before = _stamp(files.state_path)
    with files.open_state() as state:
        state.cache("crm")["index"]["a.ics"][0] = "e2"  # a nested list edited in place
    assert _stamp(files.state_path) != before
    assert files.read_state().cache("crm")["index"]["a.ics"][0] == "e2"
    before = _stamp(files.state_path)
    with files.open_state() as state:
        row = state.cache("crm")["index"]["a.ics"]
        row[0] = "e3"
        row[0] = "e2"  # edited and put back: nothing to write
    assert _stamp(files.state_path) == before


def test_a_cache_rebuilt_equal_in_another_order_is_not_rewritten(ws: Workspace) -> None:
    """The snapshot is marshal bytes; bytes that differ only by order still compare equal."""
    files = _initial(ws)
    with files.open_state() as state:
        state.cache("crm")["index"] = {"a.ics": ["e1", None], "b.ics": ["e2", 1]}
    before = _stamp(files.state_path)
    with files.open_state() as state:
        state.cache("crm")["index"] = {"b.ics": ["e2", 1.0], "a.ics": ["e1", None]}
    assert _stamp(files.state_path) == before
    with files.open_state() as state:
        state.cache("crm")["index"] = {"b.ics": ["e2", 2], "a.ics": ["e1", None]}
    assert _stamp(files.state_path) != before
    assert files.read_state().cache("crm")["index"]["b.ics"] == ["e2", 2]


def test_a_run_record_skips_the_folder_fsync_unless_runs_move_out(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """runs.json's bytes are always fsynced (never torn); the folder's fsync, which makes
    the rename durable, is left out for it, but kept when a legacy state file's runs
    move out (state.json without them must not be durable before runs.json is)."""
    from storage import atomic

    synced_dirs: list[str] = []
    real = atomic._fsync_dir
    monkeypatch.setattr(atomic, "_fsync_dir", lambda p: (synced_dirs.append(str(p)), real(p)))
    files = _initial(ws)
    synced_dirs.clear()
    with files.open_state() as state:
        state.add_run(_run(2))
    assert synced_dirs == []
    assert [r["id"] for r in files.read_state().runs] == ["r1", "r2"]
    legacy = {"meta": {"1": {}}, "pairs": {"1": _pair("a")}, "runs": {"1": _run(1)}}
    files.state_path.with_name("runs.json").unlink()
    atomic_write(files.state_path, json.dumps(legacy).encode())
    synced_dirs.clear()
    with files.open_state() as state:
        state.add_run(_run(2))
    # pairs.json and runs.json (both moving out), then state.json
    assert synced_dirs == [str(files.dir)] * 3
