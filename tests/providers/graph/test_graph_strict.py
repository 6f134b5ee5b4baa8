"""Microsoft 365 as it really behaves (issue 14), against the strict Graph test server.

Each test drives calsync into one rule the server enforces (tests/providers/graph/server names
each rule's source): time zone names Graph refuses, recurring series shaped as real
delta pages shape them, the 1825-day calendar view, HTML bodies, 400 vs 404, the
transient 412 on reads, and case-insensitive extended-property filters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.model import Event
from sync.providers.base import ConfigError, Item, ProviderError, Window
from sync.providers.graph.mapping import recurrence_id_of
from sync.providers.graph.provider import GraphProvider
from sync.providers.graph.zones import time_to_graph, windows_name
from tests.engine.harness import Env, at, ev
from tests.providers.graph.server import zones
from tests.providers.graph.server.fixtures import (
    SECRET,
    graph_app,
    graph_server,
    graph_settings,
    write_private,
)
from tests.providers.graph.server.server import App, GraphTestServer
from tests.providers.graph.server.store import Mailbox, outlook_body
from tests.recurring.scenarios import weekly
from tests.recurring.series import AROUND, by_key, crm_series
from tests.recurring.test_graph import GraphRemote, _stamp

__all__ = ["graph_app", "graph_server", "graph_settings"]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: the zones issue 14 names: none is on Microsoft's IANA list
REFUSED_CITIES = (
    "Europe/Stockholm",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Brussels",
    "Europe/Dublin",
    "Europe/Helsinki",
    "America/Toronto",
    "Australia/Melbourne",
    "Asia/Hong_Kong",
)


@pytest.fixture
def mailbox(graph_server: GraphTestServer) -> Mailbox:
    return graph_server.add_mailbox()


@pytest.fixture
def env(tmp_path: Path, graph_server: GraphTestServer, graph_app: App, mailbox: Mailbox) -> Env:
    table = {
        "tenant_id": graph_server.tenant,
        "client_id": graph_app.client_id,
        "client_secret_file": str(write_private(tmp_path / "graph.secret", SECRET)),
        "authority": graph_server.url,
        "graph_url": graph_server.url,
        "verify_tls": str(graph_server.tls.ca_file),
        "timeout": 10,
    }
    config = "[graph]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    env = Env(tmp_path, remote_url=f"graph:{mailbox.address}", config_text=config)
    env.window = AROUND
    env.add_user()
    return env


@pytest.fixture
def provider(
    graph_settings: Callable[..., dict[str, Any]], mailbox: Mailbox
) -> Iterator[GraphProvider]:
    with GraphProvider(f"graph:{mailbox.address}", settings=graph_settings()) as p:
        yield p


def _stored(mailbox: Mailbox, subject: str) -> dict[str, Any]:
    (found,) = [e for e in mailbox.events.values() if e["subject"] == subject]
    return found


# -- 1. time zones ---------------------------------------------------------------------------


@pytest.mark.parametrize("city", REFUSED_CITIES)
def test_every_named_city_goes_as_a_windows_name_graph_accepts(city: str) -> None:
    assert not zones.accepted(city)  # the server refuses the IANA name itself
    wall = datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo(city))
    sent = time_to_graph(wall, all_day=False)
    assert zones.accepted(sent["timeZone"]) and sent["timeZone"] != "UTC"
    # the same wall time, meaning the same instant in the Windows zone
    back = datetime.fromisoformat(sent["dateTime"]).replace(tzinfo=zones.zone(sent["timeZone"]))
    assert back == wall


def test_a_zone_without_a_matching_windows_zone_goes_as_utc() -> None:
    # Kyiv before 1990 kept Moscow time; FLE's reference zone (Kiev) too, but a fixed
    # offset has no Windows name at all
    from datetime import timezone

    fixed = datetime(2026, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    sent = time_to_graph(fixed, all_day=False)
    assert sent == {"dateTime": "2026-07-01T03:45:00", "timeZone": "UTC"}
    assert windows_name(ZoneInfo("Europe/Stockholm")) == "W. Europe Standard Time"


def test_a_stockholm_user_syncs_creates_moves_and_all_day_items(env: Env, mailbox: Mailbox) -> None:
    assert env.init().result == "ok"
    env.put("crm", ev("sth-1", "Kundbesök", days=3))
    day = at(5).date()
    env.put(
        "crm",
        Event(uid="sth-2", subject="Mässa", start=day, end=day + timedelta(days=2), all_day=True),
    )
    result = env.sync()
    assert result.result == "ok", result
    assert result.counts["remote"]["create"] == 2
    visit = _stored(mailbox, "Kundbesök")
    assert visit["originalStartTimeZone"] == "W. Europe Standard Time"
    assert visit["start"]["dateTime"].startswith(at(3).astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    fair = _stored(mailbox, "Mässa")
    assert fair["isAllDay"] and fair["start"]["dateTime"].startswith(day.isoformat())

    # moved in the CRM by a day and an hour, across whatever DST change lies between
    moved = at(4, hour=11)
    env.edit("crm", "Kundbesök", start=moved, end=moved + timedelta(hours=1))
    result = env.sync()
    assert result.result == "ok" and result.counts["remote"]["update"] == 1, result
    remote = env.by_subject("remote")["Kundbesök"].event
    assert remote.start == moved and getattr(remote.start.tzinfo, "key", None) == "Europe/Stockholm"

    # an Outlook user in Stockholm creates one the same way Outlook does
    mailbox.create(
        {
            "subject": "Från Outlook",
            "start": {
                "dateTime": at(6, hour=8).replace(tzinfo=None).isoformat(),
                "timeZone": "W. Europe Standard Time",
            },
            "end": {
                "dateTime": at(6, hour=9).replace(tzinfo=None).isoformat(),
                "timeZone": "W. Europe Standard Time",
            },
        }
    )
    assert env.sync().result == "ok"
    assert env.by_subject("crm")["Från Outlook"].event.start_utc == at(6, hour=8).astimezone(UTC)
    env.assert_converged()


def test_graph_refuses_an_iana_name_off_its_list(mailbox: Mailbox) -> None:
    from tests.providers.graph.server.store import GraphError

    body = outlook_body("x", datetime.now(UTC), datetime.now(UTC) + timedelta(hours=1))
    body["start"]["timeZone"] = "Europe/Stockholm"
    with pytest.raises(GraphError) as info:
        mailbox.create(body)
    assert (info.value.status, info.value.code) == (400, "TimeZoneNotSupportedException")


# -- 2. recurring series as real delta pages carry them ---------------------------------------


def _requests(server: GraphTestServer, method: str, event_id: str) -> list[str]:
    return [
        line
        for line in server.log
        if line.startswith(f"{method} ") and event_id in line.split("?")[0]
    ]


def test_a_real_shaped_series_syncs_both_ways_without_a_master_copy(
    env: Env, mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    remote = GraphRemote(mailbox)
    spec = weekly("series-1", count=5)
    remote.add(spec)
    master = remote.masters["series-1"]
    starts = spec.starts()
    # a single event besides, so the series' deletion leaves the calendar not empty
    mailbox.create(outlook_body("Single", at(1), at(1) + timedelta(hours=1)))
    assert env.init().result == "ok"
    crm = by_key(env, "crm")
    # only the occurrences: the master (listed in delta too) is no CRM item
    assert sorted(r or "" for (u, r) in crm if u == "series-1") == sorted(_rid(s) for s in starts)
    assert sorted(u for (u, r) in crm if r is None) == [_stored(mailbox, "Single")["iCalUId"]]

    # a CRM edit of one occurrence PATCHes that occurrence, never the master
    item = next(i for i in env.items("crm") if i.event.recurrence_id == _rid(starts[1]))
    with env.provider("crm") as p:
        p.update(
            item.id,
            item.etag,
            item.event.replace(
                location="HQ", last_modified=datetime.now(UTC) + timedelta(seconds=5)
            ),
        )
    before = len(graph_server.log)
    result = env.sync()
    assert result.result == "ok" and result.counts["remote"]["update"] == 1, result
    written = graph_server.log[before:]
    assert not [
        line for line in written if line.split(" ")[0] in ("PATCH", "DELETE") and master in line
    ]

    # one occurrence deleted in Outlook: no delta entry of its own, only the master
    # changes; its CRM copy goes to the trash
    ids = mailbox.instance_ids(master)
    mailbox.delete(ids[_stamp(starts[3])])
    result = env.sync()
    assert result.result == "ok" and result.counts["crm"]["delete"] == 1, result
    assert _rid(starts[3]) not in crm_series(env, "series-1")
    assert [t["item"]["recurrence_id"] for t in env.trash()] == [_rid(starts[3])]

    # the whole series deleted: one tombstone; every occurrence leaves the CRM
    mailbox.delete(master)
    result = env.sync()
    assert result.result == "ok" and result.counts["crm"]["delete"] == 4, result
    assert crm_series(env, "series-1") == {}
    assert len(env.trash()) == 5
    assert not _requests(graph_server, "DELETE", master)


def _rid(start: datetime | date) -> str:
    if isinstance(start, datetime):
        return start.astimezone(UTC).isoformat()
    return start.isoformat()


def test_delta_pages_carry_sparse_occurrences_and_the_master(
    provider: GraphProvider, mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    remote = GraphRemote(mailbox)
    remote.add(weekly("shape-1", count=3))
    master = remote.masters["shape-1"]
    listing = provider.list_window(_window(), {})
    assert master not in listing.etags and len(listing.etags) == 3
    page = mailbox.delta_page(
        {
            "s": "2000-01-01T00:00:00Z",
            "e": "2100-01-01T00:00:00Z",
            "since": 0,
            "gen": mailbox.generation,
        },
        50,
        text_body=True,
    )[0]
    shapes = {e["type"]: set(e) for e in page}
    assert shapes["occurrence"] == set(mailbox.SPARSE_OCCURRENCE)
    assert "seriesMaster" in shapes


def _window() -> Window:
    now = datetime.now(UTC)
    return Window(now - timedelta(days=90), now + timedelta(days=365))


def test_all_day_original_start_as_local_midnight_labelled_utc() -> None:
    occurrence = {
        "type": "occurrence",
        "isAllDay": True,
        "seriesMasterId": "m",
        "originalStartTimeZone": "Eastern Standard Time",
    }
    # local midnight labelled UTC: converting to New York would give the day before
    assert recurrence_id_of({**occurrence, "originalStart": "2026-06-01T00:00:00Z"}) == "2026-06-01"
    # the real UTC instant of New York's midnight
    assert recurrence_id_of({**occurrence, "originalStart": "2026-06-01T04:00:00Z"}) == "2026-06-01"


# -- 3. the 1825-day calendar view -------------------------------------------------------------


def test_a_window_graph_would_refuse_is_a_one_line_config_error(
    provider: GraphProvider, mailbox: Mailbox
) -> None:
    now = datetime.now(UTC)
    before = mailbox.requests
    with pytest.raises(ConfigError) as info:
        provider.list_window(Window(now - timedelta(days=900), now + timedelta(days=1000)), {})
    assert "1825" in str(info.value) and "\n" not in str(info.value)
    assert mailbox.requests == before  # refused before asking
    # the largest window that fits is served
    assert provider.list_window(Window(now - timedelta(days=760), now + timedelta(days=1000)), {})


# -- 4. bodies ----------------------------------------------------------------------------------


def test_an_unrelated_crm_edit_leaves_the_outlook_html_body_alone(
    env: Env, mailbox: Mailbox
) -> None:
    html = '<html><body><p><b>Agenda</b></p><img src="cid:logo"><div>Join Teams</div></body></html>'
    start = at(2)
    mailbox.create(
        outlook_body(
            "Teams call",
            start,
            start + timedelta(hours=1),
            body={"contentType": "html", "content": html},
        )
    )
    assert env.init().result == "ok"
    env.edit(
        "crm",
        "Teams call",
        location="Room 4",
        last_modified=datetime.now(UTC) + timedelta(seconds=5),
    )
    result = env.sync()
    assert result.result == "ok" and result.counts["remote"]["update"] == 1, result
    stored = _stored(mailbox, "Teams call")
    assert stored["location"]["displayName"] == "Room 4"
    assert stored["body"] == {"contentType": "html", "content": html}

    # a real text change is sent
    env.edit(
        "crm",
        "Teams call",
        text="New agenda",
        last_modified=datetime.now(UTC) + timedelta(seconds=10),
    )
    assert env.sync().result == "ok"
    assert _stored(mailbox, "Teams call")["body"]["content"] == "New agenda"


# -- 6. the smaller rules ------------------------------------------------------------------------


def test_a_400_on_a_read_is_an_error_not_a_deletion(
    provider: GraphProvider, mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    item = provider.create(ev("four-hundred", "Kept"))
    graph_server.inject(400, method="GET", path_contains=item.id, mailbox=mailbox.address)
    with pytest.raises(ProviderError):
        provider.fetch([item.id])
    assert provider.fetch([item.id])[item.id].etag == item.etag  # type: ignore[union-attr]


def test_a_transient_412_on_a_read_is_retried(
    provider: GraphProvider, mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    item = provider.create(ev("race", "Raced"))
    fault = graph_server.inject(412, method="GET", path_contains=item.id, mailbox=mailbox.address)
    got = provider.fetch([item.id])[item.id]
    assert isinstance(got, Item) and got.event.subject == "Raced"
    assert fault.hits == 1


def test_uids_differing_only_in_case_are_no_clash(provider: GraphProvider) -> None:
    provider.create(ev("ABC-1", "Upper"))
    lower = provider.create(ev("abc-1", "Lower"))  # Graph's filter finds 'ABC-1' too
    assert lower.event.uid == "abc-1"
    with pytest.raises(ProviderError, match="UID already used"):
        provider.create(ev("abc-1", "Again"))


def test_check_names_a_window_graph_would_refuse(env: Env) -> None:
    from sync import service

    env.set(window_past_days=900, window_future_days=1000)
    rows = service.check_user(env.ws, env.config, env.name)
    (bad,) = [r for r in rows if not r["ok"]]
    assert bad["side"] == "remote" and bad["check"] == "sync window served"
    assert "1825" in bad["detail"]
    env.set(window_past_days=90, window_future_days=365)
    assert all(r["ok"] for r in service.check_user(env.ws, env.config, env.name))
