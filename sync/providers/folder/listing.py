"""Reading a folder calendar: loading items from their files.

The listing index (`index.py`) makes a run over thousands of unchanged files
cost one stat each. A series file is expanded into its occurrences in the window (`sync.occurrence_index`, cached under OCCURRENCES_KEY);
files holding events of several UIDs are remembered under SEVERAL_KEY
(`sync.multi_uid`) and warned about every run.
"""

from __future__ import annotations

from pathlib import Path

from sync.ical import parse_event, recurrence
from sync.ical.recurrence import Series
from sync.model import Event
from sync.providers.base import BrokenItem, Item, MalformedItem
from sync.providers.folder.files import read_item

#: the series files' occurrences (`sync.occurrence_index`)
OCCURRENCES_KEY = "folder_occurrences_v1"
#: files holding events of several UIDs: {name: [etag, warning]} (`sync.multi_uid`)
SEVERAL_KEY = "folder_several_uids_v1"


def load_item(
    folder: Path, item_id: str, parsed: dict[str, tuple[str, Event]]
) -> Item | BrokenItem | None:
    """The item, or None if there is none: an occurrence id whose series no longer
    has it, or a plain file id whose file now holds a series (its occurrences are
    the items now). `parsed` holds events the listing parsed, each used once."""
    name, rid = recurrence.split_id(item_id)
    try:
        found = read_item(folder, name)
    except OSError as exc:
        return BrokenItem(item_id, "", f"unreadable: {exc.strerror or exc}")
    if found is None:
        return None
    data, etag = found
    try:
        series = Series.parse(data, name)
        if series is None:
            if rid is not None:
                return None
            known = parsed.pop(name, None)
            if known is not None and known[0] == etag:
                return Item(item_id, etag, known[1])
            return Item(item_id, etag, parse_event(data, name))
        if rid is None:
            return None
        event = series.occurrence(rid)
    except MalformedItem as exc:
        return BrokenItem(item_id, etag, exc.reason)
    return None if event is None else Item(item_id, etag, event)


def load_series(folder: Path, name: str) -> tuple[str, Series | None] | BrokenItem | None:
    """(etag, series or None) of one file, read once per fetch."""
    try:
        found = read_item(folder, name)
    except OSError as exc:
        return BrokenItem(name, "", f"unreadable: {exc.strerror or exc}")
    if found is None:
        return None
    data, etag = found
    try:
        return etag, Series.parse(data, name)
    except MalformedItem as exc:
        return BrokenItem(name, etag, exc.reason)
