"""Meetings the mailbox organizes: Graph cannot write one without notifying its
attendees, so calsync refuses such writes (`MeetingWouldNotify`) and the Outlook
version stays.

`meetings` is the provider's {id: (etag, attendees if the mailbox organizes it as a
meeting, else 0)}, filled from every event it reads (`delta.py` keeps it too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sync.providers.base import ItemNotFound, NotifyRefused
from sync.providers.graph.mapping import is_organized_meeting


class MeetingWouldNotify(NotifyRefused):
    """The item is a meeting this mailbox organizes: writing it would notify attendees."""

    def __init__(self, item_id: str, mailbox: str, attendees: int) -> None:
        super().__init__(
            f"item {item_id} is a meeting {mailbox} organizes with {attendees} attendee(s): "
            "changing it would notify them, so the Outlook version is kept"
        )
        self.item_id = item_id


def remember(meetings: dict[str, tuple[str, int]], data: Mapping[str, Any]) -> None:
    """Note whether the event read is a meeting the mailbox organizes, at its etag."""
    item_id, etag = str(data.get("id") or ""), str(data.get("@odata.etag") or "")
    if item_id and etag and "attendees" in data:
        attendees = len(data.get("attendees") or ()) if is_organized_meeting(data) else 0
        meetings[item_id] = (etag, attendees)


def refuse_meeting(
    meetings: dict[str, tuple[str, int]],
    item_id: str,
    etag: str,
    mailbox: str,
    get_event: Callable[[str], dict[str, Any] | None],
) -> None:
    """Raise MeetingWouldNotify when writing the item at `etag` would notify attendees
    (reading it first unless it was read at that etag); ItemNotFound when it is gone."""
    known = meetings.get(item_id)
    if known is None or known[0] != etag:
        data = get_event(item_id)
        if data is None:
            raise ItemNotFound(item_id)
        remember(meetings, data)
        known = meetings.get(item_id, (etag, 0))
    if known[1]:
        raise MeetingWouldNotify(item_id, mailbox, known[1])
