"""Recurring series with a real CalDAV server (Radicale) as the remote.

The series are PUT as whole resources, as a calendar app writes them; calsync's
own writes (overrides, EXDATEs) go into the same resource with If-Match.
"""

from __future__ import annotations

import tomllib
from datetime import UTC
from pathlib import Path

import pytest
import requests

from sync.ical.recurrence import mark
from sync.providers.base import Window
from sync.providers.dav.provider import CalDAVProvider
from tests.engine.harness import Env
from tests.providers.dav.dav_front import dav_front
from tests.recurring import scenarios
from tests.recurring.scenarios import Case
from tests.recurring.series import AROUND, ICalRemote, SeriesSpec, local, rid_of, today

PASSWORD_ENV = "CALSYNC_E2E_CALDAV_PASSWORD"
CONFIG = f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 20\n'


def caldav_remote(calendar_url: str) -> ICalRemote:
    auth = ("calsync", "x")

    def put(name: str, text: str) -> None:
        r = requests.put(
            calendar_url + name,
            data=text.encode(),
            headers={"Content-Type": "text/calendar; charset=utf-8"},
            auth=auth,
            timeout=10,
        )
        assert r.status_code in (201, 204), r.status_code

    def drop(name: str) -> None:
        r = requests.delete(calendar_url + name, auth=auth, timeout=10)
        assert r.status_code in (200, 204), r.status_code

    return ICalRemote(put, drop)


@pytest.fixture
def case(tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch) -> Case:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    env = Env(tmp_path, remote_url=f"caldav:{radicale_calendar}", config_text=CONFIG)
    env.add_user()
    return Case(env, caldav_remote(radicale_calendar))


test_weekly_series_with_two_exceptions_and_an_exdate = (
    scenarios.test_weekly_series_with_two_exceptions_and_an_exdate
)
test_series_across_a_dst_change_keeps_the_wall_clock_time = (
    scenarios.test_series_across_a_dst_change_keeps_the_wall_clock_time
)
test_all_day_yearly_series = scenarios.test_all_day_yearly_series
test_crm_edits_and_deletes_single_occurrences = (
    scenarios.test_crm_edits_and_deletes_single_occurrences
)
test_remote_rule_change_updates_survivors_and_trashes_the_rest = (
    scenarios.test_remote_rule_change_updates_survivors_and_trashes_the_rest
)
test_remote_series_deleted_then_one_occurrence_restored = (
    scenarios.test_remote_series_deleted_then_one_occurrence_restored
)
test_crm_edit_wins_over_a_remote_occurrence_deletion = (
    scenarios.test_crm_edit_wins_over_a_remote_occurrence_deletion
)


# -- the provider on its own ---------------------------------------------------------------------


def _series_spec(count: int = 6) -> SeriesSpec:
    from datetime import timedelta

    return SeriesSpec(
        "p-1", "Standup", local(today() + timedelta(days=2)), timedelta(hours=1), count=count
    )


def _open(url: str, table: str = "") -> CalDAVProvider:
    settings = tomllib.loads(CONFIG + table)
    return CalDAVProvider(f"caldav:{url}", settings=settings)


def test_occurrence_lookup_ignores_the_window_and_confirms_removed_ones(
    radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    spec = _series_spec()
    remote = caldav_remote(radicale_calendar)
    remote.add(spec)
    with _open(radicale_calendar) as p:
        listing = p.list_window(AROUND, {})
        assert sorted(listing.etags) == sorted(f"p-1.ics#{mark(rid_of(s))}" for s in spec.starts())
        assert len(set(listing.etags.values())) == 1  # one resource, one etag
    last = f"p-1.ics#{mark(rid_of(spec.starts()[-1]))}"
    narrow = Window(AROUND.start, spec.starts()[1].astimezone(UTC))
    with _open(radicale_calendar) as p:
        assert last not in p.list_window(narrow, {}).etags
        found = p.fetch([last, "p-1.ics"])
        # outside the window but still in the series: present; the plain resource id
        # names no item (its occurrences are the items)
        assert list(found) == [last]
    spec.count = 3
    remote.change(spec)
    with _open(radicale_calendar) as p:
        assert p.fetch([last]) == {}


def test_cap_per_series_with_a_warning(
    radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    caldav_remote(radicale_calendar).add(_series_spec(count=10))
    with _open(radicale_calendar, "max_occurrences = 4\n") as p:
        listing = p.list_window(AROUND, {})
    assert len(listing.etags) == 4
    assert listing.warnings and "p-1" in listing.warnings[0] and "4" in listing.warnings[0]


def test_series_listed_by_time_range_query_when_sync_is_refused(
    radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    spec = _series_spec()
    caldav_remote(radicale_calendar).add(spec)
    with dav_front(radicale_calendar, refuse_sync=507) as front, _open(front.calendar_url) as p:
        cache: dict[str, object] = {}
        listing = p.list_window(AROUND, cache)
        assert cache["mode"] == "query"
        assert len(listing.etags) == len(spec.starts())
        ids = sorted(listing.etags)
        got = p.fetch(ids)
        assert {i.event.recurrence_id for i in got.values()} == {rid_of(s) for s in spec.starts()}  # type: ignore[union-attr]


def test_no_change_sync_with_a_series_is_one_request(
    tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    caldav_remote(radicale_calendar).add(_series_spec())
    with dav_front(radicale_calendar) as front:
        env = Env(tmp_path, remote_url=f"caldav:{front.calendar_url}", config_text=CONFIG)
        env.add_user()
        assert env.init().result == "ok"
        assert env.sync().result == "ok"
        before = len(front.seen)
        r = env.sync()
        assert r.result == "ok" and all(v == 0 for c in r.counts.values() for v in c.values())
        assert [s.method for s in front.seen[before:]] == ["PROPFIND"]
