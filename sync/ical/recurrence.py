"""Recurring series kept in one iCalendar resource, seen as one item per occurrence.

A CRM calendar holds single activities, so a series (a master VEVENT with
RRULE/RDATE/EXDATE plus RECURRENCE-ID overrides, all in one file or CalDAV
resource) is listed as its occurrences inside the window. Each is its own item:

* id: the resource's id + "#" + the occurrence's original start in UTC
  (`abc.ics#20261201T090000Z`, all-day `abc.ics#20261201`);
* etag: the resource's etag, shared by every occurrence. The engine counts an
  item as changed only when its etag *and* content hash changed, so an edit of
  one occurrence leaves the others unchanged;
* event: uid = the series UID, recurrence_id = the original start (UTC ISO, or
  a date), every other field the occurrence's own.

Expansion is `recurring-ical-events` (RRULE, RDATE, EXDATE, overrides, and the
wall-clock time of the series' own zone across daylight-saving changes), not
hand-written rule logic. Writes go back into the same resource: an edit becomes
(or changes) an override component, a deletion an EXDATE on the master.

An occurrence is looked up by its recurrence id independently of any window,
so an occurrence that merely left the window is still found (R2) and one the
series no longer produces is confirmed gone. Real files (tests/data/corpus/recurrence)
and how they are read: see `Series`.

Occurrence ids and the cheap checks live in `sync.ical.occurrence_ids` (re-exported
here). This module imports icalendar and the codec's object-model half only inside
the functions that parse or write a series: a no-change sync imports this module
(the providers name `Series`) but never parses one, and the import cost a cron run
~0.05-0.08 s of CPU (issue 21.10).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sync.ical.occurrence_ids import (
    MAX_OCCURRENCES,
    OVERRIDES_ONLY,
    detach,
    mark,
    max_occurrences,
    might_be_series,
    occurrence_id,
    split_id,
)
from sync.ical.vocabulary import recurrence_key, recurrence_value
from sync.model import Event
from sync.providers.base import ItemNotFound, MalformedItem, Window

if TYPE_CHECKING:
    import icalendar

    from sync.ical.timezones import ZoneLookup

__all__ = [
    "MAX_OCCURRENCES",
    "OVERRIDES_ONLY",
    "Series",
    "detach",
    "exclude",
    "mark",
    "max_occurrences",
    "might_be_series",
    "occurrence_id",
    "override",
    "split_id",
]

_RULE_PROPS = ("RRULE", "RDATE", "EXDATE", "EXRULE")
#: the first expansion span; each next one doubles (see `Series.occurrences`)
_FIRST_SPAN = timedelta(hours=1)


# -- reading ------------------------------------------------------------------------------


class Series:
    """One resource's recurring series. Writes parse their own copy (see `override`).

    `master` is None for a resource holding only overrides (khal, Google invitations):
    those are its occurrences. Times with a known TZID expand in zoneinfo, never via
    the file's VTIMEZONE (Exchange's run from 1601: seconds per series); RFC 7529 rules
    as `sync.ical.rscale` allows; an edited override keeps its RECURRENCE-ID form.
    """

    def __init__(
        self, cal: icalendar.Calendar, master: icalendar.cal.Component | None, item_id: str
    ):
        from sync.ical.load import vevents
        from sync.ical.timezones import ZoneLookup

        self.cal = cal
        self.master = master
        self.item_id = item_id
        self.zones: ZoneLookup = ZoneLookup(cal, item_id)
        first = master if master is not None else vevents(cal)[0]
        self.uid = str(first.get("UID", ""))
        self._expander: icalendar.Calendar | None = None

    @classmethod
    def parse(cls, data: bytes | str, item_id: str) -> Series | None:
        """The series in `data`, or None when it holds a single event (MalformedItem on junk)."""
        if not might_be_series(data):
            return None
        from sync.ical.full_read import is_series_master
        from sync.ical.load import load_calendar, vevents

        cal = load_calendar(data, item_id)
        events = vevents(cal)
        masters = [c for c in events if "RECURRENCE-ID" not in c]
        if masters:
            return cls(cal, masters[0], item_id) if is_series_master(masters[0]) else None
        if len(events) > 1 or (events and OVERRIDES_ONLY in cal):
            return cls(cal, None, item_id)
        return None

    def _event(self, comp: icalendar.cal.Component) -> Event:
        from sync.ical.full_read import event_from_component

        event = event_from_component(comp, self.zones, self.item_id)
        if event.recurrence_id is None:  # the library marks every occurrence; be sure
            event = event.replace(recurrence_id=recurrence_key(event.start))
        return event

    def _expansion(self) -> icalendar.Calendar:
        """The calendar the expansion library reads: times re-zoned to zoneinfo (a
        VTIMEZONE evaluated by its own rules from 1601 cost seconds per series), and
        Gregorian RFC 7529 rules as plain rules. Written text is never made from it."""
        if self._expander is None:
            from sync.ical.rscale import plain_rules
            from sync.ical.timezones import expandable

            self._expander = expandable(plain_rules(self.cal, self.item_id), self.zones)
        return self._expander

    def forget_expansion(self) -> None:
        """After a change to `cal`: the next expansion reads it afresh."""
        self._expander = None

    def _query(self, cal: icalendar.Calendar, start: Any, end: Any) -> list[Any]:
        import recurring_ical_events  # type: ignore[import-untyped]  # 50 ms: only for series

        try:
            return list(recurring_ical_events.of(cal).between(start, end))
        except MalformedItem:
            raise
        except Exception as exc:  # a rule the library cannot expand
            raise MalformedItem(self.item_id, f"unreadable recurrence: {exc}") from exc

    def occurrences(self, window: Window, cap: int) -> tuple[list[Event], bool]:
        """The occurrences starting in `window`, earliest first, at most `cap`;
        the flag says some were left out.

        Kept by original start, not where an edit moved one: moving the 2nd past the
        cap's edge must not let the next one in. The rule is expanded over spans that
        double from the window's start until `cap` unmodified occurrences are found:
        a rule every minute costs about `cap` of them, a daily one a few library calls.
        """
        overrides = {rid: self._event(c) for rid, c in self.overrides().items()}
        moved = [e for e in overrides.values() if window.contains(e)]
        plain: dict[str, Event] = {}
        if self.master is not None:
            cal = self._expansion()
            start, span = window.start, _FIRST_SPAN
            while start < window.end and len(plain) <= cap:
                end = min(start + span, window.end)
                for comp in self._query(cal, start, end):
                    event = self._event(comp)
                    rid = event.recurrence_id
                    assert rid is not None
                    if rid not in overrides and window.contains(event):
                        plain.setdefault(rid, event)
                start, span = end, span * 2
        kept = sorted([*plain.values(), *moved], key=_original_start)
        capped = len(kept) > cap
        return sorted(kept[:cap], key=lambda e: (e.start_utc, _original_start(e))), capped

    def overrides(self) -> dict[str, icalendar.cal.Component]:
        from sync.ical.full_read import read_time
        from sync.ical.load import vevents

        out: dict[str, icalendar.cal.Component] = {}
        for comp in vevents(self.cal):
            value = read_time(comp, "RECURRENCE-ID", self.zones, self.item_id)
            if value is not None:
                out[recurrence_key(value)] = comp
        return out

    def _master_only(self) -> icalendar.Calendar:
        # the calendar's properties too: X-WR-TIMEZONE decides where a UTC rule
        # repeats, so listing and lookup must both see it (issue 21)
        import icalendar

        from sync.ical.load import vevents

        cal = icalendar.Calendar()
        source = self._expansion()
        for name, value in source.items():
            cal[name] = value
        for comp in source.subcomponents:
            if comp.name == "VTIMEZONE":
                cal.add_component(comp)
        masters = [c for c in vevents(source) if "RECURRENCE-ID" not in c]
        cal.add_component(masters[0])
        return cal

    def in_rule(self, recurrence_id: str) -> Event | None:
        """The unmodified occurrence the rule makes at `recurrence_id`, if it makes one."""
        if self.master is None:
            return None  # overrides only: no rule makes anything
        value = recurrence_value(recurrence_id)
        step = timedelta(seconds=1) if isinstance(value, datetime) else timedelta(days=1)
        for comp in self._query(self._master_only(), value, value + step):
            event = self._event(comp)
            if event.recurrence_id == recurrence_id:
                return event
        return None

    def occurrence(self, recurrence_id: str) -> Event | None:
        """The occurrence with this original start, wherever it lies; None if the series
        no longer has it (excluded, or the rule changed)."""
        comp = self.overrides().get(recurrence_id)
        if comp is not None:
            return self._event(comp)
        return self.in_rule(recurrence_id)

    def is_empty(self) -> bool:
        import recurring_ical_events  # type: ignore[import-untyped]

        from sync.ical.load import vevents

        if self.master is None:
            return not vevents(self.cal)
        try:
            first = next(iter(recurring_ical_events.of(self._expansion()).all()), None)
        except Exception:
            return False  # unsure: keep the resource
        return first is None

    def master_form(self, recurrence_id: str) -> tuple[datetime | date, dict[str, str]]:
        """A recurrence id as the master's DTSTART spells times (RFC 5545 3.8.4.4):
        local time with its TZID, UTC, floating, or a date."""
        value = recurrence_value(recurrence_id)
        prop = self.master.get("DTSTART") if self.master is not None else None
        start = getattr(prop, "dt", None)
        if not isinstance(value, datetime):
            return value, {}
        if prop is None:
            return value, {}  # no master: UTC, exact
        if not isinstance(start, datetime):
            return value.date(), {}
        tzid = prop.params.get("TZID")
        if tzid:
            return value.astimezone(self.zones(str(tzid))).replace(tzinfo=None), {"TZID": str(tzid)}
        if start.tzinfo is None:  # floating, in the zone sync.ical reads it in
            return value.astimezone(self.zones.floating).replace(tzinfo=None), {}
        return value, {}


def _original_start(event: Event) -> datetime:
    rid = recurrence_value(event.recurrence_id or "")
    if isinstance(rid, datetime):
        return rid
    return datetime(rid.year, rid.month, rid.day, tzinfo=UTC)


# -- writing ------------------------------------------------------------------------------


def _series(base: bytes | str, item_id: str) -> Series:
    series = Series.parse(base, item_id)
    if series is None:
        raise ItemNotFound(item_id)  # no longer a series: the occurrence is gone
    return series


def override(base: bytes | str, item_id: str, event: Event) -> bytes:
    """`base` with the occurrence `event.recurrence_id` changed to `event` (an exception)."""
    import icalendar

    from sync.ical.full_write import finish_calendar, write_component

    rid = event.recurrence_id
    assert rid is not None
    series = _series(base, item_id)
    if series.occurrence(rid) is None:
        raise ItemNotFound(item_id)
    comp = series.overrides().get(rid)
    existing = comp is not None
    if comp is None:
        assert series.master is not None  # without a master every occurrence is an override
        # start from the master so properties calsync does not map (attendees,
        # categories, alarms) stay as the series has them
        comp = icalendar.Event.from_ical(series.master.to_ical())
        for name in (*_RULE_PROPS, "RECURRENCE-ID"):
            comp.pop(name, None)
        series.cal.add_component(comp)
    write_component(comp, event.replace(uid=series.uid or event.uid), series.zones)
    if not existing:
        # an existing override keeps its RECURRENCE-ID as written: RANGE included, and
        # Google's DATE-TIME ids in all-day series (rewritten as a DATE it would be
        # another occurrence)
        value, params = series.master_form(rid)
        comp.pop("RECURRENCE-ID", None)
        comp.add("RECURRENCE-ID", value, parameters=params)
    return finish_calendar(series.cal, [event.start, event.end])


def exclude(base: bytes | str, item_id: str, recurrence_id: str) -> bytes | None:
    """`base` without that occurrence (EXDATE, override dropped); None when the series
    has no occurrence left, so the whole resource can go."""
    from sync.ical.full_read import read_time
    from sync.ical.full_write import finish_calendar

    series = _series(base, item_id)
    if series.occurrence(recurrence_id) is None:
        raise ItemNotFound(item_id)
    drop = series.overrides().get(recurrence_id)
    if drop is not None:
        series.cal.subcomponents = [c for c in series.cal.subcomponents if c is not drop]
    series.forget_expansion()
    if series.master is None:
        # overrides only: the occurrence is its component, and dropping it is enough; the
        # mark keeps a last one an occurrence (one override alone reads as a single item)
        if series.is_empty():
            return None
        series.cal.pop(OVERRIDES_ONLY, None)
        series.cal.add(OVERRIDES_ONLY, "TRUE")
        return finish_calendar(series.cal, [])
    value, params = series.master_form(recurrence_id)
    series.master.add("EXDATE", value, parameters=params)
    if series.is_empty():
        return None
    start = read_time(series.master, "DTSTART", series.zones, item_id)
    return finish_calendar(series.cal, [start] if start is not None else [])
