"""The Exchange adapter (exchangelib) against the loopback EWS test server, over real HTTP."""

from __future__ import annotations

import logging
import re
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.model import Event, Privacy, ShowAs
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConfigError,
    ConnectionFailed,
    EtagMismatch,
    ItemNotFound,
    NotifyRefused,
    Throttled,
    Window,
)
from sync.providers.ews.provider import EWSProvider
from sync.providers.registry import provider_class
from tests.providers.contract import ProviderContract
from tests.providers.ews.server.server import EWSTestServer

PASSWORD_ENV = "CALSYNC_TEST_EWS_PASSWORD"
SERVICE = "svc-calsync"
PASSWORD = "correct horse"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def ews() -> Iterator[EWSTestServer]:
    with EWSTestServer() as server:
        server.org.add_account(SERVICE, PASSWORD)
        server.org.add_account("reader", PASSWORD)
        yield server


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def table(ews: EWSTestServer, **extra: Any) -> dict[str, Any]:
    return {
        "exchange": {
            "service_endpoint": ews.url,
            "auth": "basic",
            "username": SERVICE,
            "password_env": PASSWORD_ENV,
            "timezone": "Europe/Stockholm",
            "max_backoff": 5,
            "timeout": 10,
            **extra,
        }
    }


def new_mailbox(ews: EWSTestServer, **grants: Any) -> str:
    smtp = f"user-{uuid.uuid4().hex[:8]}@example.com"
    grants.setdefault("impersonators", (SERVICE,))
    ews.org.add_mailbox(smtp, **grants)
    return smtp


def open_ews(ews: EWSTestServer, mailbox: str, **extra: Any) -> EWSProvider:
    return EWSProvider(f"ews:{mailbox}", settings=table(ews, **extra))


@pytest.fixture
def provider(ews: EWSTestServer) -> Iterator[EWSProvider]:
    with open_ews(ews, new_mailbox(ews)) as p:
        yield p  # type: ignore[misc]


def event(n: int = 0, **changes: Any) -> Event:
    start = (T0 + timedelta(days=n)).astimezone(STOCKHOLM)
    base = Event(
        uid=f"ev-{n}-{uuid.uuid4().hex[:8]}",
        subject=f"Meeting {n}",
        start=start,
        end=start + timedelta(hours=1),
    )
    return base.replace(**changes)


def same(a: Event, b: Event) -> bool:
    return a.replace(last_modified=None) == b.replace(last_modified=None)


class TestEWSContract(ProviderContract):
    # a calendar view also lists items overlapping the window's start; the engine
    # filters on start itself
    window_exact = False


# -- registry and configuration --------------------------------------------------------------


def test_registry_finds_the_ews_scheme() -> None:
    assert provider_class("ews:anna@example.com") is EWSProvider


@pytest.mark.parametrize(
    ("exchange", "message"),
    [
        (None, "need an [exchange] table"),
        ({"auth": "basic"}, "service_endpoint or autodiscover"),
        ({"service_endpoint": "ftp://x"}, "not an http(s) URL"),
        ({"service_endpoint": "https://x/EWS/Exchange.asmx", "auth": "kerberos"}, "auth must be"),
        ({"service_endpoint": "https://x/EWS/Exchange.asmx"}, "needs username"),
        ({"service_endpoint": "https://x/e", "username": "svc"}, "password_env"),
        ({"service_endpoint": "https://x/e", "auth": "oauth"}, "tenant_id and client_id"),
        (
            {"service_endpoint": "https://x/e", "username": "s", "password_env": "P", "acces": 1},
            "unknown key 'acces'",
        ),
        (
            {"service_endpoint": "https://x/e", "username": "s", "password_env": "P", "timeout": 0},
            "timeout must be",
        ),
    ],
)
def test_bad_exchange_table_is_one_clear_line(exchange: Any, message: str) -> None:
    settings = {} if exchange is None else {"exchange": exchange}
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        EWSProvider("ews:anna@example.com", settings=settings)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("url", ["ews:anna", "ews:", "ews:@example.com", "ews:a b@example.com"])
def test_mailbox_must_be_an_smtp_address(url: str) -> None:
    with pytest.raises(ConfigError, match="ews:MAILBOX"):
        EWSProvider.normalize_url(url)


def test_missing_password_variable_is_named(
    ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        open_ews(ews, new_mailbox(ews)).identity()


# -- identity ---------------------------------------------------------------------------------


def test_identity_is_mailbox_and_calendar_folder(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews)
    with open_ews(ews, mailbox) as p:
        first = p.identity()
    assert first.startswith(f"ews:{mailbox}/")
    ews.org.recreate_calendar(mailbox)
    with open_ews(ews, mailbox) as p:
        assert p.identity() != first


def test_calendar_name_is_the_folder_display_name(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews)
    box = ews.org.mailbox(mailbox)
    assert box is not None
    box.calendar_name = "予定表 [bold]Team[/bold] & <Ops>"
    with open_ews(ews, mailbox) as p:
        p.identity()
        before = len(ews.org.requests)
        assert p.calendar_name() == "予定表 [bold]Team[/bold] & <Ops>"
        assert len(ews.org.requests) == before  # the GetFolder identity() made


# -- mapping ------------------------------------------------------------------------------------


def test_every_field_maps_from_an_outlook_item(provider: EWSProvider, ews: EWSTestServer) -> None:
    start = datetime(2026, 4, 1, 16, 30, tzinfo=UTC)
    seeded = ews.org.seed(
        provider.mailbox,
        Subject="Budget review",
        Start=start,
        End=start + timedelta(minutes=45),
        StartTimeZone="Pacific Standard Time",
        EndTimeZone="Pacific Standard Time",
        Location="Room 4",
        LegacyFreeBusyStatus="WorkingElsewhere",
        Sensitivity="Confidential",
        ReminderIsSet=True,
        ReminderMinutesBeforeStart=30,
        Body=("HTML", "<html><body><p>Agenda:</p><p>1. Q2 &amp; Q3</p></body></html>"),
        UID="outlook-uid-1",
    )
    item = provider.fetch([seeded.id])[seeded.id]
    ev = item.event  # type: ignore[union-attr]
    assert item.etag == seeded.changekey
    assert ev.uid == "outlook-uid-1"
    assert ev.subject == "Budget review"
    assert ev.start == start and ev.end == start + timedelta(minutes=45)
    assert isinstance(ev.start, datetime)
    assert getattr(ev.start.tzinfo, "key", None) == "America/Los_Angeles"  # Windows name read
    assert ev.start.hour == 9  # wall-clock time in the item's own zone
    assert ev.location == "Room 4"
    assert ev.show_as is ShowAs.WORKING_ELSEWHERE
    assert ev.privacy is Privacy.CONFIDENTIAL
    assert ev.reminder == 30
    assert ev.text == "Agenda:\n1. Q2 & Q3"
    assert ev.last_modified == seeded.fields["LastModifiedTime"]
    assert ev.all_day is False and ev.recurrence_id is None


def test_all_day_items_are_dates_with_exclusive_end(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    # Exchange stores all-day items as midnight-to-midnight in the item's zone
    midnight = datetime(2026, 5, 4, tzinfo=STOCKHOLM).astimezone(UTC)
    seeded = ews.org.seed(
        provider.mailbox,
        Subject="Fair",
        Start=midnight,
        End=midnight + timedelta(days=3),
        IsAllDayEvent=True,
        StartTimeZone="W. Europe Standard Time",
        EndTimeZone="W. Europe Standard Time",
        LegacyFreeBusyStatus="OOF",
        Sensitivity="Personal",
    )
    ev = provider.fetch([seeded.id])[seeded.id].event  # type: ignore[union-attr]
    assert ev.all_day
    assert (ev.start, ev.end) == (date(2026, 5, 4), date(2026, 5, 7))
    assert ev.show_as is ShowAs.OOF and ev.privacy is Privacy.PERSONAL
    assert ev.reminder is None


def test_occurrences_of_a_series_are_listed_as_their_own_items(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    ids = []
    for week in range(3):
        start = T0 + timedelta(weeks=week)
        ids.append(
            ews.org.seed(
                provider.mailbox,
                Subject="Standup",
                Start=start,
                End=start + timedelta(minutes=15),
                UID="series-1",
                CalendarItemType="Occurrence",
                OriginalStart=start,
            ).id
        )
    listing = provider.list_window(WINDOW, {})
    assert set(listing.etags) == set(ids)
    fetched = provider.fetch(ids)
    ids_seen = {fetched[i].event.recurrence_id for i in ids}  # type: ignore[union-attr]
    assert ids_seen == {(T0 + timedelta(weeks=w)).isoformat() for w in range(3)}
    assert {fetched[i].event.uid for i in ids} == {"series-1"}  # type: ignore[union-attr]


@pytest.mark.parametrize("show_as", list(ShowAs))
def test_show_as_round_trips(provider: EWSProvider, show_as: ShowAs) -> None:
    ev = event(show_as=show_as)
    created = provider.create(ev)
    assert same(provider.fetch([created.id])[created.id].event, ev)  # type: ignore[union-attr]


@pytest.mark.parametrize("privacy", list(Privacy))
def test_privacy_round_trips_including_personal(provider: EWSProvider, privacy: Privacy) -> None:
    ev = event(privacy=privacy, reminder=5, location="Here", text="line 1\nline 2")
    created = provider.create(ev)
    assert same(provider.fetch([created.id])[created.id].event, ev)  # type: ignore[union-attr]


def test_all_day_and_zone_round_trip(provider: EWSProvider) -> None:
    all_day = event(all_day=True, start=date(2026, 6, 1), end=date(2026, 6, 3))
    new_york = event(1).replace(
        start=datetime(2026, 6, 5, 8, tzinfo=ZoneInfo("America/New_York")),
        end=datetime(2026, 6, 5, 9, tzinfo=ZoneInfo("America/New_York")),
    )
    results = provider.create_many([all_day, new_york])
    fetched = provider.fetch([r.id for r in results])  # type: ignore[union-attr]
    for original, result in zip([all_day, new_york], results, strict=True):
        back = fetched[result.id].event  # type: ignore[union-attr]
        assert same(back, original)
        assert back.content_hash() == original.content_hash()  # no ping-pong on zone names


def test_stockholm_stays_stockholm_not_berlin(provider: EWSProvider) -> None:
    # both map to "W. Europe Standard Time"; the workspace zone is the one read back
    ev = event()
    created = provider.create(ev)
    back = provider.fetch([created.id])[created.id].event  # type: ignore[union-attr]
    assert back.content_hash() == ev.content_hash()


# -- listing -------------------------------------------------------------------------------------


def test_listing_asks_only_for_ids_changekeys_and_starts(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    created = provider.create_many([event(n) for n in range(3)])
    before = len(ews.org.requests)
    listing = provider.list_window(WINDOW, {})
    assert listing.etags == {c.id: c.etag for c in created}  # type: ignore[union-attr]
    finds = ews.org.requests[before:]
    assert [r.service for r in finds] == ["FindItem"]
    assert "item:Body" not in finds[0].body and "TextBody" not in finds[0].body
    assert "calendar:Start" in finds[0].body


def test_fetch_asks_getitem_only_for_the_changed_ids(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    created = provider.create_many([event(n) for n in range(4)])
    changed = created[1].id  # type: ignore[union-attr]
    before = len(ews.org.requests)
    provider.fetch([changed])
    calls = ews.org.requests[before:]
    assert [c.service for c in calls] == ["GetItem"]
    assert changed in calls[0].body
    assert all(c.id not in calls[0].body for c in created if c.id != changed)  # type: ignore[union-attr]


def test_listing_pages_through_a_large_calendar(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews)
    # 9 items, three of them sharing a start right at a page boundary
    starts = [T0 + timedelta(hours=h) for h in (0, 1, 2, 2, 2, 3, 4, 5, 6)]
    seeded = {
        ews.org.seed(mailbox, Subject=f"s{i}", Start=s, End=s + timedelta(minutes=30)).id
        for i, s in enumerate(starts)
    }
    with open_ews(ews, mailbox, page_size=3) as p:
        before = len(ews.org.calls("FindItem"))
        listing = p.list_window(WINDOW, {})
    assert set(listing.etags) == seeded
    assert len(ews.org.calls("FindItem")) - before >= 3


def test_a_page_full_of_one_start_time_widens_the_page(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews)
    seeded = {
        ews.org.seed(mailbox, Subject=f"s{i}", Start=T0, End=T0 + timedelta(hours=1)).id
        for i in range(5)
    }
    with open_ews(ews, mailbox, page_size=2) as p:
        assert set(p.list_window(WINDOW, {}).etags) == seeded


def test_a_missing_id_is_confirmed_gone(provider: EWSProvider, ews: EWSTestServer) -> None:
    created = provider.create(event())
    ews.org.remove(provider.mailbox, created.id)
    assert provider.fetch([created.id]) == {}


# -- writes -------------------------------------------------------------------------------------


def test_update_with_a_stale_changekey_is_an_etag_mismatch(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    created = provider.create(event())
    ews.org.edit(provider.mailbox, created.id, Subject="Edited in Outlook")
    with pytest.raises(EtagMismatch):
        provider.update(created.id, created.etag, event(subject="From CRM"))
    stored = ews.org.mailbox(provider.mailbox).items[created.id]  # type: ignore[union-attr]
    assert stored.fields["Subject"] == "Edited in Outlook"


def test_changekey_changes_on_every_update(provider: EWSProvider) -> None:
    ev = event()
    created = provider.create(ev)
    first = provider.update(created.id, created.etag, ev.replace(subject="One"))
    second = provider.update(first.id, first.etag, ev.replace(subject="Two", reminder=None))
    assert len({created.etag, first.etag, second.etag}) == 3
    back = provider.fetch([created.id])[created.id].event  # type: ignore[union-attr]
    assert back.subject == "Two" and back.reminder is None


def test_delete_checks_the_changekey(provider: EWSProvider, ews: EWSTestServer) -> None:
    created = provider.create(event())
    ews.org.edit(provider.mailbox, created.id, Subject="Edited in Outlook")
    with pytest.raises(EtagMismatch):
        provider.delete(created.id, created.etag)
    assert created.id in provider.list_window(WINDOW, {}).etags  # the edit survives
    current = provider.list_window(WINDOW, {}).etags[created.id]
    provider.delete(created.id, current)
    assert provider.list_window(WINDOW, {}).etags == {}


def test_writes_to_missing_items_are_item_not_found(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    created = provider.create(event())
    ews.org.remove(provider.mailbox, created.id)
    with pytest.raises(ItemNotFound):
        provider.update(created.id, created.etag, event())
    with pytest.raises(ItemNotFound):
        provider.delete(created.id, created.etag)


def test_no_request_ever_asks_exchange_to_notify_attendees(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    with pytest.raises(NotifyRefused):
        provider.create(event(), notify=True)
    created = provider.create(event())
    provider.create_many([event(n) for n in range(2, 5)])
    updated = provider.update(created.id, created.etag, event(subject="x"), notify=False)
    with pytest.raises(NotifyRefused):
        provider.delete(updated.id, updated.etag, notify=True)
    provider.delete(updated.id, updated.etag)
    mine = [r for r in ews.org.requests if r.impersonated == provider.mailbox]
    writes = {r.service for r in mine} & {"CreateItem", "UpdateItem", "DeleteItem"}
    assert writes == {"CreateItem", "UpdateItem", "DeleteItem"}
    # and over every request this module sent to the server so far:
    for r in ews.org.requests:
        if r.service == "CreateItem":
            assert r.attrs["SendMeetingInvitations"] == "SendToNone"
        if r.service == "UpdateItem":
            assert r.attrs["SendMeetingInvitationsOrCancellations"] == "SendToNone"
        if r.service == "DeleteItem":
            assert r.attrs["SendMeetingCancellations"] == "SendToNone"
        assert "SendToAll" not in r.body and "SendOnlyToAll" not in r.body


# -- access and failures -------------------------------------------------------------------------


def test_impersonation_denied_names_the_missing_right(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews, impersonators=())
    with open_ews(ews, mailbox) as p, pytest.raises(AuthFailed) as info:
        p.identity()
    assert str(info.value) == (
        f"svc-calsync may not impersonate {mailbox}: grant ApplicationImpersonation "
        "(full mailbox access allows delegate access, not impersonation)"
    )


def test_check_reports_each_step(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews)
    with open_ews(ews, mailbox) as p:
        checks = p.check()
    assert [name for name, _, _ in checks] == [
        "endpoint reachable",
        "service account accepted",
        f"impersonation to {mailbox}",
        "calendar readable",
        "calendar writable",
    ]
    assert all(ok for _, ok, _ in checks)


def test_check_names_the_missing_impersonation_right(ews: EWSTestServer) -> None:
    mailbox = new_mailbox(ews, impersonators=())
    with open_ews(ews, mailbox) as p:
        checks = p.check()
    assert checks[-1] == (
        f"impersonation to {mailbox}",
        False,
        f"svc-calsync may not impersonate {mailbox}: grant ApplicationImpersonation "
        "(full mailbox access allows delegate access, not impersonation)",
    )
    assert [ok for _, ok, _ in checks[:-1]] == [True, True]


def test_delegate_access_and_a_read_only_grant(ews: EWSTestServer) -> None:
    editable = new_mailbox(ews, impersonators=(), delegates=(SERVICE,))
    with open_ews(ews, editable, access="delegate") as p:
        created = p.create(event())
        assert created.id in p.list_window(WINDOW, {}).etags
    assert all(r.impersonated is None for r in ews.org.calls("CreateItem")[-1:])

    denied = new_mailbox(ews, impersonators=())
    with open_ews(ews, denied, access="delegate") as p, pytest.raises(AuthFailed) as info:
        p.identity()
    assert "has no delegate access" in str(info.value) and denied in str(info.value)

    read_only = new_mailbox(ews, impersonators=(), readers=(SERVICE,))
    with open_ews(ews, read_only, access="delegate") as p:
        writable = p.check()[-1]
    assert writable[:2] == ("calendar writable", False)
    assert "may not create/modify/delete" in writable[2]


def test_unknown_mailbox_is_calendar_not_found(ews: EWSTestServer) -> None:
    with open_ews(ews, "nobody@example.com") as p, pytest.raises(CalendarNotFound) as info:
        p.identity()
    assert str(info.value) == "Exchange has no mailbox nobody@example.com"


def test_wrong_password_fails_at_once(ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with open_ews(ews, new_mailbox(ews)) as p:
        with pytest.raises(AuthFailed, match="refused the credentials of svc-calsync"):
            p.identity()
        checks = p.check()
    assert checks == [
        ("endpoint reachable", True, ews.url),
        ("service account accepted", False, checks[1][2]),
    ]
    assert "wrong" not in repr(checks)  # the secret is never echoed


def test_dead_endpoint_is_connection_failed(ews: EWSTestServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens
    url = f"http://127.0.0.1:{port}/EWS/Exchange.asmx"
    with (
        open_ews(ews, "anna@example.com", service_endpoint=url) as p,
        pytest.raises(ConnectionFailed, match="cannot reach Exchange"),
    ):
        p.identity()


def test_server_busy_is_honoured_then_succeeds(provider: EWSProvider, ews: EWSTestServer) -> None:
    provider.create(event())
    ews.org.busy(2, back_off_ms=20, service="FindItem")
    before = len(ews.org.calls("FindItem"))
    assert len(provider.list_window(WINDOW, {}).etags) == 1
    assert len(ews.org.calls("FindItem")) - before == 3  # two refused, then served


def test_server_busy_beyond_the_bound_gives_up_with_a_clear_error(ews: EWSTestServer) -> None:
    with open_ews(ews, new_mailbox(ews), max_backoff=0.1) as p:
        p.identity()
        ews.org.busy(50, back_off_ms=60, service="FindItem")
        try:
            with pytest.raises(Throttled, match="throttled by Exchange"):
                p.list_window(WINDOW, {})
        finally:
            ews.org.clear_busy()


def test_an_outlook_uid_already_in_the_mailbox_is_not_duplicated(
    provider: EWSProvider, ews: EWSTestServer
) -> None:
    # Outlook's UIDs are the hex of a GlobalObjectId; Exchange searches those by id
    outlook_uid = "040000008200E00074C5B7101A82E00800000000" + "A1B2C3D4" * 6
    ews.org.seed(
        provider.mailbox,
        Subject="From Outlook",
        Start=T0,
        End=T0 + timedelta(hours=1),
        UID=outlook_uid,
    )
    results = provider.create_many([event(uid=outlook_uid), event(1), event(2)])
    refused = results[0]
    assert getattr(refused, "uid_conflict", False), refused
    assert sum(1 for r in results if not getattr(r, "uid_conflict", False)) == 2
    assert len(provider.list_window(WINDOW, {}).etags) == 3


def test_exchangelib_debug_records_never_reach_the_logs(
    provider: EWSProvider, caplog: pytest.LogCaptureFixture
) -> None:
    # exchangelib logs request headers (the Basic credentials) at DEBUG
    with caplog.at_level(logging.DEBUG):
        provider.create(event())
    assert not [r for r in caplog.records if r.name.startswith("exchangelib")]
    assert PASSWORD not in caplog.text


# -- one service account, many mailboxes, many threads ----------------------------------------


def test_a_mailbox_done_leaves_the_shared_connection_to_the_others(ews: EWSTestServer) -> None:
    """exchangelib shares one Protocol (one session: max_connections=1) between every
    mailbox of a service account; closing it under another thread's feet once left a
    third thread waiting for a session forever (`sync --all`, three mailboxes)."""
    first, second = open_ews(ews, new_mailbox(ews)), open_ews(ews, new_mailbox(ews))
    first.list_window(WINDOW, {})
    second.list_window(WINDOW, {})
    protocol = second._connect().protocol
    assert first._connect().protocol is protocol
    first.close()
    assert protocol._session_pool_size == 1  # still the second's
    second.list_window(WINDOW, {})
    second.close()
    assert protocol._session_pool_size == 0  # the last one closed it


def test_mailboxes_opened_and_closed_in_parallel_never_starve(ews: EWSTestServer) -> None:
    import threading

    mailboxes = [new_mailbox(ews) for _ in range(3)]
    errors: list[BaseException] = []

    def work(mailbox: str) -> None:
        try:
            for _ in range(15):
                with open_ews(ews, mailbox) as p:
                    p.list_window(WINDOW, {})  # type: ignore[attr-defined]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,), daemon=True) for m in mailboxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)  # a starved thread waits forever: fail instead of hanging
    assert not [t for t in threads if t.is_alive()], "a thread is still waiting for a session"
    assert errors == []
