"""The CRM title of a multi-day remote item follows its span, whichever side moved it (R4).

A remote change reaches the CRM through `transform.desired`, which writes the title
afresh. A CRM change moves the remote item keeping its length, so the remote's last
day moves too; the CRM activity then needs its "(until …)" suffix rewritten, in the
same run, as a follow-up of the remote write (`Action.then`).
"""

from __future__ import annotations

from datetime import datetime

from sync.engine.actions import Action
from sync.engine.pairs import Side
from sync.engine.transform import desired, stamp
from sync.model import Event
from sync.providers.base import Item
from sync.settings import Settings

RETITLE_REASON = "multi-day item moved: the title follows its new end date"


def title_follow_up(
    source_side: Side,
    crm: Item,
    remote_before: Event,
    remote_after: Event,
    settings: Settings,
    now: datetime,
    titling: bool,
    key: str | None,
) -> Action | None:
    """After a CRM change (`source_side` "crm", item `crm`) moved the remote item from
    `remote_before` to `remote_after`: the CRM update that recomputes the title, or
    None when the title already reads right.

    Only a move retitles: a CRM subject typed without the suffix stays as typed.
    """
    if source_side != "crm" or not titling:
        return None  # a remote change is retitled by `desired`; a CRM-born item never
    moved = (remote_before.start, remote_before.end, remote_before.all_day) != (
        remote_after.start,
        remote_after.end,
        remote_after.all_day,
    )
    if not moved:
        return None
    subject = desired(remote_after, "remote", crm.event, settings).subject
    if subject == crm.event.subject:
        return None
    return Action(
        "update",
        "crm",
        RETITLE_REASON,
        item_id=crm.id,
        etag=crm.etag,
        before=crm.event,
        after=crm.event.replace(subject=subject, last_modified=stamp(now)),
        drop_key=key,
    )
