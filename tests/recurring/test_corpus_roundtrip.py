"""Issue 21 through the engine: real exported files on Radicale (one on a folder remote).

Each file (tests/data/corpus, sources in MANIFEST.md) is PUT as the resource a
client's import makes, its dates moved by whole weeks into the sync window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from sync import service
from tests.corpus import lines, moved, text, today, weeks_until
from tests.engine.harness import Env
from tests.recurring.series import assert_mirrored, by_key, crm_edit
from tests.recurring.test_caldav import CONFIG, PASSWORD_ENV

AUTH = ("calsync", "x")


@pytest.fixture
def env(tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    env = Env(tmp_path, remote_url=f"caldav:{radicale_calendar}", config_text=CONFIG)
    env.add_user()
    return env


def _put(url: str, name: str, data: str) -> None:
    r = requests.put(
        url + name,
        data=data.replace("\n", "\r\n").encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        auth=AUTH,
        timeout=10,
    )
    assert r.status_code in (201, 204), r.status_code


def _get(url: str, name: str) -> str:
    r = requests.get(url + name, auth=AUTH, timeout=10)
    assert r.status_code == 200, r.status_code
    return r.text


def test_floating_google_style_item_lands_in_its_zone_and_stays_floating(
    env: Env, radicale_calendar: str
) -> None:
    """Causes 1 and 2: the Brussels 21:00 item is 21:00 Brussels in the CRM, and a
    CRM title edit writes the remote's times back floating, unmoved."""
    data = text("calsync-x-wr-timezone-floating.ics")
    data = moved(data, weeks_until(datetime(2021, 9, 16).date(), today() + timedelta(days=7)))
    _put(radicale_calendar, "brussels.ics", data)
    assert env.init().result == "ok"
    (crm,) = by_key(env, "crm").values()
    remote_start = lines(data, "DTSTART")[0].split(":")[1]
    wall = datetime.strptime(remote_start, "%Y%m%dT%H%M%S")
    assert crm.start.astimezone(UTC) == wall.replace(tzinfo=crm.start.tzinfo).astimezone(UTC)
    assert crm.start.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Brussels

    crm_edit(env, "calsync-floating-match-1", None, subject="Renamed in the CRM")  # type: ignore[arg-type]
    assert env.sync().result == "ok"
    after = _get(radicale_calendar, "brussels.ics")
    assert lines(after, "SUMMARY") == ["SUMMARY:Renamed in the CRM"]
    assert lines(after, "DTSTART") == lines(data, "DTSTART")
    assert lines(after, "DTEND") == lines(data, "DTEND")
    assert_mirrored(env)


def test_google_utc_rule_across_dst_syncs_every_occurrence(
    env: Env, radicale_calendar: str
) -> None:
    """Cause 5: every occurrence listed is fetched, before and after the change. The
    rule repeats forever from its (old) start, so the window holds a DST change.
    (node-ical's biweekly export shows the same at the codec; Radicale refuses its
    date-only EXDATE.)"""
    uid = "38m812jicsrer5gorh3mlp7qhc@google.com"
    _put(radicale_calendar, "google.ics", text("xwr-google-utc-rrule-moved.ics"))
    assert env.init().result == "ok"
    crm = {rid: e for (u, rid), e in by_key(env, "crm").items() if u == uid}
    remote = {rid: e for (u, rid), e in by_key(env, "remote").items() if u == uid}
    assert len(remote) > 4 and set(crm) == set(remote)
    assert len({e.start.utcoffset() for e in remote.values()}) == 2  # across a DST change
    assert_mirrored(env)


def test_exchange_customized_time_zone_series_syncs_at_its_local_time(
    env: Env, radicale_calendar: str
) -> None:
    """Cause 3: the Exchange 2010 series in "Customized Time Zone" reaches the CRM at
    10:35 US Eastern, and a CRM edit of one occurrence syncs (no failure each run)."""
    data = text("nodeical-exchange2010-customized-tz.ics")
    weeks = weeks_until(datetime(2020, 8, 25).date(), today() + timedelta(days=2))
    _put(radicale_calendar, "exchange.ics", moved(data, weeks))
    assert env.init().result == "ok"
    crm = {rid: e for (u, rid), e in by_key(env, "crm").items() if u == "1173422081SZR322"}
    assert crm
    eastern = {e.start_utc.hour for e in crm.values()}
    assert eastern <= {14, 15}  # 10:35 EDT or EST, never 10:35 UTC
    rid = sorted(crm)[1]
    crm_edit(env, "1173422081SZR322", rid, subject="Moved by the CRM")
    assert env.sync().result == "ok"
    assert by_key(env, "remote")[("1173422081SZR322", rid)].subject == "Moved by the CRM"
    assert_mirrored(env)


def _restore(env: Env, entry: dict[str, object]) -> dict[str, object]:
    return service.restore(env.ws, env.config, env.name, str(entry["id"]))


def test_restore_puts_back_an_apple_item_whole(env: Env, radicale_calendar: str) -> None:
    """Causes 13 and 16: an item with Apple's structured location (a Synology
    export), deleted from the CRM and so from the remote, comes back with its
    X-APPLE-STRUCTURED-LOCATION exactly as written, geo:lat\\,lon included."""
    data = text("nodeical-apple-structured-location.ics")
    data = moved(data, weeks_until(datetime(2024, 2, 15).date(), today() + timedelta(days=3)))
    _put(radicale_calendar, "synology.ics", data)
    assert env.init().result == "ok"
    env.remove("crm", "period test2")
    assert env.sync(force=True).result == "ok"
    assert "period test2" not in env.by_subject("remote")
    (entry,) = env.trash()
    assert entry["side"] == "remote" and "X-APPLE-STRUCTURED-LOCATION" in str(entry["raw"])

    done = _restore(env, entry)
    restored = _get(radicale_calendar, str(done["item_id"]))
    (location,) = lines(restored, "X-APPLE-STRUCTURED-LOCATION")
    assert location.endswith(": geo:50.083558\\,8.4693855")
    assert lines(restored, "DURATION") == ["DURATION:PT1H15M"]
    assert env.sync().result == "ok"
    assert_mirrored(env)


def test_restore_of_a_remotely_deleted_multi_day_item_has_its_real_span(
    env: Env, radicale_calendar: str
) -> None:
    """Cause 13: Google's three-day "Busy" deleted on the remote; its CRM copy is the
    one-day "Busy (until …)". The restore gives the remote back "Busy" over three
    days, and the CRM its copy again."""
    data = text("icalevents-google-multiday.ics")
    data = moved(data, weeks_until(datetime(2021, 3, 24).date(), today() + timedelta(days=3)))
    _put(radicale_calendar, "busy.ics", data)
    assert env.init().result == "ok"
    (crm,) = env.items("crm")
    assert crm.event.subject.startswith("Busy (until ")
    r = requests.delete(radicale_calendar + "busy.ics", auth=AUTH, timeout=10)
    assert r.status_code in (200, 204)
    assert env.sync(force=True).result == "ok"
    assert env.items("crm") == []
    (entry,) = env.trash()

    _restore(env, entry)
    assert env.sync().result == "ok"
    (remote,) = env.items("remote")
    assert remote.event.subject == "Busy"
    assert remote.event.end - remote.event.start == timedelta(days=3)  # type: ignore[operator]
    (crm,) = env.items("crm")
    assert crm.event.subject.startswith("Busy (until ")
    env.assert_converged()


def test_google_utc_rule_across_dst_syncs_every_occurrence_from_a_folder(tmp_path: Path) -> None:
    """Cause 5 with a folder remote (as khal keeps a calendar), whose fetch looks
    each occurrence up in the series: the ones after the DST change used to be
    listed and then never found."""
    env = Env(tmp_path)
    env.add_user()
    (tmp_path / "remote").mkdir(exist_ok=True)
    (tmp_path / "remote" / "google.ics").write_text(text("xwr-google-utc-rrule-moved.ics"))
    assert env.init().result == "ok"
    uid = "38m812jicsrer5gorh3mlp7qhc@google.com"
    crm = {rid for (u, rid) in by_key(env, "crm") if u == uid}
    remote = {rid: e for (u, rid), e in by_key(env, "remote").items() if u == uid}
    assert len(remote) > 4 and crm == set(remote)
    assert len({e.start.utcoffset() for e in remote.values()}) == 2  # across a DST change
    assert_mirrored(env)


def test_crm_edit_keeps_apple_location_and_exchange_languages(
    env: Env, radicale_calendar: str
) -> None:
    """Causes 14 and 16 through Radicale: after a CRM title edit the remote still has
    geo:lat\\,lon (Radicale kept only geo:lat of the unescaped form), and after a CRM
    text edit Exchange's SUMMARY;LANGUAGE and LOCATION;LANGUAGE are still there."""
    apple = text("nodeical-apple-structured-location.ics")
    apple = moved(apple, weeks_until(datetime(2024, 2, 15).date(), today() + timedelta(days=3)))
    exchange = text("icalevents-exchange2010-language.ics")
    exchange = moved(
        exchange, weeks_until(datetime(2021, 6, 7).date(), today() + timedelta(days=4))
    )
    _put(radicale_calendar, "synology.ics", apple)
    _put(radicale_calendar, "exchange.ics", exchange)
    assert env.init().result == "ok"
    env.edit("crm", "period test2", subject="Renamed in the CRM")
    env.edit("crm", "Declined: *[T] Beratung - Martin Eigenmann", text="Agenda from the CRM")
    assert env.sync().result == "ok"

    after = _get(radicale_calendar, "synology.ics")
    assert lines(after, "SUMMARY") == ["SUMMARY:Renamed in the CRM"]
    (location,) = lines(after, "X-APPLE-STRUCTURED-LOCATION")
    assert location.endswith(": geo:50.083558\\,8.4693855")
    after = _get(radicale_calendar, "exchange.ics")
    assert lines(after, "DESCRIPTION") == ["DESCRIPTION:Agenda from the CRM"]
    assert lines(after, "SUMMARY") == lines(exchange, "SUMMARY")
    assert lines(after, "LOCATION") == lines(exchange, "LOCATION")
    assert_mirrored(env)
