"""Recurring series with Microsoft 365 (the Graph test server) as the remote.

The series are made in the server's store as Outlook makes them through Graph: a
`seriesMaster` with a `patternedRecurrence`, occurrences edited on their own
(exceptions) or deleted; a new pattern drops the exceptions, as Outlook does.
calsync sees the occurrences the calendar view lists and writes them back as
occurrence PATCHes and DELETEs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.providers.base import Item
from sync.providers.graph.mapping import UID_PROPERTY, recurrence_id_of
from sync.providers.graph.provider import GraphProvider
from tests.engine.harness import Env
from tests.providers.graph.server.fixtures import (
    SECRET,
    graph_app,
    graph_server,
    graph_settings,
    write_private,
)
from tests.providers.graph.server.series import DAYS
from tests.providers.graph.server.server import App, GraphTestServer
from tests.providers.graph.server.store import Mailbox
from tests.recurring import scenarios
from tests.recurring.scenarios import Case, weekly
from tests.recurring.series import AROUND, ZONE, SeriesSpec, local, rid_of, today

__all__ = ["graph_app", "graph_server", "graph_settings"]


def _stamp(value: datetime | date) -> str:
    """An original start as Graph's `originalStart` spells it (all-day: midnight UTC)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: datetime | date) -> dict[str, str]:
    if isinstance(value, datetime):
        wall = value.astimezone(ZONE).replace(tzinfo=None)
        return {"dateTime": wall.isoformat(), "timeZone": "W. Europe Standard Time"}
    return {"dateTime": f"{value.isoformat()}T00:00:00", "timeZone": "UTC"}


def recurrence(spec: SeriesSpec) -> dict[str, Any]:
    first = spec.start.astimezone(ZONE) if isinstance(spec.start, datetime) else spec.start
    pattern: dict[str, Any] = {"type": "daily", "interval": 1}
    if spec.freq == "WEEKLY":
        pattern = {"type": "weekly", "interval": 1, "daysOfWeek": [DAYS[first.weekday()]]}
    elif spec.freq == "YEARLY":
        pattern = {"type": "absoluteYearly", "interval": 1, "month": first.month}
        pattern["dayOfMonth"] = first.day
    start_date = first.date() if isinstance(first, datetime) else first
    return {
        "pattern": pattern,
        "range": {
            "type": "numbered",
            "startDate": start_date.isoformat(),
            "numberOfOccurrences": spec.count,
        },
    }


class GraphRemote:
    """Series in one mailbox, made and changed as Outlook does through Graph."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.masters: dict[str, str] = {}

    def _body(self, spec: SeriesSpec) -> dict[str, Any]:
        return {
            "subject": spec.subject,
            "start": _when(spec.start),
            "end": _when(spec.start + spec.duration),
            "isAllDay": spec.all_day,
            "recurrence": recurrence(spec),
        }

    def _exceptions(self, spec: SeriesSpec, master_id: str) -> None:
        for original in spec.exdates:
            instance = self.mailbox.instance_ids(master_id).get(_stamp(original))
            if instance is not None:
                self.mailbox.delete(instance)
        for original, (subject, start) in spec.overrides.items():
            instance = self.mailbox.instance_ids(master_id)[_stamp(original)]
            self.mailbox.update(
                instance,
                {"subject": subject, "start": _when(start), "end": _when(start + spec.duration)},
            )

    def add(self, spec: SeriesSpec) -> None:
        # a series that came as an invitation keeps its sender's UID as iCalUId
        master = self.mailbox.create(self._body(spec), ical_uid=spec.uid)
        self.masters[spec.uid] = master["id"]
        self._exceptions(spec, master["id"])

    def change(self, spec: SeriesSpec) -> None:
        master_id = self.masters[spec.uid]
        self.mailbox.update(master_id, self._body(spec))
        self._exceptions(spec, master_id)

    def delete(self, spec: SeriesSpec) -> None:
        self.mailbox.delete(self.masters.pop(spec.uid))


@pytest.fixture
def case(tmp_path: Path, graph_server: GraphTestServer, graph_app: App) -> Case:
    mailbox = graph_server.add_mailbox()
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
    env.add_user()
    return Case(env, GraphRemote(mailbox))


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

Settings = Callable[..., dict[str, Any]]


@pytest.fixture
def mailbox(graph_server: GraphTestServer) -> Mailbox:
    return graph_server.add_mailbox()


@pytest.fixture
def remote(mailbox: Mailbox) -> GraphRemote:
    return GraphRemote(mailbox)


def _provider(mailbox: Mailbox, graph_settings: Settings, **overrides: Any) -> GraphProvider:
    return GraphProvider(f"graph:{mailbox.address}", settings=graph_settings(**overrides))


def test_occurrences_carry_the_series_uid_and_masters_are_learned_once(
    graph_server: GraphTestServer,
    graph_settings: Settings,
    mailbox: Mailbox,
    remote: GraphRemote,
) -> None:
    spec = weekly("learn-1", count=4)
    remote.add(spec)
    remote.add(weekly("learn-2", count=3, days=4))
    cache: dict[str, Any] = {}
    with _provider(mailbox, graph_settings) as p:
        listing = p.list_window(AROUND, cache)
        before = mailbox.requests
        got = p.fetch(list(listing.etags))
        # one GET per changed occurrence, and one listing of the series masters for all
        assert mailbox.requests - before == len(listing.etags) + 1
    events = {(i.event.uid, i.event.recurrence_id) for i in got.values() if isinstance(i, Item)}
    assert {(u, r) for u, r in events if u == "learn-1"} == {
        ("learn-1", rid_of(s)) for s in spec.starts()
    }
    assert len(events) == 7
    assert set(cache["masters"].values()) == {"learn-1", "learn-2"}

    # a later run knows the masters: nothing changed is one request, a change no master lookup
    with _provider(mailbox, graph_settings) as p:
        before = mailbox.requests
        assert p.list_window(AROUND, cache).etags == listing.etags
        assert mailbox.requests - before == 1
        ids = mailbox.instance_ids(remote.masters["learn-1"])
        mailbox.update(ids[_stamp(spec.start)], {"subject": "Standup (moved)"})
        changed = p.list_window(AROUND, cache)
        # the exception is stored in its master, whose change reaches every occurrence
        moved = ids[_stamp(spec.start)]
        assert changed.etags[moved] != listing.etags[moved]
        assert set(changed.etags) == set(listing.etags)
        before = mailbox.requests
        item = p.fetch([moved])[moved]
        assert mailbox.requests - before == 1
    assert isinstance(item, Item)
    assert (item.event.uid, item.event.recurrence_id, item.event.subject) == (
        "learn-1",
        rid_of(spec.start),
        "Standup (moved)",
    )


def test_a_series_master_with_a_calsync_uid_lends_it_to_its_occurrences(
    graph_settings: Settings, mailbox: Mailbox
) -> None:
    # a CRM item calsync created, later made recurring in Outlook
    spec = weekly("crm-born", count=3)
    body = GraphRemote(mailbox)._body(spec)
    body["singleValueExtendedProperties"] = [{"id": UID_PROPERTY, "value": "crm-uid-7"}]
    mailbox.create(body)
    with _provider(mailbox, graph_settings) as p:
        got = p.fetch(list(p.list_window(AROUND, {}).etags))
    assert {i.event.uid for i in got.values() if isinstance(i, Item)} == {"crm-uid-7"}
    assert len(got) == 3


def test_a_removed_occurrence_is_absent_for_fetch_and_a_distant_one_present(
    graph_settings: Settings, mailbox: Mailbox, remote: GraphRemote
) -> None:
    spec = weekly("far-1", count=60)  # past the 365-day window
    remote.add(spec)
    ids = mailbox.instance_ids(remote.masters["far-1"])
    starts = spec.starts()
    last, second = ids[_stamp(starts[-1])], ids[_stamp(starts[1])]
    mailbox.delete(second)
    with _provider(mailbox, graph_settings) as p:
        found = p.fetch([last, second])
    assert list(found) == [last]
    assert found[last].event.recurrence_id == rid_of(starts[-1])  # type: ignore[union-attr]

    # the whole series deleted: every occurrence is gone, not broken
    mailbox.delete(remote.masters.pop("far-1"))
    with _provider(mailbox, graph_settings) as p:
        assert p.fetch([last]) == {}


def test_a_series_is_capped_at_max_occurrences_with_a_warning(
    graph_settings: Settings, mailbox: Mailbox, remote: GraphRemote
) -> None:
    spec = SeriesSpec("daily-1", "Check-in", local(today()), timedelta(minutes=15))
    spec.freq, spec.count = "DAILY", 12
    remote.add(spec)
    with _provider(mailbox, graph_settings, max_occurrences=5) as p:
        listing = p.list_window(AROUND, {})
        got = p.fetch(list(listing.etags))
    rids = sorted(str(i.event.recurrence_id) for i in got.values() if isinstance(i, Item))
    assert rids == [rid_of(s) for s in spec.starts()[:5]]
    assert len(listing.warnings) == 1 and "daily-1" in listing.warnings[0]


def test_all_day_recurrence_ids_are_dates_in_the_series_zone() -> None:
    instance = {"type": "occurrence", "isAllDay": True, "seriesMasterId": "m"}
    stockholm = {**instance, "originalStart": "2026-05-31T22:00:00Z"}
    stockholm["originalStartTimeZone"] = "W. Europe Standard Time"
    assert recurrence_id_of(stockholm) == "2026-06-01"
    unknown = {**stockholm, "originalStartTimeZone": "Somewhere Standard Time"}
    assert recurrence_id_of(unknown) == "2026-06-01"
    timed = {"type": "exception", "originalStart": "2026-06-01T07:00:00Z"}
    assert recurrence_id_of(timed) == "2026-06-01T07:00:00+00:00"
    assert recurrence_id_of({"type": "singleInstance"}) is None


def test_masters_are_learned_across_pages(
    graph_server: GraphTestServer, graph_settings: Settings, mailbox: Mailbox, remote: GraphRemote
) -> None:
    for n in range(3):
        remote.add(weekly(f"paged-{n}", count=2, days=3 + n))
    with _provider(mailbox, graph_settings, page_size=1) as p:
        got = p.fetch(list(p.list_window(AROUND, {}).etags))
    assert sorted({i.event.uid for i in got.values() if isinstance(i, Item)}) == [
        "paged-0",
        "paged-1",
        "paged-2",
    ]
    assert any("%24skip=2" in line or "$skip=2" in line for line in graph_server.log)
