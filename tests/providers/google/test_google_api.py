"""The Calendar API provider (`google:`) over real HTTP against the Google test server.

Covers what the provider contract cannot: sync tokens (paging, 410), recurring
series and cancelled instances, meetings calsync must never touch, the mapping of
Google's own fields, delegation subjects, and what an operator reads when Google
refuses. Throttling and token health: test_google_limits.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.model import NOTIFIES_ATTENDEES, Event, Privacy, ShowAs
from sync.providers.base import (
    CalendarNotFound,
    ConfigError,
    Item,
    ItemRefused,
    NotifyRefused,
    Window,
)
from sync.providers.google.caldav import GoogleCalDAVProvider
from sync.providers.google.provider import GoogleProvider
from sync.providers.registry import provider_class, validate_url
from tests.providers.google.server.fixtures import Key, google_server, google_table, service_account
from tests.providers.google.server.server import GoogleTestServer
from tests.providers.google.server.store import Calendar

__all__ = ["google_server", "service_account"]

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0, second=0, minute=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=200))
Opener = Callable[..., GoogleProvider]


@pytest.fixture
def calendar(google_server: GoogleTestServer) -> Calendar:
    return google_server.add_user()


@pytest.fixture
def open_google(
    google_server: GoogleTestServer, service_account: Key, tmp_path: Path
) -> Iterator[Opener]:
    opened: list[GoogleProvider] = []
    mails = len(google_server.mail_sent)

    def make(calendar_id: str, **overrides: Any) -> GoogleProvider:
        table = google_table(google_server, service_account, tmp_path, **overrides)
        provider = GoogleProvider(f"google:{calendar_id}", settings={"google": table})
        opened.append(provider)
        return provider

    yield make
    for provider in opened:
        provider.close()
    assert google_server.mail_sent[mails:] == []


def timed(uid: str, hours: int = 24, **fields: Any) -> Event:
    start = NOW + dt.timedelta(hours=hours)
    return Event(
        uid=uid,
        subject=fields.pop("subject", uid),
        start=start,
        end=start + dt.timedelta(hours=1),
        **fields,
    )


def web(
    google: GoogleTestServer, calendar: Calendar, hours: int = 24, **data: Any
) -> dict[str, Any]:
    """An event made in Google Calendar itself."""
    start = NOW + dt.timedelta(hours=hours)
    body = {
        "summary": "from Google",
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"},
        "end": {
            "dateTime": (start + dt.timedelta(hours=1)).isoformat(),
            "timeZone": "Europe/Stockholm",
        },
        **data,
    }
    return google.api.put_raw(calendar, body)


def test_registry_schemes() -> None:
    assert provider_class("google:anna@example.com") is GoogleProvider
    assert provider_class("google-caldav:anna@example.com") is GoogleCalDAVProvider
    assert validate_url("google: anna@example.com") == "google:anna@example.com"
    with pytest.raises(ConfigError, match="google:CALENDAR_ID"):
        validate_url("google:anna@example.com/events")


def test_missing_table_names_what_to_add() -> None:
    with pytest.raises(ConfigError, match=r"\[google\] table"):
        GoogleProvider("google:anna@example.com", settings={})
    with pytest.raises(ConfigError, match="quota_raised"):
        GoogleProvider("google:a@example.com", settings={"google": {"requests_per_minute": 900}})


def test_sync_token_pages_and_incremental_listing(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    g = open_google(calendar.id, page_size=2)
    made = [g.create(timed(f"p{n}", hours=24 + n)) for n in range(5)]
    cache: dict[str, Any] = {}
    assert g.list_window(WINDOW, cache).etags == {i.id: i.etag for i in made}
    token = cache["sync_token"]
    before = len(google_server.requests)
    assert g.list_window(WINDOW, cache).etags == {i.id: i.etag for i in made}
    # an unchanged calendar costs one request, with the token and no time range
    assert len(google_server.requests) - before == 1
    assert cache["sync_token"] != token
    moved = g.update(made[0].id, made[0].etag, made[0].event.replace(subject="moved"))
    g.delete(made[1].id, made[1].etag)
    listing = g.list_window(WINDOW, cache)
    assert listing.etags[made[0].id] == moved.etag and made[1].id not in listing.etags


def test_expired_sync_token_relists_once(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    g = open_google(calendar.id)
    item = g.create(timed("e1"))
    cache: dict[str, Any] = {}
    g.list_window(WINDOW, cache)
    google_server.expire_sync_tokens()
    gone = g.create(timed("e2"))
    g.delete(gone.id, gone.etag)
    assert g.list_window(WINDOW, cache).etags == {item.id: item.etag}


def test_series_instances_and_cancelled_ones(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    master = web(google_server, calendar, recurrence=["RRULE:FREQ=DAILY;COUNT=4"], summary="Daily")
    g = open_google(calendar.id)
    cache: dict[str, Any] = {}
    listing = g.list_window(WINDOW, cache)
    assert len(listing.etags) == 4 and all(i.startswith(master["id"] + "_") for i in listing.etags)
    got = g.fetch(sorted(listing.etags))
    events = [i.event for i in got.values() if isinstance(i, Item)]
    assert {e.uid for e in events} == {master["iCalUID"]}
    assert len({e.recurrence_id for e in events}) == 4
    first, second, *_ = sorted(got.values(), key=lambda i: i.event.start_utc)  # type: ignore[union-attr]
    assert isinstance(first, Item) and isinstance(second, Item)
    # calsync edits one instance (an exception) and deletes another (cancelled)
    edited = g.update(first.id, first.etag, first.event.replace(subject="Moved once"))
    assert edited.event.recurrence_id == first.event.recurrence_id
    g.delete(second.id, second.etag)
    listing = g.list_window(WINDOW, cache)
    assert second.id not in listing.etags and len(listing.etags) == 3
    # Google's user cancels one more in the web UI: incremental results say cancelled
    third = sorted(listing.etags)[-1]
    google_server.api.delete(calendar, third, {"sendUpdates": "none"}, {})
    assert third not in g.list_window(WINDOW, cache).etags
    # and deleting the whole series takes every instance with it
    google_server.api.delete(calendar, master["id"], {"sendUpdates": "none"}, {})
    assert g.list_window(WINDOW, cache).etags == {}


def test_meetings_are_never_written(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    invitation = web(
        google_server,
        calendar,
        summary="Their meeting",
        organizer={"email": "boss@example.org"},
        attendees=[{"email": calendar.id}, {"email": "boss@example.org", "organizer": True}],
    )
    own = web(
        google_server,
        calendar,
        hours=30,
        summary="My meeting",
        attendees=[{"email": "x@example.org"}],
    )
    g = open_google(calendar.id)
    got = g.fetch([invitation["id"], own["id"]])
    for item in got.values():
        assert isinstance(item, Item) and item.event.notifies_attendees
        with pytest.raises(NotifyRefused):
            g.update(item.id, item.etag, item.event.replace(subject="changed"))
        with pytest.raises(NotifyRefused):
            g.delete(item.id, item.etag)
    assert google_server.meeting_writes == []


def test_google_fields_map_both_ways(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    data = web(
        google_server,
        calendar,
        visibility="private",
        transparency="transparent",
        reminders={"useDefault": True},
        description="<b>Agenda</b><br>one &amp; two",
    )
    ooo = web(google_server, calendar, hours=48, eventType="outOfOffice", visibility="confidential")
    g = open_google(calendar.id)
    got = g.fetch([data["id"], ooo["id"]])
    first, second = got[data["id"]], got[ooo["id"]]
    assert isinstance(first, Item) and isinstance(second, Item)
    assert (first.event.privacy, first.event.show_as, first.event.reminder) == (
        Privacy.PRIVATE,
        ShowAs.FREE,
        None,
    )
    assert first.event.text == "Agenda\none & two"
    assert (second.event.show_as, second.event.privacy) == (ShowAs.OOF, Privacy.CONFIDENTIAL)
    # a CRM edit of the subject keeps Google's default reminders and the HTML description
    g.update(first.id, first.etag, first.event.replace(subject="renamed"))
    stored = calendar.events[data["id"]]
    assert stored["reminders"] == {"useDefault": True}
    assert stored["description"].startswith("<b>Agenda</b>")
    # calsync's own values: all-day as `date`, personal as Google's private + a note
    day = (NOW + dt.timedelta(days=3)).date()
    item = g.create(
        Event(
            uid="allday-1",
            subject="Fair",
            start=day,
            end=day + dt.timedelta(days=2),
            all_day=True,
            privacy=Privacy.PERSONAL,
            show_as=ShowAs.WORKING_ELSEWHERE,
            reminder=15,
        )
    )
    raw = calendar.events[item.id]
    assert raw["start"] == {"date": day.isoformat()} and raw["visibility"] == "private"
    assert raw["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 15}],
    }
    assert raw["iCalUID"] == "allday-1"
    # the note counts only while Google's own field agrees: made public in Google → normal
    google_server.api.patch(
        calendar, item.id, {"sendUpdates": "none"}, {"visibility": "default"}, {}, "PATCH"
    )
    again = open_google(calendar.id).fetch([item.id])  # a later run reads it afresh
    assert (
        isinstance(got2 := next(iter(again.values())), Item)
        and got2.event.privacy is Privacy.NORMAL
    )
    timed_item = g.create(
        timed("zoned", hours=5).replace(
            start=NOW.astimezone(_sthlm()), end=(NOW + dt.timedelta(hours=1)).astimezone(_sthlm())
        )
    )
    assert calendar.events[timed_item.id]["start"]["timeZone"] == "Europe/Stockholm"


def _sthlm() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Stockholm")


def test_group_calendar_needs_a_real_user_as_subject(
    open_google: Opener, google_server: GoogleTestServer
) -> None:
    anna = google_server.add_user()
    group = google_server.add_group_calendar(owner=anna.id, editors=(anna.id,))
    with pytest.raises(ConfigError, match="group calendar"):
        open_google(group.id).identity()
    g = open_google(group.id, subjects={group.id: anna.id})
    assert g.identity() == f"google:{group.id}"
    assert all(ok for _, ok, _ in g.check())
    item = g.create(timed("team-1"))
    assert item.id in group.events


def test_calendar_not_shared_with_the_subject(
    open_google: Opener, google_server: GoogleTestServer
) -> None:
    anna, bob = google_server.add_user(), google_server.add_user()
    g = open_google(anna.id, subject=bob.id)
    with pytest.raises(CalendarNotFound, match="not shared"):
        g.list_window(WINDOW, {})
    anna.access[bob.id] = "reader"
    rows = {name: (ok, detail) for name, ok, detail in open_google(anna.id, subject=bob.id).check()}
    assert rows["calendar writable"][0] is False and "Make changes" in rows["calendar writable"][1]


def test_notifies_flag_is_in_extras(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    meeting = web(google_server, calendar, attendees=[{"email": "x@example.org"}])
    got = open_google(calendar.id).fetch([meeting["id"]])[meeting["id"]]
    assert isinstance(got, Item) and (NOTIFIES_ATTENDEES, "1") in got.event.extras


def test_insert_repeated_after_a_lost_answer_makes_no_duplicate(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    g = open_google(calendar.id)
    google_server.lose_reply.append("POST")
    item = g.create(timed("lost-1"))
    assert list(calendar.events) == [item.id] and item.event.uid == "lost-1"
    # a UID Google already holds is refused as a clash, not taken for a lost answer
    with pytest.raises(ItemRefused) as info:
        g.create(timed("lost-1", subject="again"))
    assert info.value.uid_conflict and len(calendar.events) == 1


def test_timed_to_all_day_and_back(open_google: Opener, calendar: Calendar) -> None:
    g = open_google(calendar.id)
    item = g.create(timed("switch-1"))
    day = (NOW + dt.timedelta(days=4)).date()
    whole = g.update(
        item.id,
        item.etag,
        item.event.replace(start=day, end=day + dt.timedelta(days=1), all_day=True),
    )
    assert calendar.events[item.id]["start"] == {"date": day.isoformat()}
    back = g.update(whole.id, whole.etag, item.event)
    assert back.event.start_utc == item.event.start_utc and not back.event.all_day
    assert "date" not in calendar.events[item.id]["start"]


def test_calendar_name_is_the_summary_the_listing_carries(
    open_google: Opener, calendar: Calendar, google_server: GoogleTestServer
) -> None:
    # a primary calendar is titled with its owner's address, until the owner renames it
    assert open_google(calendar.id).calendar_name() == calendar.id
    calendar.summary = "予定表 [bold]Team[/bold]"
    g = open_google(calendar.id)
    g.list_window(WINDOW, {})
    before = len(google_server.requests)
    assert g.calendar_name() == "予定表 [bold]Team[/bold]"
    assert len(google_server.requests) == before  # no request of its own
