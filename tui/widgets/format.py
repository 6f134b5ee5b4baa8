"""How values look on screen: relative times, coloured results, counts, items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

RESULT_STYLE = {
    "ok": "green",
    "failed": "bold red",
    "needs_operator": "bold yellow",
    "busy": "cyan",
    "deferred": "cyan",
    "skipped": "dim",
    "cancelled": "yellow",
    "planned": "blue",
    "running": "bold cyan",
}
RESULT_LABEL = {
    "ok": "ok",
    "failed": "error",
    "needs_operator": "needs operator",
    "busy": "busy",
    "deferred": "throttled",
    "skipped": "skipped",
    "cancelled": "cancelled",
    "planned": "planned",
    "running": "running…",
}
SIDE_LABEL = {"crm": "CRM", "remote": "remote"}

#: the item fields in the order an operator reads them
ITEM_FIELDS = (
    "subject",
    "start",
    "end",
    "all_day",
    "location",
    "show_as",
    "privacy",
    "reminder",
    "text",
    "uid",
    "recurrence_id",
    "last_modified",
)


def plain(value: object, style: str = "") -> Text:
    """Data as it is, never read as markup: a title may well be `Budget [/b] review`.

    Textual reads a plain `str` in a table cell, label or border title as markup, so
    every value from a calendar, a user record or an error goes through here.
    """
    return Text("" if value is None else str(value), style=style)


#: a subject cell's width: a 400-character title must not push the next columns off screen
SUBJECT_WIDTH = 50


def subject_cell(subject: str) -> Text:
    """A subject for a table cell, cut with … where too long (the item pane shows it all).

    Measured in terminal cells, so a CJK or emoji title is cut at the same width.
    """
    text = plain(subject)
    text.truncate(SUBJECT_WIDTH, overflow="ellipsis")
    return text


def relative_time(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "just now" if seconds > -60 else "in the future"
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} d ago"


def countdown(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


def result_text(result: str, reason: str = "") -> Text:
    if not result:
        return Text("—", style="dim")
    label = RESULT_LABEL.get(result, result)
    return Text(label, style=RESULT_STYLE.get(result, ""))


def repeats_text(run: Mapping[str, Any]) -> str:
    """` · ×144 since 2026-11-29 08:00` for a record that stands for that many quiet runs
    (sync/engine/record.py `coalesced`); "" for a single run."""
    try:
        repeats = int(run.get("repeats") or 1)
    except (TypeError, ValueError):
        return ""
    if repeats < 2:
        return ""
    since = local_time(run.get("since"))
    return f" · ×{repeats} since {since}" if since else f" · ×{repeats}"


def counts_text(counts: Mapping[str, Mapping[str, int]]) -> str:
    """`CRM +1 ~2 -0  remote +0 ~1 -0` in short: creates, updates, deletes per side."""
    if not counts:
        return ""
    parts = []
    for side in ("crm", "remote"):
        c = counts.get(side) or {}
        parts.append(f"+{c.get('create', 0)} ~{c.get('update', 0)} -{c.get('delete', 0)}")
    return " │ ".join(parts)


def counts_sentence(counts: Mapping[str, Mapping[str, int]]) -> str:
    """`CRM: 2 created, 1 updated; remote: 1 deleted`, or `no changes`."""
    parts = []
    for side in ("crm", "remote"):
        c = counts.get(side) or {}
        done = [
            f"{c[op]} {word}"
            for op, word in (("create", "created"), ("update", "updated"), ("delete", "deleted"))
            if c.get(op)
        ]
        if done:
            parts.append(f"{SIDE_LABEL[side]}: {', '.join(done)}")
    return "; ".join(parts) or "no changes"


def local_time(value: Any) -> str:
    """An ISO timestamp as the operator's local wall-clock time, to the minute."""
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is not None:
        when = when.astimezone()
    return f"{when:%Y-%m-%d %H:%M}"


def item_value(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "reminder":
        return f"{value} min before"
    if key in ("start", "end") and isinstance(value, str) and "T" in value:
        return _wall_time(value)
    return str(value)


def _wall_time(value: str) -> str:
    """`2026-11-18T08:00:00+01:00[Europe/Stockholm]` -> `2026-11-18 08:00 Europe/Stockholm`.

    Items keep their own zone; showing it (not the operator's) is what the calendar shows.
    """
    stamp, _, zone = value.partition("[")
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return value
    if zone:
        where = zone.rstrip("]")
    elif when.tzinfo is None:
        where = "floating"
    elif when.utcoffset() == timedelta(0):
        where = "UTC"
    else:
        where = f"{when:%z}"
    return f"{when:%Y-%m-%d %H:%M} {where}"


def item_subject(item: Mapping[str, Any] | None) -> str:
    return str(item.get("subject", "")) if item else ""


#: bookkeeping that changes with every write; highlighting it would hide the real change
NOT_HIGHLIGHTED = frozenset({"last_modified"})


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> set[str]:
    if not before or not after:
        return set()
    return {k for k in ITEM_FIELDS if k not in NOT_HIGHLIGHTED and before.get(k) != after.get(k)}
