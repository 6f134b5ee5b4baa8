"""The contract every calendar provider passes (issue 2, item 6).

A provider's test module subclasses `ProviderContract` and supplies fixtures:

* ``provider`` (required, function-scoped): a `Provider` on a fresh, empty calendar.
* ``inject_raw`` (optional): ``callable(raw: bytes) -> item id`` that stores raw
  calendar data unchecked, for providers that can hold arbitrary text. Without it
  the malformed-item tests are skipped.

Class attributes tune what a provider cannot do:

* ``window_exact``: False for providers whose listing may also return items that
  start before the window but overlap it (a CalDAV time-range query does); the
  engine filters on start itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from sync.model import Event, Privacy, ShowAs
from sync.providers.base import (
    BrokenItem,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    NotifyRefused,
    Provider,
    Window,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))

MALFORMED_RAW = {
    "garbage": b"this is not a calendar at all\n",
    "no dtstart": (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:broken-no-dtstart\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
    "unknown tzid": (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:broken-tz\r\nDTSTART;TZID=Mars/Olympus_Mons:20260302T090000\r\n"
        b"SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
}


def new_uid() -> str:
    # unique per run: some servers remember deleted UIDs
    return f"calsync-contract-{uuid.uuid4()}"


def make_event(**fields: Any) -> Event:
    values: dict[str, Any] = {
        "uid": new_uid(),
        "subject": "Contract test",
        "start": datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM),
        "end": datetime(2026, 3, 2, 10, 30, tzinfo=STOCKHOLM),
    }
    values.update(fields)
    return Event(**values)


def synced(event: Event) -> Event:
    """The event minus what a provider owns (its modification time)."""
    return event.replace(last_modified=None)


class ProviderContract:
    window_exact: ClassVar[bool] = True

    # -- helpers ------------------------------------------------------------------------

    def _inject(self, request: pytest.FixtureRequest) -> Callable[[bytes], str]:
        try:
            inject: Callable[[bytes], str] = request.getfixturevalue("inject_raw")
        except pytest.FixtureLookupError:
            pytest.skip("this provider cannot store raw data (no inject_raw fixture)")
        return inject

    def _roundtrip(self, provider: Provider, event: Event) -> Event:
        created = provider.create(event)
        assert synced(created.event) == synced(event)
        fetched = provider.fetch([created.id])[created.id]
        assert isinstance(fetched, Item), fetched
        assert fetched.etag == created.etag
        assert synced(fetched.event) == synced(event)
        return fetched.event

    # -- basic life cycle -------------------------------------------------------------

    def test_fresh_calendar_is_empty(self, provider: Provider) -> None:
        listing = provider.list_window(WINDOW, {})
        assert listing.etags == {}
        assert listing.broken == {}

    def test_create_list_fetch(self, provider: Provider) -> None:
        event = make_event()
        item = provider.create(event)
        assert item.id and item.etag
        assert item.event.uid == event.uid

        listing = provider.list_window(WINDOW, {})
        assert listing.etags == {item.id: item.etag}
        fetched = provider.fetch([item.id])
        assert list(fetched) == [item.id]
        got = fetched[item.id]
        assert isinstance(got, Item)
        assert synced(got.event) == synced(event)

    def test_update_changes_content_and_etag(self, provider: Provider) -> None:
        item = provider.create(make_event())
        changed = item.event.replace(subject="Moved", location="Room 2")
        updated = provider.update(item.id, item.etag, changed)
        assert updated.id == item.id
        assert updated.etag != item.etag
        assert synced(updated.event) == synced(changed)

        assert provider.list_window(WINDOW, {}).etags == {item.id: updated.etag}
        got = provider.fetch([item.id])[item.id]
        assert isinstance(got, Item)
        assert got.etag == updated.etag
        assert synced(got.event) == synced(changed)

    def test_repeated_updates_each_change_the_etag(self, provider: Provider) -> None:
        item = provider.create(make_event(subject="A"))
        seen = {item.etag}
        for subject in "BCDE":  # same size every time: the etag must still move
            item = provider.update(item.id, item.etag, item.event.replace(subject=subject))
            assert item.etag not in seen
            seen.add(item.etag)

    def test_delete(self, provider: Provider) -> None:
        keep = provider.create(make_event(subject="keep"))
        gone = provider.create(make_event(subject="gone"))
        provider.delete(gone.id, gone.etag)
        assert provider.list_window(WINDOW, {}).etags == {keep.id: keep.etag}
        assert provider.fetch([gone.id, keep.id]).keys() == {keep.id}

    def test_create_many(self, provider: Provider) -> None:
        first, second = make_event(subject="one"), make_event(subject="two")
        results = provider.create_many([first, second, first])
        assert isinstance(results[0], Item) and isinstance(results[1], Item)
        assert isinstance(results[2], ItemRefused)
        assert len(provider.list_window(WINDOW, {}).etags) == 2

    # -- the window (SPEC R2: start in [window.start, window.end)) ----------------------

    def test_window_edges(self, provider: Provider) -> None:
        at_start = provider.create(
            make_event(
                subject="at start", start=WINDOW.start, end=WINDOW.start + timedelta(hours=1)
            )
        )
        at_end = provider.create(
            make_event(subject="at end", start=WINDOW.end, end=WINDOW.end + timedelta(hours=1))
        )
        just_before_end = provider.create(
            make_event(
                subject="last second",
                start=WINDOW.end - timedelta(seconds=1),
                end=WINDOW.end + timedelta(hours=1),
            )
        )
        overlapping = provider.create(
            make_event(
                subject="overlaps start",
                start=WINDOW.start - timedelta(hours=1),
                end=WINDOW.start + timedelta(hours=1),
            )
        )
        long_before = provider.create(
            make_event(
                subject="before",
                start=WINDOW.start - timedelta(days=30),
                end=WINDOW.start - timedelta(days=29),
            )
        )
        listed = provider.list_window(WINDOW, {}).etags
        assert at_start.id in listed
        assert just_before_end.id in listed
        assert at_end.id not in listed
        assert long_before.id not in listed
        if self.window_exact:
            assert overlapping.id not in listed
        # outside the window is not gone: fetch still finds them
        assert provider.fetch([at_end.id, long_before.id]).keys() == {at_end.id, long_before.id}

    def test_all_day_item_on_the_window_start_date_is_listed(self, provider: Provider) -> None:
        day = WINDOW.start.date()
        item = provider.create(make_event(start=day, end=day + timedelta(days=1), all_day=True))
        assert item.id in provider.list_window(WINDOW, {}).etags

    def test_listing_with_a_reused_cache_follows_changes(self, provider: Provider) -> None:
        cache: dict[str, Any] = {}
        a = provider.create(make_event(subject="a"))
        b = provider.create(make_event(subject="b"))
        assert provider.list_window(WINDOW, cache).etags == {a.id: a.etag, b.id: b.etag}
        a2 = provider.update(
            a.id,
            a.etag,
            a.event.replace(
                start=WINDOW.end + timedelta(days=1), end=WINDOW.end + timedelta(days=2)
            ),
        )
        provider.delete(b.id, b.etag)
        c = provider.create(make_event(subject="c"))
        assert provider.list_window(WINDOW, cache).etags == {c.id: c.etag}
        a3 = provider.update(
            a.id,
            a2.etag,
            a2.event.replace(start=WINDOW.start, end=WINDOW.start + timedelta(hours=1)),
        )
        assert provider.list_window(WINDOW, cache).etags == {a.id: a3.etag, c.id: c.etag}

    # -- optimistic concurrency ------------------------------------------------------------

    def test_update_with_stale_etag_is_refused(self, provider: Provider) -> None:
        item = provider.create(make_event(subject="v1"))
        v2 = provider.update(item.id, item.etag, item.event.replace(subject="v2"))
        with pytest.raises(EtagMismatch) as info:
            provider.update(item.id, item.etag, item.event.replace(subject="v3"))
        assert info.value.item_id == item.id
        got = provider.fetch([item.id])[item.id]
        assert isinstance(got, Item)
        assert got.etag == v2.etag and got.event.subject == "v2"

    def test_delete_with_stale_etag_is_refused(self, provider: Provider) -> None:
        item = provider.create(make_event(subject="v1"))
        v2 = provider.update(item.id, item.etag, item.event.replace(subject="v2"))
        with pytest.raises(EtagMismatch):
            provider.delete(item.id, item.etag)
        assert provider.list_window(WINDOW, {}).etags == {item.id: v2.etag}

    def test_delete_of_a_missing_item(self, provider: Provider) -> None:
        item = provider.create(make_event())
        provider.delete(item.id, item.etag)
        with pytest.raises(ItemNotFound) as info:
            provider.delete(item.id, item.etag)
        assert info.value.item_id == item.id

    def test_update_of_a_missing_item(self, provider: Provider) -> None:
        item = provider.create(make_event())
        provider.delete(item.id, item.etag)
        # a server may only be able to say "precondition failed"
        with pytest.raises((ItemNotFound, EtagMismatch)):
            provider.update(item.id, item.etag, item.event)
        assert provider.fetch([item.id]) == {}

    def test_fetch_of_unknown_ids_is_absent(self, provider: Provider) -> None:
        item = provider.create(make_event())
        unknown = ["does-not-exist.ics", "no-such-item", "../outside.ics", ""]
        assert provider.fetch([*unknown, item.id]).keys() == {item.id}
        assert provider.fetch([]) == {}

    def test_duplicate_uid_is_refused(self, provider: Provider) -> None:
        event = make_event()
        provider.create(event)
        with pytest.raises(ItemRefused) as info:
            provider.create(event.replace(subject="again"))
        assert info.value.item_id
        assert len(provider.list_window(WINDOW, {}).etags) == 1

    # -- never notify attendees ------------------------------------------------------------

    def test_notify_is_refused(self, provider: Provider) -> None:
        with pytest.raises(NotifyRefused):
            provider.create(make_event(), notify=True)
        assert provider.list_window(WINDOW, {}).etags == {}
        item = provider.create(make_event())
        with pytest.raises(NotifyRefused):
            provider.update(item.id, item.etag, item.event.replace(subject="x"), notify=True)
        with pytest.raises(NotifyRefused):
            provider.delete(item.id, item.etag, notify=True)
        got = provider.fetch([item.id])[item.id]
        assert isinstance(got, Item) and got.etag == item.etag

    # -- identity -------------------------------------------------------------------------

    def test_identity_is_stable(self, provider: Provider) -> None:
        first = provider.identity()
        assert isinstance(first, str) and first
        provider.create(make_event())
        assert provider.identity() == first
        again = type(provider)(provider.url, settings=provider.settings)
        try:
            assert again.identity() == first
        finally:
            again.close()

    # -- every field round-trips -------------------------------------------------------------

    def test_every_show_as_value(self, provider: Provider) -> None:
        for show_as in sorted(provider.capabilities.show_as):
            self._roundtrip(provider, make_event(show_as=show_as, subject=f"show {show_as}"))

    def test_every_privacy_value(self, provider: Provider) -> None:
        for privacy in sorted(provider.capabilities.privacy):
            self._roundtrip(provider, make_event(privacy=privacy, subject=f"privacy {privacy}"))

    @pytest.mark.parametrize("reminder", [None, 0, 15, 1440])
    def test_reminders(self, provider: Provider, reminder: int | None) -> None:
        if reminder is not None and not provider.capabilities.reminders:
            pytest.skip("provider holds no reminders")
        self._roundtrip(provider, make_event(reminder=reminder))

    def test_all_day_single_and_multi_day(self, provider: Provider) -> None:
        one = make_event(start=date(2026, 5, 1), end=date(2026, 5, 2), all_day=True)
        assert self._roundtrip(provider, one).all_day
        if provider.capabilities.multiday:
            many = make_event(start=date(2026, 5, 4), end=date(2026, 5, 8), all_day=True)
            got = self._roundtrip(provider, many)
            assert got.is_multiday and got.end == date(2026, 5, 8)

    def test_timed_multi_day(self, provider: Provider) -> None:
        if not provider.capabilities.multiday:
            pytest.skip("provider holds no multi-day items")
        event = make_event(
            start=datetime(2026, 6, 1, 8, tzinfo=STOCKHOLM),
            end=datetime(2026, 6, 3, 17, tzinfo=STOCKHOLM),
        )
        assert self._roundtrip(provider, event).is_multiday

    @pytest.mark.parametrize("zone", [STOCKHOLM, NEW_YORK, UTC], ids=str)
    def test_time_zones(self, provider: Provider, zone: Any) -> None:
        # across a DST change in both zones (Europe: 29 March, US: 8 March)
        event = make_event(
            start=datetime(2026, 3, 7, 23, 30, tzinfo=zone),
            end=datetime(2026, 3, 29, 4, 0, tzinfo=zone),
        )
        got = self._roundtrip(provider, event)
        assert got.start_utc == event.start_utc

    def test_mixed_start_and_end_zones(self, provider: Provider) -> None:
        event = make_event(
            start=datetime(2026, 4, 1, 9, tzinfo=STOCKHOLM),
            end=datetime(2026, 4, 1, 9, tzinfo=NEW_YORK),
        )
        self._roundtrip(provider, event)

    def test_all_fields_together(self, provider: Provider) -> None:
        event = make_event(
            subject="Kvartalsmöte",
            location="Göteborg, rum 3; våning 2",
            show_as=ShowAs.TENTATIVE,
            privacy=Privacy.PRIVATE,
            reminder=30,
            text="Agenda:\n1. Siffror\n2. Övrigt, \\N inte en radbrytning",
        )
        self._roundtrip(provider, event)

    def test_unicode_texts(self, provider: Provider) -> None:
        event = make_event(
            subject="Möte med Ærlig Øst 🗓️ — 会議",
            location="Zürich · Straße 5 · Москва",
            text='Ünïcödé ✓\nрусский текст\n日本語のテキスト\n🙂 emoji, "quotes"; semi;colon',
        )
        self._roundtrip(provider, event)

    def test_100_kb_text(self, provider: Provider) -> None:
        line = "Lorem ipsum dolor sit amet, åäö ÅÄÖ — 0123456789.\n"
        text = (line * (100_000 // len(line) + 1))[:100_000]
        self._roundtrip(provider, make_event(text=text))

    # -- malformed items (needs inject_raw) --------------------------------------------------

    @pytest.mark.parametrize("kind", sorted(MALFORMED_RAW))
    def test_malformed_item_is_listed_as_broken(
        self, provider: Provider, request: pytest.FixtureRequest, kind: str
    ) -> None:
        inject = self._inject(request)
        good = provider.create(make_event())
        bad_id = inject(MALFORMED_RAW[kind])
        listing = provider.list_window(WINDOW, {})
        assert listing.etags == {good.id: good.etag}
        assert set(listing.broken) == {bad_id}
        broken = listing.broken[bad_id]
        assert broken.id == bad_id and broken.error
        fetched = provider.fetch([bad_id, good.id])
        assert isinstance(fetched[bad_id], BrokenItem)
        assert isinstance(fetched[good.id], Item)
