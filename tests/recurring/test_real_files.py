"""Recurrence and identity as real calendar programs write them (issue 21 items 6-10, 12;
issue 20 item 7).

Each test reads a real exported file from tests/data/corpus/recurrence (sources in
tests/data/corpus/MANIFEST-recurrence.md) and moves its dates into the sync window
in memory. Where the server matters the remote is Radicale.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from sync.ical.recurrence import Series
from sync.providers.base import Item, MalformedItem, Window
from sync.providers.folder.provider import FolderProvider
from tests.engine.harness import Env
from tests.recurring.series import AROUND, by_key, crm_delete, crm_edit, crm_series

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "recurrence"
PASSWORD_ENV = "CALSYNC_E2E_CALDAV_PASSWORD"
CONFIG = f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 20\n'


def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def today() -> date:
    return datetime.now(UTC).date()


def stamp(day: date) -> str:
    return f"{day:%Y%m%d}"


def put_radicale(calendar_url: str, name: str, text: str) -> None:
    r = requests.put(
        calendar_url + name,
        data=text.encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        auth=("calsync", "x"),
        timeout=10,
    )
    assert r.status_code in (201, 204), (r.status_code, r.text)


def get_radicale(calendar_url: str, name: str) -> str:
    r = requests.get(calendar_url + name, auth=("calsync", "x"), timeout=10)
    assert r.status_code == 200
    return r.text


def radicale_env(tmp_path: Path, calendar_url: str, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    env = Env(tmp_path, remote_url=f"caldav:{calendar_url}", config_text=CONFIG)
    env.add_user()
    return env


def quiet(result: object) -> bool:
    counts = result.counts  # type: ignore[attr-defined]
    return result.result == "ok" and all(v == 0 for c in counts.values() for v in c.values())  # type: ignore[attr-defined]


# -- 21.6: overrides without their master ---------------------------------------------------


def khal_no_master() -> str:
    """khal's file (two overrides, no master), its 2014 dates moved into the window."""
    year = today().year + (date(today().year, 6, 30) < today() - timedelta(days=80))
    return (
        corpus("khal_event_dt_multi_recuid_no_master.ics")
        .replace("2014", str(year))
        .replace("2016", str(year + 2))
    )


def test_overrides_without_a_master_are_each_an_item_and_written_back(tmp_path: Path) -> None:
    # Radicale refuses such a resource ("Main component missing"); Google's CalDAV and
    # a vdir (khal, where this file comes from) keep it
    text = khal_no_master()
    (tmp_path / "remote").mkdir(exist_ok=True)
    (tmp_path / "remote" / "invite.ics").write_text(text, encoding="utf-8")
    env = Env(tmp_path)
    env.add_user()
    result = env.init()
    assert result.result == "ok", result
    uid = "abe304dc-f7b1-4f2b-997d-5c8bcfaa7e0b"
    crm = crm_series(env, uid)
    year = text[text.index("RECURRENCE-ID:") + 14 :][:4]
    assert sorted(crm) == [f"{year}-07-07T05:30:00+00:00", f"{year}-07-14T05:30:00+00:00"]
    assert {e.start for e in crm.values()} == {
        datetime(int(year), 6, 30, 7, 30, tzinfo=UTC),
        datetime(int(year), 7, 7, 8, 30, tzinfo=UTC),
    }

    # a CRM edit goes into its override, a CRM delete drops the other override
    crm_edit(env, uid, f"{year}-07-07T05:30:00+00:00", subject="Arbeit (Kunde)")
    crm_delete(env, uid, f"{year}-07-14T05:30:00+00:00")
    result = env.sync()
    assert result.result == "ok", result
    assert result.counts["remote"] == {"create": 0, "update": 1, "delete": 1}
    stored = (tmp_path / "remote" / "invite.ics").read_text(encoding="utf-8")
    assert stored.count("BEGIN:VEVENT") == 1 and "Arbeit (Kunde)" in stored
    assert f"RECURRENCE-ID:{year}0707T053000" in stored
    # the last override stays an occurrence: no delete and re-create of its CRM item
    remote = by_key(env, "remote")
    assert list(remote) == [(uid, f"{year}-07-07T05:30:00+00:00")]
    assert quiet(env.sync())
    crm = crm_series(env, uid)
    assert list(crm) == [f"{year}-07-07T05:30:00+00:00"]
    assert crm[f"{year}-07-07T05:30:00+00:00"].subject == "Arbeit (Kunde)"
    assert [t["side"] for t in env.trash()] == ["remote"]


def test_a_single_override_stays_one_plain_item(tmp_path: Path) -> None:
    """One override alone is read as before (no id change for existing pairs)."""
    text = khal_no_master()
    first = text[: text.index("BEGIN:VEVENT", text.index("END:VEVENT"))] + "END:VCALENDAR\n"
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "one.ics").write_text(first, encoding="utf-8")
    with FolderProvider(f"folder:{folder}") as p:
        assert list(p.list_window(AROUND, {}).etags) == ["one.ics"]


# -- 21.7: RSCALE (RFC 7529 §4.3 examples) ----------------------------------------------------


def rscale(rule: str, start: str = "20120229") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//example//RFC 7529//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:rscale-1\r\nDTSTAMP:20150101T000000Z\r\n"
        f"DTSTART;VALUE=DATE:{start}\r\nRRULE:{rule}\r\nSUMMARY:Birthday\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


ALL_YEARS = Window(datetime(2012, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC))


def test_rscale_gregorian_rules_expand_and_others_are_refused_by_name(tmp_path: Path) -> None:
    plain = Series.parse(rscale("RSCALE=GREGORIAN;FREQ=YEARLY;COUNT=3", "20130210"), "g.ics")
    assert plain is not None
    events, _ = plain.occurrences(ALL_YEARS, 10)
    assert [e.start for e in events] == [date(2013, 2, 10), date(2014, 2, 10), date(2015, 2, 10)]
    # the written text keeps the rule as it was
    assert "RSCALE=GREGORIAN" in plain.cal.to_ical().decode()

    for rule, reason in (
        ("RSCALE=CHINESE;FREQ=YEARLY", "CHINESE calendar scale (RSCALE, RFC 7529)"),
        ("RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=FORWARD", "SKIP=FORWARD, RFC 7529"),
    ):
        series = Series.parse(rscale(rule), "r.ics")
        assert series is not None
        with pytest.raises(MalformedItem) as refused:
            series.occurrences(ALL_YEARS, 10)
        assert reason in refused.value.reason and "UNTIL" not in refused.value.reason

    # the operator sees the real reason for the file
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "r.ics").write_text(rscale("RSCALE=HEBREW;FREQ=YEARLY"), encoding="utf-8")
    with FolderProvider(f"folder:{folder}") as p:
        broken = p.list_window(AROUND, {}).broken
    assert "HEBREW calendar scale" in broken["r.ics"].error


# -- 21.8: Google's DATE-TIME recurrence id in an all-day series -------------------------------


def google_all_day_series() -> tuple[str, date]:
    """Series 2 of the file (Google: all-day weekly, one override with RECURRENCE-ID
    20200921T000000Z) alone, moved to start in three days. The file as published has
    no UID lines: its all-day components (master and overrides) get `UID:series 2`
    here, in memory."""
    text = corpus("rie_issue_36_recurrence_ID_format.ics")
    blocks = re.findall(r"BEGIN:VEVENT.*?END:VEVENT\n", text, re.S)
    series_2 = [b for b in blocks if "DTSTART;VALUE=DATE:" in b]
    assert len(series_2) == 3 and not any("UID:" in b for b in blocks)
    body = "".join(b.replace("END:VEVENT\n", "UID:series 2\nEND:VEVENT\n") for b in series_2)
    first = today() + timedelta(days=3)
    for old, days in (
        ("0907", 0),
        ("0908", 1),
        ("0914", 7),
        ("0915", 8),
        ("0921", 14),
        ("0922", 15),
    ):
        body = body.replace(f"2020{old}", stamp(first + timedelta(days=days)))
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Google Inc//EN\n" + body + "END:VCALENDAR\n",
        first,
    )


def test_editing_a_google_datetime_override_keeps_its_identity(
    tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, first = google_all_day_series()
    put_radicale(radicale_calendar, "g.ics", text)
    env = radicale_env(tmp_path, radicale_calendar, monkeypatch)
    assert env.init().result == "ok"
    rid = datetime.combine(first + timedelta(days=14), datetime.min.time(), UTC).isoformat()
    crm = crm_series(env, "series 2")
    assert crm[rid].subject == "Modified event 2" and crm[rid].all_day

    crm_edit(env, "series 2", rid, subject="Modified event 2 (edited in the CRM)")
    result = env.sync()
    assert result.result == "ok" and result.counts["remote"]["update"] == 1, result
    stored = get_radicale(radicale_calendar, "g.ics")
    assert f"RECURRENCE-ID:{stamp(first + timedelta(days=14))}T000000Z" in stored
    # the next sync sees the same occurrence: no delete and re-create in the CRM
    assert quiet(env.sync())
    assert crm_series(env, "series 2")[rid].subject == "Modified event 2 (edited in the CRM)"


# -- 21.9: the cap and a moved occurrence -------------------------------------------------------


def exchange_series(uid: str = "exch-1", subject: str = "Busy", days_back: int = 30) -> str:
    """The Exchange 2010 daily series over a year, starting `days_back` days ago."""
    start = today() - timedelta(days=days_back)
    end = start + timedelta(days=365)
    text = corpus("icalevents_cest_every_day_for_one_year.ics")
    text = text.replace("20211111T1030", f"{stamp(start)}T1030")
    text = text.replace("20211111T1100", f"{stamp(start)}T1100")
    text = text.replace("UNTIL=20221111T093000Z", f"UNTIL={stamp(end)}T093000Z")
    text = re.sub(r"UID:0400[^\n]*\n [0-9A-F]+\n", f"UID:{uid}\n", text)
    return text.replace("SUMMARY:Busy", f"SUMMARY:{subject}")


def test_moving_an_occurrence_past_the_cap_lets_no_other_in(tmp_path: Path) -> None:
    env = Env(tmp_path, config_text="[folder]\nmax_occurrences = 5\n")
    env.add_user()
    (tmp_path / "remote").mkdir(exist_ok=True)
    (tmp_path / "remote" / "exch.ics").write_text(exchange_series(days_back=2), encoding="utf-8")
    assert env.init().result == "ok"
    before = crm_series(env, "exch-1")
    assert len(before) == 5
    second = sorted(before)[1]
    moved = before[second].start + timedelta(days=6)
    crm_edit(env, "exch-1", second, start=moved, end=moved + timedelta(minutes=30))
    result = env.sync()
    assert result.result == "ok" and result.counts["remote"]["update"] == 1, result
    result = env.sync()
    assert quiet(result), result
    after = crm_series(env, "exch-1")
    assert sorted(after) == sorted(before) and after[second].start == moved


# -- 21.10: a year of daily occurrences from Exchange, listed without re-expanding --------------


def test_known_vtimezone_is_not_evaluated_and_unchanged_series_are_not_reexpanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "exch.ics").write_text(exchange_series(), encoding="utf-8")
    from dateutil.tz.tz import _tzicalvtz  # the file's VTIMEZONE, rules from 1601

    def evaluated(*args: object) -> None:
        raise AssertionError("the VTIMEZONE of a known zone was evaluated")

    with monkeypatch.context() as m:
        m.setattr(_tzicalvtz, "utcoffset", evaluated)
        cache: dict[str, object] = {}
        with FolderProvider(f"folder:{folder}") as p:
            first = p.list_window(AROUND, cache)
            got = p.fetch(sorted(first.etags)[:3])
    assert len(first.etags) >= 360 and not first.broken
    assert all(isinstance(i, Item) and i.event.start.utcoffset() for i in got.values())

    def parsed(*args: object) -> None:
        raise AssertionError("an unchanged series was parsed again")

    with monkeypatch.context() as m:
        m.setattr(Series, "parse", parsed)
        later = Window(AROUND.start + timedelta(days=1), AROUND.end + timedelta(days=1))
        with FolderProvider(f"folder:{folder}") as p:
            again = p.list_window(later, cache)
    assert set(again.etags) == {
        i for i in first.etags if i.split("#")[1] >= stamp(today() - timedelta(days=88))
    }


def test_a_lowered_cap_applies_to_a_remembered_series(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "exch.ics").write_text(exchange_series(), encoding="utf-8")
    cache: dict[str, object] = {}
    with FolderProvider(f"folder:{folder}") as p:
        assert len(p.list_window(AROUND, cache).etags) > 300
    with FolderProvider(f"folder:{folder}", settings={"folder": {"max_occurrences": 3}}) as p:
        capped = p.list_window(AROUND, cache)
    assert len(capped.etags) == 3 and "max_occurrences" in capped.warnings[0]


# -- 21.12: two resources with one UID ---------------------------------------------------------


def single(uid: str, subject: str, start: datetime) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//SabreDAV//SabreDAV//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:{subject}\r\nX-CLIENT-PROP:kept\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def test_two_remote_resources_sharing_a_uid_are_two_items(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    remote.mkdir()
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    (remote / "a.ics").write_text(single("shared", "Alpha", day + timedelta(days=2)), "utf-8")
    (remote / "b.ics").write_text(single("shared", "Beta", day + timedelta(days=3)), "utf-8")
    env = Env(tmp_path)
    env.add_user()
    result = env.init()
    assert result.result == "ok" and result.counts["crm"]["create"] == 2, result
    assert sum("shared" in w for w in result.warnings) == 1  # reported once ...
    crm = env.by_subject("crm")
    assert {crm["Alpha"].event.uid, crm["Beta"].event.uid} == {"shared", "shared@b.ics"}
    again = env.sync()
    assert quiet(again) and not again.warnings  # ... not on every run

    # each CRM item follows its own resource, both ways
    env.edit("crm", "Beta", subject="Beta (CRM)")
    (remote / "a.ics").write_text(
        single("shared", "Alpha (remote)", day + timedelta(days=2)), "utf-8"
    )
    result = env.sync()
    assert result.result == "ok", result
    assert (
        "Beta (CRM)" in (remote / "b.ics").read_text()
        and "UID:shared\n" in (remote / "b.ics").read_text()
    )
    assert "X-CLIENT-PROP:kept" in (remote / "b.ics").read_text()
    assert set(env.by_subject("crm")) == {"Alpha (remote)", "Beta (CRM)"}
    assert quiet(env.sync())


# -- issue 20.7: a CRM file holding events of two UIDs -----------------------------------------


def test_a_crm_file_with_events_of_two_uids_is_reported_on_every_run(tmp_path: Path) -> None:
    text = corpus("calsync_two_uids_in_one_file.ics")
    soon = today() + timedelta(days=5)
    text = text.replace("20211222", stamp(soon)).replace("20211223", stamp(soon + timedelta(1)))
    (tmp_path / "crm").mkdir(exist_ok=True)
    (tmp_path / "crm" / "export.ics").write_text(text, encoding="utf-8")
    env = Env(tmp_path)
    env.add_user()
    for result in (env.init(), env.sync(), env.sync()):
        assert result.result == "ok", result
        (warning,) = [w for w in result.warnings if "export.ics" in w]
        assert "calsync-customer-call-9e41b8@google.com" in warning
        assert "2 different UIDs" in warning
    assert [i.event.uid for i in env.items("remote")] == [
        "calsync-quarterly-review-7f3a2c@google.com"
    ]
