"""The pairings in pairs.json, and the digest in state.json that lets a quiet run skip
them (issue 17): the digest gives `nothing_changed`'s answer exactly; old state files
move their pairings out on the next write; a missing or corrupt pairs.json is named,
never read as "no pairings"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.atomic import atomic_write
from storage.errors import StoreCorrupt
from storage.pairstore import listings_digest, pairs_digest
from storage.state import STATE_SCHEMA, UserFiles
from storage.workspace import Workspace
from sync.engine.views import nothing_changed
from sync.providers.base import Listing


def _pair(key: str, crm: tuple[str, str], remote: tuple[str, str]) -> dict[str, Any]:
    return {
        "key": key,
        "crm": {"id": crm[0], "etag": crm[1], "hash": "h", "event": {"uid": key}},
        "remote": {"id": remote[0], "etag": remote[1], "hash": "h", "event": {"uid": key}},
    }


def _listings(crm: dict[str, str], remote: dict[str, str]) -> dict[str, Listing]:
    return {"crm": Listing(crm), "remote": Listing(remote)}  # type: ignore[dict-item]


IDS = st.sampled_from(["a", "b", "c", "a\nb", "a\0b", 'q"', "é", ";"])
ETAGS = st.sampled_from(["1", "2", ""])
SIDE = st.tuples(IDS, ETAGS)


@settings(max_examples=300, deadline=None)
@given(
    stored=st.lists(st.tuples(SIDE, SIDE), max_size=4),
    crm=st.dictionaries(IDS, ETAGS, max_size=4),
    remote=st.dictionaries(IDS, ETAGS, max_size=4),
    use_stored_listing=st.booleans(),
)
def test_the_digest_answers_as_nothing_changed_does(
    stored: list[tuple[tuple[str, str], tuple[str, str]]],
    crm: dict[str, str],
    remote: dict[str, str],
    use_stored_listing: bool,
) -> None:
    pairs = [_pair(f"k{n}", c, r) for n, (c, r) in enumerate(stored)]
    if use_stored_listing:  # half the examples list exactly what is stored
        crm, remote = dict(c for c, _ in stored), dict(r for _, r in stored)
    digest = pairs_digest(pairs)
    same = digest is not None and digest == listings_digest(crm, remote)
    assert same == nothing_changed(pairs, _listings(crm, remote))


def test_the_digest_does_not_depend_on_order_and_cannot_be_fooled_by_separators() -> None:
    assert listings_digest({"a": "1", "b": "2"}, {}) == listings_digest({"b": "2", "a": "1"}, {})
    assert listings_digest({"a\nb": "1", "c": "2"}, {}) != listings_digest(
        {"a": "1", "b\nc": "2"}, {}
    )
    assert listings_digest({"a": "1"}, {}) != listings_digest({}, {"a": "1"})
    assert listings_digest({"a\0b": "1", "c": "2"}, {}) != listings_digest(
        {"a": "1", "b\0c": "2"}, {}
    )
    assert listings_digest({"a\0b": "1\02"}, {}) != listings_digest({"a": "1", "b": "2"}, {})
    assert listings_digest({"a;": "1"}, {"b": "2"}) != listings_digest({"a": "1"}, {";b": "2"})


def _with_pairs(ws: Workspace, n: int) -> UserFiles:
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["initialized_at"] = "2026-01-01T00:00:00+00:00"
        for i in range(n):
            state.pairs[f"k{i}"] = _pair(f"k{i}", (f"c{i}", "e"), (f"r{i}", "f"))
    return files


def test_the_pairings_live_in_pairs_json_and_state_json_keeps_their_count_and_digest(
    ws: Workspace,
) -> None:
    files = _with_pairs(ws, 3)
    on_disk = json.loads(files.state_path.read_text(encoding="utf-8"))
    assert "pairs" not in on_disk and on_disk["_meta"] == {"1": {"schema": STATE_SCHEMA}}
    assert on_disk["pairs_index"]["1"]["count"] == 3
    pairs_file = json.loads(files.state_path.with_name("pairs.json").read_text(encoding="utf-8"))
    assert sorted(p["key"] for p in pairs_file["pairs"].values()) == ["k0", "k1", "k2"]
    state = files.read_state()
    crm = {f"c{i}": "e" for i in range(3)}
    remote = {f"r{i}": "f" for i in range(3)}
    assert state.pairs_digest == listings_digest(crm, remote)
    assert state.pairs_count == 3


def test_a_run_that_does_not_ask_for_the_pairings_never_reads_them(ws: Workspace) -> None:
    files = _with_pairs(ws, 2)
    pairs_path = files.state_path.with_name("pairs.json")
    atomic_write(pairs_path, b"{ not json")  # any read would fail now
    with files.open_state() as state:
        assert state.pairs_count == 2 and state.pairs_digest is not None
        state.cache("crm")["token"] = "t2"  # the caches change, state.json is rewritten
        state.add_run({"id": "r1", "started": "2026-01-01T00:00:00+00:00"})
    assert pairs_path.read_bytes() == b"{ not json"
    assert files.read_state().cache("crm")["token"] == "t2"
    with pytest.raises(StoreCorrupt) as error:
        _ = files.read_state().pairs
    assert error.value.path == pairs_path


def test_a_missing_pairs_json_is_named_never_read_as_no_pairings(ws: Workspace) -> None:
    """Read as empty, every item would look new on both sides: duplicates everywhere."""
    files = _with_pairs(ws, 2)
    pairs_path = files.state_path.with_name("pairs.json")
    pairs_path.unlink()
    before = files.state_path.read_bytes()
    for opening in (files.read_state, lambda: files.open_state().__enter__()):
        with pytest.raises(StoreCorrupt) as error:
            opening()
        assert error.value.path == pairs_path and "missing" in str(error.value)
    assert files.state_path.read_bytes() == before and not pairs_path.exists()


def test_an_old_state_file_moves_its_pairings_out_on_the_next_write(ws: Workspace) -> None:
    files = UserFiles(ws, "anna")
    legacy = {
        "_meta": {"1": {"schema": 1}},
        "meta": {"1": {"initialized_at": "2026-01-01T00:00:00+00:00"}},
        "pairs": {"1": _pair("k0", ("c0", "e"), ("r0", "f"))},
    }
    atomic_write(files.state_path, json.dumps(legacy).encode())
    state = files.read_state()
    assert list(state.pairs) == ["k0"] and state.pairs_count == 1
    assert state.pairs_digest == listings_digest({"c0": "e"}, {"r0": "f"})
    with files.open_state() as state:
        state.add_run({"id": "r1", "started": "2026-01-01T00:00:00+00:00"})  # a quiet run
    on_disk = json.loads(files.state_path.read_text(encoding="utf-8"))
    assert "pairs" not in on_disk and on_disk["_meta"]["1"]["schema"] == STATE_SCHEMA
    assert on_disk["pairs_index"]["1"]["digest"] == listings_digest({"c0": "e"}, {"r0": "f"})
    assert list(files.read_state().pairs) == ["k0"]


def test_a_digest_left_stale_by_a_crash_between_the_two_writes_is_put_right(
    ws: Workspace,
) -> None:
    """pairs.json is written first: killed before state.json, the new pairings sit
    beside the old digest. The next run that reads the pairings stores theirs."""
    files = _with_pairs(ws, 2)
    old_state = files.state_path.read_bytes()
    with files.open_state() as state:
        state.pairs["k0"] = _pair("k0", ("c0", "e2"), ("r0", "f2"))
    atomic_write(files.state_path, old_state)  # as if killed before state.json's rename
    with files.open_state() as state:
        assert len(state.pairs) == 2  # a run with a change reads them
    fresh = listings_digest({"c0": "e2", "c1": "e"}, {"r0": "f2", "r1": "f"})
    assert files.read_state().pairs_digest == fresh


def test_removing_every_pairing_is_written(ws: Workspace) -> None:
    files = _with_pairs(ws, 2)
    with files.open_state() as state:
        state.reset_pairs()
    state = files.read_state()
    assert state.pairs_count == 0 and state.pairs == {}
    assert state.pairs_digest == listings_digest({}, {})
