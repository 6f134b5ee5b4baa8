"""The change log (SPEC R7): every applied change with the item before and after.

Kept out of the state file on purpose: a log of 100,000 entries must not be
rewritten on every sync. One JSON-lines segment per month, only ever appended to;
retention drops whole segments. Nothing already in a segment is ever cut or
rewritten: a last line without its newline (a crash mid-append, or an editor that
dropped it) is read like any other, and the next append starts on a fresh line
after it. A line that cannot be read is kept as it is and reported by file and line
(`unreadable`), never dropped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.atomic import FILE_MODE, ensure_dir
from storage.errors import StoreCorrupt, named

#: a line as calsync writes it: the entry's id first (read without parsing the line)
_ID_FIRST = re.compile(rb'\{"id":"((?:[^"\\]|\\.)*)"')


def _segment_name(when: datetime) -> str:
    return f"{when:%Y-%m}.jsonl"


def _ends_mid_line(fd: int) -> bool:
    """True when the file's last byte is not a newline: its last line is unfinished."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


class ChangeLog:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._pending: list[dict[str, Any]] = []
        #: "FILE line N: ..." for each line the last read could not use (kept in the file)
        self.unreadable: list[str] = []

    # -- writing ----------------------------------------------------------------------

    def add(self, entry: dict[str, Any]) -> None:
        """Queue an entry (needs `id` and `time`); `flush()` makes it durable."""
        self._pending.append(entry)

    def flush(self) -> None:
        if not self._pending:
            return
        ensure_dir(self.dir)
        by_segment: dict[str, list[str]] = {}
        for entry in self._pending:
            when = datetime.fromisoformat(str(entry["time"]))
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            by_segment.setdefault(_segment_name(when), []).append(line)
        for name, lines in by_segment.items():
            self._append(self.dir / name, "".join(f"{line}\n" for line in lines))
        self._pending.clear()

    @staticmethod
    def _append(path: Path, text: str) -> None:
        try:
            ChangeLog._append_text(path, text)
        except OSError as exc:
            raise named(exc, path) from exc

    @staticmethod
    def _append_text(path: Path, text: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            if _ends_mid_line(fd):
                # the last line lost its newline: end it, never cut it (it may be a
                # whole entry; if not, it stays for an operator to look at)
                text = "\n" + text
            data = memoryview(text.encode())
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- reading ----------------------------------------------------------------------

    def segments(self) -> list[Path]:
        if not self.dir.exists():
            return []
        return sorted(self.dir.glob("*.jsonl"))

    def _read_segment(self, path: Path) -> list[dict[str, Any]]:
        entries = []
        try:
            with path.open("rb") as fh:
                for number, raw in enumerate(fh, start=1):
                    if not raw.strip():
                        continue
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        entry = None  # one damaged line must not hide the rest of the month
                    if isinstance(entry, dict):
                        entries.append(entry)
                    else:
                        cut = "" if raw.endswith(b"\n") else ", cut short"
                        self.unreadable.append(
                            f"{path} line {number}: not a change-log entry{cut} (kept as it is)"
                        )
        except OSError as exc:
            raise StoreCorrupt(path, exc.strerror or str(exc)) from exc
        return entries

    def newest_first(self) -> Iterator[dict[str, Any]]:
        self.unreadable = []
        for path in reversed(self.segments()):
            yield from reversed(self._read_segment(path))

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entry in self.newest_first():
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
        return out

    def count(self) -> int:
        """How many entries `entries()` would return, without parsing them.

        Counts the complete lines that hold a JSON object, as the reader does; only
        a line damaged inside its braces is counted here and skipped there. Reading
        bytes only, it stays quick on a 100,000-entry log that takes seconds to parse.
        """
        total = 0
        for path in self.segments():
            try:
                with path.open("rb") as fh:
                    total += sum(
                        1
                        for raw in fh
                        if raw.startswith(b"{")
                        and raw.rstrip().endswith(b"}")
                        and raw.endswith(b"\n")
                    )
            except OSError as exc:
                raise StoreCorrupt(path, exc.strerror or str(exc)) from exc
        return total

    def ids(self) -> list[str]:
        """Every entry's id, newest first: what a short id must be unambiguous among.

        The id is read off the start of the line where calsync put it, so this stays
        quick on a large log; any other line is parsed whole.
        """
        out: list[str] = []
        for path in reversed(self.segments()):
            try:
                lines = path.read_bytes().splitlines()
            except OSError as exc:
                raise StoreCorrupt(path, exc.strerror or str(exc)) from exc
            for raw in reversed(lines):
                found = _ID_FIRST.match(raw)
                if found is not None and b"\\" not in found.group(1):
                    out.append(found.group(1).decode("utf-8", "replace"))
                    continue
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(entry, dict) and entry.get("id"):
                    out.append(str(entry["id"]))
        return out

    def get(self, entry_id: str) -> dict[str, Any] | None:
        for entry in self.newest_first():
            if entry.get("id") == entry_id:
                return entry
        return None

    def purge_before(self, cutoff: datetime) -> int:
        """Drop whole segments whose month ended before `cutoff`."""
        removed = 0
        for path in self.segments():
            try:
                month = datetime.strptime(path.stem, "%Y-%m").replace(tzinfo=UTC)
            except ValueError:
                continue
            next_month = month.replace(
                year=month.year + month.month // 12, month=month.month % 12 + 1
            )
            if next_month <= cutoff:
                path.unlink()
                removed += 1
        return removed
