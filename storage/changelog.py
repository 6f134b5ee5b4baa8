"""The change log (SPEC R7): every applied change with the item before and after.

Kept out of the state file on purpose: a log of 100,000 entries must not be
rewritten on every sync. One JSON-lines segment per month, only ever appended to;
retention drops whole segments. A torn last line (a crash mid-append) is skipped
when read and cut off before the next append, so it never corrupts later entries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.atomic import FILE_MODE, ensure_dir
from storage.errors import StoreCorrupt


def _segment_name(when: datetime) -> str:
    return f"{when:%Y-%m}.jsonl"


def _complete_end(fd: int, chunk: int = 65536) -> int:
    """Offset just past the file's last newline: where the complete lines end.

    Scans backwards in chunks, since one entry (an item with a 100 KB text, before
    and after) can be longer than any fixed tail.
    """
    pos = os.fstat(fd).st_size
    if pos == 0 or os.pread(fd, 1, pos - 1) == b"\n":
        return pos
    while pos > 0:
        start = max(0, pos - chunk)
        data = os.pread(fd, pos - start, start)
        cut = data.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        pos = start
    return 0


class ChangeLog:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._pending: list[dict[str, Any]] = []

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
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            end = _complete_end(fd)
            if end < os.fstat(fd).st_size:
                os.ftruncate(fd, end)  # cut a torn last line left by a crash mid-append
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
                for raw in fh:
                    if not raw.endswith(b"\n"):
                        break  # torn last line: the next append cuts it off
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        continue  # one damaged line must not hide the rest of the month
                    if isinstance(entry, dict):
                        entries.append(entry)
        except OSError as exc:
            raise StoreCorrupt(path, exc.strerror or str(exc)) from exc
        return entries

    def newest_first(self) -> Iterator[dict[str, Any]]:
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
