"""Real exported calendar files (tests/data/corpus, sources in its MANIFEST.md)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "corpus"

_UNFOLD = re.compile(r"\r?\n[ \t]")


def text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def unfolded(data: bytes | str) -> str:
    """Content lines joined back (RFC 5545 3.1), CRLF as LF."""
    value = data.decode() if isinstance(data, bytes) else data
    return _UNFOLD.sub("", value).replace("\r\n", "\n")


def lines(data: bytes | str, name: str, *, zones: bool = False) -> list[str]:
    """The unfolded content lines of property `name` (any parameters), outside
    VTIMEZONEs (or only inside them)."""
    out: list[str] = []
    inside = False
    for line in unfolded(data).split("\n"):
        upper = line.upper()
        if upper.startswith(("BEGIN:VTIMEZONE", "END:VTIMEZONE")):
            inside = upper.startswith("BEGIN")
        elif inside == zones and upper.startswith((name + ":", name + ";")):
            out.append(line)
    return out


def resources(data: str) -> dict[str, str]:
    """A calendar export split by UID, as a CalDAV server stores an import: each
    resource keeps the calendar's properties and every VTIMEZONE."""
    body = unfolded(data)
    blocks = re.findall(r"^BEGIN:VEVENT\n.*?^END:VEVENT\n?", body, re.M | re.S)
    zones = re.findall(r"^BEGIN:VTIMEZONE\n.*?^END:VTIMEZONE\n?", body, re.M | re.S)
    head = body.split("\nBEGIN:", 1)[0] + "\n"
    out: dict[str, list[str]] = {}
    for block in blocks:
        uid = re.search(r"^UID:(.*)$", block, re.M)
        key = uid[1].strip() if uid else ""
        out.setdefault(key, []).append(block if block.endswith("\n") else block + "\n")
    return {
        uid: head + "".join(zones) + "".join(events) + "END:VCALENDAR\n"
        for uid, events in out.items()
    }


_STAMP = re.compile(r"(?<![0-9])([0-9]{8})(T[0-9]{6}Z?)?(?![0-9])")
_NEVER_SHIFTED = ("UID", "DTSTAMP", "CREATED", "LAST-MODIFIED", "TZOFFSET", "TZNAME")


def moved(data: str, weeks: int) -> str:
    """`data` with the dates of its events moved by whole weeks (same weekday, same
    wall clock), so a real export's series fall into the sync window. VTIMEZONE
    rules and stamps stay as written."""
    out: list[str] = []
    in_zone = False
    for line in unfolded(data).split("\n"):
        upper = line.upper()
        if upper.startswith("BEGIN:VTIMEZONE"):
            in_zone = True
        elif upper.startswith("END:VTIMEZONE"):
            in_zone = False
        if in_zone or upper.startswith(_NEVER_SHIFTED) or ":" not in line:
            out.append(line)
            continue
        name, value = _split(line)
        out.append(name + _STAMP.sub(lambda m: _shift(m, weeks), value))
    return "\n".join(out)


def _split(line: str) -> tuple[str, str]:
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[: i + 1], line[i + 1 :]
    return line, ""


def _shift(match: re.Match[str], weeks: int) -> str:
    day = datetime.strptime(match[1], "%Y%m%d").date() + timedelta(weeks=weeks)
    return day.strftime("%Y%m%d") + (match[2] or "")


def weeks_until(first: date, target: date) -> int:
    """Whole weeks that move `first` to the week of `target` (or just after)."""
    return -(-(target - first).days // 7)


def today() -> date:
    return datetime.now(UTC).date()
