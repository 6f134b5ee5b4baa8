"""Reading a folder calendar: the listing index and loading items from their files.

The index (in the provider cache under INDEX_KEY) maps file name -> [etag, start
(UTC ISO) or None, error or None, holds a series], so a run over thousands of
unchanged files costs one stat each. A series file is expanded into its
occurrences in the window (`sync.occurrence_index`, cached under OCCURRENCES_KEY);
files holding events of several UIDs are remembered under SEVERAL_KEY
(`sync.multi_uid`) and warned about every run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync.ical import parse_event, recurrence
from sync.ical.recurrence import Series
from sync.model import Event
from sync.providers.base import BrokenItem, CalendarNotFound, ConfigError, Item, MalformedItem
from sync.providers.folder.files import SUFFIX, etag_of, not_found, read_item

#: bump when the cached index's shape changes; an old index is then rebuilt
INDEX_KEY = "folder_index_v2"
#: the series files' occurrences (`sync.occurrence_index`)
OCCURRENCES_KEY = "folder_occurrences_v1"
#: files holding events of several UIDs: {name: [etag, warning]} (`sync.multi_uid`)
SEVERAL_KEY = "folder_several_uids_v1"


def scan(
    folder: Path, old_index: Any, index_row: Callable[[str], list[Any] | None]
) -> dict[str, list[Any]]:
    """The index row of every item file in `folder`: the old row where the file's etag
    is unchanged, else `index_row(name)` (which parses it; None: gone meanwhile)."""
    if not isinstance(old_index, dict):
        old_index = {}
    index: dict[str, list[Any]] = {}
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        # never an empty calendar: a mistyped or unmounted path would make a sync
        # copy everything into a new folder, or delete everything on the other side
        raise CalendarNotFound(not_found(folder)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read calendar folder {folder}: {exc}") from exc
    for entry in entries:
        name = entry.name
        if name.startswith(".") or not name.endswith(SUFFIX):
            continue
        try:
            if not entry.is_file():
                continue
            etag = etag_of(entry.stat())
        except OSError:
            continue  # vanished between scandir and stat
        row = old_index.get(name)
        if not (isinstance(row, list) and len(row) == 4 and row[0] == etag):
            row = index_row(name)
            if row is None:
                continue
        index[name] = row
    return index


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
