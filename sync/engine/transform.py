"""What a copy looks like on the other side: multi-day titles (R4), reminders (R6),
privacy (R5), and field-level merging so a side that cannot hold a value, or a
policy that keeps a field local, never causes ping-pong.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sync.engine.pairs import Side
from sync.model import SYNCED_FIELDS, Event, as_utc
from sync.settings import Settings

SUFFIX_RE = re.compile(r"(\s*\(until \d{4}-\d{2}-\d{2}\))+\s*$")
TIME_FIELDS = ("start", "end", "all_day")
#: fields compared to decide that a copy must change (identity fields excluded)
CONTENT_FIELDS = tuple(f for f in SYNCED_FIELDS if f not in ("uid", "recurrence_id"))


def strip_suffix(subject: str) -> str:
    return SUFFIX_RE.sub("", subject)


def last_date(event: Event) -> date:
    """The last calendar date the event occupies."""
    if event.all_day:
        assert not isinstance(event.end, datetime)
        return event.end - timedelta(days=1)
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    end_local = event.end.astimezone(event.start.tzinfo)
    return (end_local - timedelta(microseconds=1)).date()


def titled(remote: Event, settings: Settings, *, titling: bool = True) -> bool:
    """The CRM holds `remote` as a one-day activity with an "(until …)" title (R4).

    `titling` is False for a pair born in the CRM: the title form is for multi-day
    items from the remote, and an item the CRM created keeps its own title and span.
    """
    return titling and settings.multiday == "title" and remote.is_multiday


def _single_day(remote: Event) -> tuple[datetime | date, datetime | date]:
    """The CRM activity's span for a multi-day remote item: its start date only."""
    if remote.all_day:
        assert not isinstance(remote.start, datetime)
        return remote.start, remote.start + timedelta(days=1)
    assert isinstance(remote.start, datetime) and isinstance(remote.end, datetime)
    end_local = remote.end.astimezone(remote.start.tzinfo)
    same_day_end = datetime.combine(remote.start.date(), end_local.timetz())
    if same_day_end <= remote.start:
        # ends earlier in its day than it starts: run to midnight
        same_day_end = datetime.combine(
            remote.start.date() + timedelta(days=1), time(0), tzinfo=remote.start.tzinfo
        )
    return remote.start, same_day_end


def is_private_for(side: Side, event: Event) -> bool:
    """R5: CRM activities marked personal (any non-normal privacy) and remote items
    with sensitivity personal, private or confidential."""
    return event.is_private


def _reminder(source: Event, base: Event | None, settings: Settings) -> int | None:
    if settings.reminders == "sync":
        return source.reminder
    if base is not None:
        return base.reminder  # policy keeps the copy's own reminder
    return settings.reminder_minutes  # off → None, minutes:N → N


def desired(
    source: Event,
    source_side: Side,
    base: Event | None,
    settings: Settings,
    *,
    titling: bool = True,
) -> Event:
    """The full version of `source` as the other side should hold it.

    `base` is the other side's current version (None when creating the copy);
    `titling` is False for a pair born in the CRM (see `titled`).
    """
    uid = base.uid if base is not None else source.uid
    rid = base.recurrence_id if base is not None else source.recurrence_id
    if base is None and source_side == "crm" and rid is not None:
        # items created from the CRM never become recurring: an occurrence that has
        # to be re-created remotely (edit beats delete, a restore) becomes a single
        # item whose UID is the pair key, so a crash between the write and the state
        # update still pairs it by UID on the next run (no duplicate)
        uid, rid = detached_uid(uid, rid), None
    reminder = _reminder(source, base, settings)
    if source_side == "remote":
        subject = source.subject
        start, end = source.start, source.end
        if titled(source, settings, titling=titling):
            subject = f"{strip_suffix(source.subject)} (until {last_date(source).isoformat()})"
            start, end = _single_day(source)
        return source.replace(
            uid=uid, recurrence_id=rid, subject=subject, start=start, end=end, reminder=reminder
        )
    # CRM → remote: a titled pair keeps the remote's span; the suffix never travels back
    if base is not None and titled(base, settings, titling=titling):
        start, end, all_day = source.start, source.end, source.all_day
        if source.all_day == base.all_day:
            start = source.start
            end = source.start + (base.end - base.start)  # type: ignore[operator]
        return source.replace(
            uid=uid,
            recurrence_id=rid,
            subject=strip_suffix(source.subject),
            start=start,
            end=end,
            all_day=all_day,
            reminder=reminder,
        )
    return source.replace(uid=uid, recurrence_id=rid, reminder=reminder)


def detached_uid(uid: str, recurrence_id: str) -> str:
    """The UID of the single item that stands in for one occurrence (= its pair key)."""
    return f"{uid}#{recurrence_id}"


def clash_uid(uid: str, remote_id: str) -> str:
    """The CRM copy's UID for a remote item whose UID another remote item already has.

    Made from the remote item's own id, so it is the same on every run: a crash between
    the write and the state update still pairs the copy by UID on the next run.
    """
    return f"{uid}@{remote_id}"


def changed_fields(a: Event, b: Event) -> set[str]:
    fields = {f for f in CONTENT_FIELDS if getattr(a, f) != getattr(b, f)}
    if fields & set(TIME_FIELDS):
        fields |= set(TIME_FIELDS)  # start/end/all-day only travel together
    return fields


def propagate(
    new: Event,
    old: Event | None,
    source_side: Side,
    target: Event,
    settings: Settings,
    now: datetime,
    *,
    titling: bool = True,
) -> Event | None:
    """The target's new version after `old` → `new` on the source side, or None when
    the target needs no write. With `old` None every differing field travels (a
    conflict winner overrides the loser whole)."""
    want = desired(new, source_side, target, settings, titling=titling)
    if old is None:
        fields = changed_fields(want, target)
    else:
        before = desired(old, source_side, target, settings, titling=titling)
        fields = changed_fields(want, before) & changed_fields(want, target)
    if not fields:
        return None
    result = target.replace(**{f: getattr(want, f) for f in fields}, last_modified=stamp(now))
    if not changed_fields(result, target):
        return None
    return result


def equivalent(crm: Event, remote: Event, settings: Settings) -> bool:
    """The CRM item is already what the remote item's copy would be."""
    want = desired(remote, "remote", crm, settings)
    return not changed_fields(want, crm)


def new_copy(source: Event, source_side: Side, settings: Settings, now: datetime) -> Event:
    return desired(source, source_side, None, settings).replace(last_modified=stamp(now))


def stamp(now: datetime) -> datetime:
    """The last-modified time calsync gives what it writes at `now`."""
    return now.astimezone(UTC).replace(microsecond=0)


def match_key(crm: Event) -> tuple[str, str, str]:
    """Initialization's second matching rule: start + end + normalized subject."""
    subject = " ".join(strip_suffix(crm.subject).casefold().split())
    return (crm.start_utc.isoformat(), as_utc(crm.end).isoformat(), subject)
