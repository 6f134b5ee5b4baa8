"""Short ids (storage/short_ids.py): 8 characters to read and type, unambiguous per user."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.changelog import ChangeLog
from storage.short_ids import ALPHABET, AmbiguousId, UnknownId, resolve, short_id, short_ids

IDS = [f"20261130T0531{n:02d}Z-4f2a1c-{n}" for n in range(60)]


def test_a_short_id_is_8_unambiguous_characters_and_stable() -> None:
    shown = short_id(IDS[0])
    assert len(shown) == 8 and set(shown) <= set(ALPHABET)
    assert not set(shown) & set("ilou")  # nothing to misread
    assert short_id(IDS[0]) == shown  # a hash, not a counter: the same every time
    # ids of one run share their start; their short ids do not
    assert len({short_id(i, 4) for i in IDS}) > 50


def test_short_ids_grow_only_where_two_would_be_the_same() -> None:
    # at one character 60 ids must collide; each colliding one grows until unique
    shown = short_ids(IDS, length=1)
    assert len(set(shown.values())) == len(IDS)
    assert min(len(s) for s in shown.values()) >= 1
    assert all(short_id(full, len(s)) == s for full, s in shown.items())
    # at the normal length nothing collides here, so nothing grows
    assert {len(s) for s in short_ids(IDS).values()} == {8}


def test_resolve_takes_the_full_id_the_short_id_or_a_prefix() -> None:
    full = IDS[7]
    assert resolve(full, IDS, what="log entry", name="anna") == full
    assert resolve(short_id(full), IDS, what="log entry", name="anna") == full
    assert resolve(short_id(full, 12), IDS, what="log entry", name="anna") == full
    assert resolve(f" {short_id(full).upper()} ", IDS, what="log entry", name="anna") == full


def test_resolve_reads_look_alikes_as_crockford_does() -> None:
    ids = [i for i in IDS if set(short_id(i)) & {"0", "1"}]
    full = ids[0]
    typed = short_id(full).replace("0", "O").replace("1", "l")
    assert resolve(typed, IDS, what="log entry", name="anna") == full


def test_an_ambiguous_prefix_is_one_line_naming_the_candidates() -> None:
    # four characters (the least one may type) that two of 5,000 ids share
    ids = [f"id-{n}" for n in range(5000)]
    by_prefix: dict[str, list[str]] = {}
    for full in ids:
        by_prefix.setdefault(short_id(full, 4), []).append(full)
    clash = next(group for group in by_prefix.values() if len(group) > 1)
    with pytest.raises(AmbiguousId) as caught:
        resolve(short_id(clash[0], 4), ids, what="trash entry", name="anna")
    message = str(caught.value)
    assert "\n" not in message and "ambiguous" in message
    assert f"matches {len(clash)} entries" in message
    assert short_id(clash[0], 10) in message  # long enough to tell them apart
    # their full short ids still name one each
    for full in clash:
        assert resolve(short_id(full), ids, what="trash entry", name="anna") == full


@pytest.mark.parametrize("typed", ["", "abc", "no such id", "zzzzzzzz-", "uuuuuuuu"])
def test_unknown_or_too_short_is_unknown(typed: str) -> None:
    with pytest.raises(UnknownId, match=r"no log entry .* for user anna"):
        resolve(typed, IDS[:3], what="log entry", name="anna")


def test_changelog_ids_reads_every_id_newest_first(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    for n, month in enumerate((1, 1, 2)):
        when = datetime(2026, month, 5 + n, tzinfo=UTC).isoformat()
        log.add({"id": f'e{n}-"quoted"' if n == 1 else f"e{n}", "time": when, "action": "create"})
    log.flush()
    # a line written by someone else, its id not first: parsed whole
    segment = tmp_path / "log" / "2026-02.jsonl"
    other = {"time": "2026-02-09T00:00:00+00:00", "id": "late"}
    with segment.open("a") as fh:
        fh.write(json.dumps(other) + "\n" + "{broken\n")
    assert log.ids() == [str(e["id"]) for e in log.entries()]
    assert log.ids()[0] == "late" and 'e1-"quoted"' in log.ids()


def test_too_short_a_prefix_says_how_long_one_must_be() -> None:
    with pytest.raises(UnknownId, match="type at least 4 characters"):
        resolve(short_id(IDS[0], 3), IDS, what="trash entry", name="anna")
