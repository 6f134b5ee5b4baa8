"""`reusing_decodes`: a file read again with the same bytes is not decoded again, and
`sync --all` decodes each user's runs.json once per run (issue 17's CPU per user)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import tinystore
from storage.config import load_config
from storage.errors import StoreCorrupt
from storage.runs import read_runs, runs_file
from storage.tinystore import check_tables, open_db, read_json_file, reusing_decodes
from sync.job import Job
from tests.job.helpers import Site, seed


def counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every text the storage's JSON decoder is given, in order."""
    seen: list[bytes] = []
    real: Callable[..., Any] = json.loads

    def loads(raw: bytes, *args: Any, **kwargs: Any) -> Any:
        seen.append(raw)
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(tinystore.json, "loads", loads)
    return seen


def test_same_bytes_are_decoded_once_inside_and_every_time_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, other = tmp_path / "runs.json", tmp_path / "other.json"
    path.write_text('{"runs": {"1": {"id": "a"}}}', encoding="utf-8")
    other.write_text('{"x": {}}', encoding="utf-8")
    decoded = counting_loads(monkeypatch)
    with reusing_decodes(path):
        first = read_json_file(path)
        assert read_json_file(path) is first
        assert read_json_file(other) is not read_json_file(other)  # not named: as ever
    assert len(decoded) == 3
    assert read_json_file(path) == first and read_json_file(path) is not first


def test_bytes_replaced_by_another_writer_are_decoded_afresh(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    path.write_text('{"runs": {"1": {"id": "a"}}}', encoding="utf-8")
    with reusing_decodes(path):
        assert read_json_file(path) == {"runs": {"1": {"id": "a"}}}
        path.write_text('{"runs": {"1": {"id": "b"}}}', encoding="utf-8")
        assert read_json_file(path) == {"runs": {"1": {"id": "b"}}}
        path.unlink()
        assert read_json_file(path) is None


def test_a_file_that_turned_bad_meanwhile_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    path.write_text('{"runs": {"1": {"id": "a"}}}', encoding="utf-8")
    with reusing_decodes(path):
        data = read_json_file(path)
        assert data is not None and check_tables(path, data) == 1
        assert check_tables(path, data) == 1  # checked once, known since
        path.write_text('{"runs": {"1": "not a record"}}', encoding="utf-8")
        bad = read_json_file(path)
        assert bad is not None
        with pytest.raises(StoreCorrupt, match="runs/1"):
            check_tables(path, bad)


def test_a_write_is_read_back_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.json"
    decoded = counting_loads(monkeypatch)
    with reusing_decodes(path):
        storage = open_db(path, autoflush=False).storage
        assert isinstance(storage, tinystore.AtomicJSONStorage)
        storage.write({"runs": {"1": {"id": "a"}}})
        storage.flush()
        assert decoded == []
        again = read_json_file(path)
    assert decoded == []
    assert again == json.loads(path.read_bytes())  # what was handed back is the file


def test_each_thread_has_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runs.json"
    path.write_text('{"runs": {}}', encoding="utf-8")
    decoded = counting_loads(monkeypatch)
    with reusing_decodes(path):
        read_json_file(path)
        thread = threading.Thread(target=read_json_file, args=(path,))
        thread.start()
        thread.join()
    assert len(decoded) == 2  # the other thread was outside any block


def test_sync_all_decodes_each_users_runs_once_and_judges_them_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site(tmp_path)
    names = ("ann", "bob")
    for name in names:
        site.add(name)
        seed(site, name)
        assert site.cli("init", name).code == 0
    config = load_config(site.ws.config_path)
    decoded = counting_loads(monkeypatch)
    summary = Job(site.ws, config, jobs=2).run()
    assert {r.user: r.result for r in summary.results} == dict.fromkeys(names, "ok")
    runs_decodes = [raw for raw in decoded if raw.lstrip().startswith(b'{"runs"')]
    assert len(runs_decodes) == len(names)  # health before; the load, after: reused
    for name in names:
        runs = read_runs(site.ws, name)
        assert runs[-1]["id"] == summary.results[names.index(name)].run_id
        assert summary.health[name].state == "ok"
        assert runs_file(site.ws, name).exists()
