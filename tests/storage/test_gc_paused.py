"""Decoding a state file pauses the cyclic garbage collector (issue 21.10) and always
leaves it as it found it, also when threads of `sync --all` pause at once."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from storage.errors import StoreCorrupt
from storage.tinystore import gc_paused, read_json_file


def test_paused_while_decoding_and_enabled_after(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"pairs": {"1": {"key": "a"}}}', encoding="utf-8")
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert read_json_file(path) == {"pairs": {"1": {"key": "a"}}}
    assert gc.isenabled()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreCorrupt):
        read_json_file(path)
    assert gc.isenabled()  # also after a corrupt file


def test_overlapping_pauses_of_threads_leave_it_enabled() -> None:
    inside = threading.Barrier(8)

    def work() -> None:
        with gc_paused():
            inside.wait()  # all eight are paused at once, then leave in any order

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
