"""Initialization's second matching rule, start + end + subject (SPEC R9), one to one.

Items sharing a shape are real: a series whose occurrences were moved onto each
other (Thunderbird's same_event_recurring_at_same_time), two bookings of one room.
Each remote item matches at most one CRM item and each CRM item at most one remote
item, in listing order; whatever is left over on either side is created on the other.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Sequence

from sync.engine.transform import match_key
from sync.model import Event
from sync.providers.base import Item

Shape = tuple[str, str, str]


def match_by_shape(
    crm: Sequence[Item], remote: Sequence[Item], crm_view: Callable[[Item], Event]
) -> tuple[list[tuple[Item, Item]], list[Item], list[Item]]:
    """(matched (crm, remote) pairs, CRM items left, remote items left).

    `crm_view` gives a remote item as the CRM would hold it (multi-day title and
    span applied), the form CRM items are compared in.
    """
    waiting: dict[Shape, deque[Item]] = defaultdict(deque)
    for item in remote:
        waiting[match_key(crm_view(item))].append(item)
    matched: list[tuple[Item, Item]] = []
    left_crm: list[Item] = []
    for item in crm:
        queue = waiting.get(match_key(item.event))
        if queue:
            matched.append((item, queue.popleft()))
        else:
            left_crm.append(item)
    taken = {id(r) for _, r in matched}
    return matched, left_crm, [r for r in remote if id(r) not in taken]
