"""The change log: monthly append-only segments; no line once written is ever lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from storage.changelog import ChangeLog


def _entry(n: int, when: str, **extra: object) -> dict[str, object]:
    return {"id": f"e{n}", "time": when, "action": "update", **extra}


def _ids(log: ChangeLog) -> list[str]:
    return [str(e["id"]) for e in log.entries()]


def test_entries_newest_first_across_months(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    log.add(_entry(1, "2026-01-30T10:00:00+00:00"))
    log.add(_entry(2, "2026-02-01T09:00:00+00:00"))
    log.flush()
    log.add(_entry(3, "2026-02-03T09:00:00+00:00"))
    log.add(_entry(4, "2026-03-01T00:00:00+00:00"))
    log.flush()
    assert [p.name for p in log.segments()] == ["2026-01.jsonl", "2026-02.jsonl", "2026-03.jsonl"]
    assert _ids(log) == ["e4", "e3", "e2", "e1"]
    assert [e["id"] for e in log.entries(limit=2)] == ["e4", "e3"]
    assert log.get("e2") == _entry(2, "2026-02-01T09:00:00+00:00")
    assert log.get("nope") is None


def test_nothing_is_written_before_flush(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    log.add(_entry(1, "2026-01-30T10:00:00+00:00"))
    assert log.entries() == []
    log.flush()
    log.flush()  # a second flush does not write the entry twice
    assert _ids(log) == ["e1"]


def test_torn_last_line_is_reported_and_kept_and_the_next_append_starts_a_line(
    tmp_path: Path,
) -> None:
    log = ChangeLog(tmp_path / "log")
    log.add(_entry(1, "2026-01-02T10:00:00+00:00"))
    log.add(_entry(2, "2026-01-03T10:00:00+00:00"))
    log.flush()
    segment = log.segments()[0]
    full = segment.read_bytes()
    # a crash mid-append: half a line, no newline
    torn = json.dumps(_entry(3, "2026-01-04T10:00:00+00:00")).encode()[:25]
    segment.write_bytes(full + torn)

    assert _ids(log) == ["e2", "e1"]
    assert log.unreadable == [
        f"{segment} line 3: not a change-log entry, cut short (kept as it is)"
    ]

    log.add(_entry(4, "2026-01-05T10:00:00+00:00"))
    log.flush()
    assert _ids(log) == ["e4", "e2", "e1"]
    assert (
        segment.read_bytes()
        == full
        + torn
        + b"\n"
        + json.dumps(_entry(4, "2026-01-05T10:00:00+00:00"), separators=(",", ":")).encode()
        + b"\n"
    )


def test_whole_last_line_without_newline_is_read_and_never_cut(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    for n in (1, 2, 3):
        log.add(_entry(n, f"2026-01-0{n}T10:00:00+00:00"))
    log.flush()
    segment = log.segments()[0]
    segment.write_bytes(segment.read_bytes().rstrip(b"\n"))
    assert _ids(log) == ["e3", "e2", "e1"] and log.unreadable == []
    log.add(_entry(4, "2026-01-04T10:00:00+00:00"))
    log.flush()
    assert _ids(log) == ["e4", "e3", "e2", "e1"] and log.unreadable == []


def test_torn_line_longer_than_one_read_chunk_is_kept_whole(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    log.add(_entry(1, "2026-01-02T10:00:00+00:00"))
    log.flush()
    segment = log.segments()[0]
    big = json.dumps(_entry(2, "2026-01-03T10:00:00+00:00", text="t" * 300_000)).encode()
    with segment.open("ab") as fh:
        fh.write(big[:-10])  # 300 KB of a line, torn before its end
    log.add(_entry(3, "2026-01-04T10:00:00+00:00", text="ü" * 200_000))
    log.flush()
    assert _ids(log) == ["e3", "e1"]
    assert log.entries()[0]["text"] == "ü" * 200_000
    assert big[:-10] + b"\n" in segment.read_bytes()


def test_torn_first_line_is_kept_before_the_next_entry(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    log.dir.mkdir()
    (log.dir / "2026-01.jsonl").write_bytes(b'{"id": "e0", "ti')
    assert log.entries() == []
    log.add(_entry(1, "2026-01-02T10:00:00+00:00"))
    log.flush()
    assert _ids(log) == ["e1"]
    assert len(log.unreadable) == 1 and "2026-01.jsonl line 1" in log.unreadable[0]


def test_damaged_middle_line_does_not_hide_the_rest(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    log.dir.mkdir()
    lines = [
        json.dumps(_entry(1, "2026-01-02T10:00:00+00:00")),
        "garbage{",
        '"a bare string"',
        json.dumps(_entry(2, "2026-01-03T10:00:00+00:00")),
    ]
    (log.dir / "2026-01.jsonl").write_text("".join(f"{line}\n" for line in lines))
    assert _ids(log) == ["e2", "e1"]


def test_purge_drops_whole_months_that_ended_before_cutoff(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    for n, when in enumerate(
        [
            "2025-11-15T00:00:00+00:00",
            "2025-12-31T23:59:00+00:00",
            "2026-01-01T00:00:00+00:00",
            "2026-02-10T00:00:00+00:00",
        ]
    ):
        log.add(_entry(n, when))
    log.flush()
    # December ends exactly at the cutoff: dropped. January is still running: kept whole.
    removed = log.purge_before(datetime(2026, 1, 1, tzinfo=UTC))
    assert removed == 2
    assert [p.name for p in log.segments()] == ["2026-01.jsonl", "2026-02.jsonl"]
    assert _ids(log) == ["e3", "e2"]
    assert log.purge_before(datetime(2026, 1, 15, tzinfo=UTC)) == 0


def test_purge_ignores_foreign_files(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    log.dir.mkdir()
    (log.dir / "notes.jsonl").write_text("")
    assert log.purge_before(datetime(2100, 1, 1, tzinfo=UTC)) == 0
    assert (log.dir / "notes.jsonl").exists()


def test_empty_log(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "nothing-here")
    assert log.entries() == []
    assert log.segments() == []
    assert log.purge_before(datetime(2100, 1, 1, tzinfo=UTC)) == 0


def test_count_matches_entries_across_months_torn_and_damaged_lines(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log")
    assert log.count() == 0
    for n in range(7):
        log.add(_entry(n, f"2026-0{1 + n % 3}-02T10:00:00+00:00"))
    log.flush()
    segment = log.segments()[0]
    torn = json.dumps(_entry(9, "2026-01-04T10:00:00+00:00")).encode()[:25]
    segment.write_bytes(segment.read_bytes() + b"garbage{\n" + b'"a bare string"\n' + torn)
    assert log.count() == len(log.entries()) == 7
