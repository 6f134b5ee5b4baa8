"""The Microsoft 365 (Graph) adapter over real HTTPS against the loopback Graph server.

Covers what the provider contract cannot: delta paging and removals, the expired
sync state re-list, throttling, etags, the access-policy and credential errors an
operator sees, and meetings that must not be touched because Graph would notify
their attendees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from sync.providers.graph.provider import GraphProvider
from sync.providers.registry import provider_class, validate_url
from tests.providers.contract import ProviderContract
from tests.providers.graph.server.fixtures import (
    graph_app,
    graph_server,
    graph_settings,
    write_private,
)
from tests.providers.graph.server.server import GraphTestServer
from tests.providers.graph.server.store import Mailbox, outlook_body
from tests.providers.graph.server.tls import make_app_certificate

__all__ = ["graph_app", "graph_server", "graph_settings"]

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=90), NOW + dt.timedelta(days=365))

Settings = Callable[..., dict[str, Any]]


@pytest.fixture
def mailbox(graph_server: GraphTestServer) -> Mailbox:
    return graph_server.add_mailbox()


@pytest.fixture
def open_graph(graph_settings: Settings) -> Callable[..., GraphProvider]:
    opened: list[GraphProvider] = []

    def make(address: str, **overrides: Any) -> GraphProvider:
        provider = GraphProvider(f"graph:{address}", settings=graph_settings(**overrides))
        opened.append(provider)
        return provider

    yield make  # type: ignore[misc]
    for provider in opened:
        provider.close()


def timed(uid: str, hours: int = 24, **fields: Any) -> Event:
    start = NOW + dt.timedelta(hours=hours)
    return Event(
        uid=uid,
        subject=fields.pop("subject", uid),
        start=start,
        end=start + dt.timedelta(hours=1),
        **fields,
    )


def synced(event: Event) -> Event:
    """The fields that sync: last_modified is the server's to set."""
    return event.replace(last_modified=None)


def outlook(mailbox: Mailbox, subject: str, hours: int = 24, **extra: Any) -> dict[str, Any]:
    start = NOW + dt.timedelta(hours=hours)
    return mailbox.create(outlook_body(subject, start, start + dt.timedelta(minutes=30), **extra))


# -- addressing and configuration ----------------------------------------------------------


def test_registry_knows_graph_urls() -> None:
    assert provider_class("graph:anna@example.com") is GraphProvider
    assert validate_url("graph:Anna@Example.com") == "graph:anna@example.com"
    with pytest.raises(ConfigError, match="SMTP address"):
        validate_url("graph:anna@example.com/Calendar")


def test_missing_graph_table_names_what_to_add() -> None:
    with pytest.raises(ConfigError, match=r"\[graph\] table"):
        GraphProvider("graph:anna@example.com", settings={})
    with pytest.raises(ConfigError, match="client_id"):
        GraphProvider("graph:anna@example.com", settings={"graph": {"tenant_id": "t"}})


def test_secret_file_readable_by_others_is_refused(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, tmp_path: Path
) -> None:
    loose = tmp_path / "loose-secret"
    loose.write_text("whatever")
    loose.chmod(0o644)
    provider = open_graph(mailbox.address, client_secret_file=str(loose))
    with pytest.raises(ConfigError, match="chmod 600"):
        provider.identity()


# -- credentials and access -------------------------------------------------------------------


def test_check_passes_for_a_mailbox_in_the_policy(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    rows = open_graph(mailbox.address).check()
    assert [(name, ok) for name, ok, _ in rows] == [
        ("token acquired", True),
        ("mailbox reachable", True),
        ("calendar writable", True),
    ]


def test_mailbox_outside_the_access_policy_is_named(
    open_graph: Callable[..., GraphProvider], graph_server: GraphTestServer
) -> None:
    outside = graph_server.add_mailbox(allowed=False)
    provider = open_graph(outside.address)
    rows = dict((name, (ok, detail)) for name, ok, detail in provider.check())
    assert rows["token acquired"][0] is True
    ok, detail = rows["mailbox reachable"]
    assert not ok
    assert (
        f"the app may not access {outside.address}: add the mailbox to the application access policy"
        in detail
    )
    with pytest.raises(AuthFailed, match="application access policy"):
        provider.list_window(WINDOW, {})


def test_unknown_mailbox(open_graph: Callable[..., GraphProvider]) -> None:
    provider = open_graph("nobody@contoso.example")
    with pytest.raises(CalendarNotFound, match=r"nobody@contoso\.example does not exist"):
        provider.identity()


@pytest.mark.parametrize(
    ("app_kwargs", "overrides", "expected"),
    [
        ({"secret": "right"}, {"client_secret_file": "WRONG"}, "AADSTS7000215.*Value, not its ID"),
        ({"secret": "right", "secret_expired": True}, {}, "AADSTS7000222.*expired"),
        (
            {"secret": "right"},
            {"client_id": "00000000-0000-0000-0000-000000000000"},
            "AADSTS700016",
        ),
        ({"secret": "right"}, {"tenant_id": "not-our-tenant"}, "AADSTS90002.*tenant_id"),
    ],
)
def test_token_endpoint_errors_name_the_fix(
    graph_server: GraphTestServer,
    graph_settings: Settings,
    mailbox: Mailbox,
    tmp_path: Path,
    app_kwargs: dict[str, Any],
    overrides: dict[str, Any],
    expected: str,
) -> None:
    app = graph_server.register_app(**app_kwargs)
    if overrides.get("client_secret_file") == "WRONG":
        overrides["client_secret_file"] = str(write_private(tmp_path / "wrong", "not-the-secret"))
    provider = GraphProvider(f"graph:{mailbox.address}", settings=graph_settings(app, **overrides))
    with pytest.raises(AuthFailed, match=expected):
        provider.identity()
    ((name, ok, detail),) = provider.check()
    assert name == "token acquired" and not ok and "AADSTS" in detail
    assert "not-the-secret" not in detail and "right" not in detail.split(":")[-1]


def test_missing_admin_consent_and_read_only_permission(
    graph_server: GraphTestServer, graph_settings: Settings, mailbox: Mailbox
) -> None:
    unconsented = graph_server.register_app(secret="x", roles=())
    provider = GraphProvider(f"graph:{mailbox.address}", settings=graph_settings(unconsented))
    rows = {name: (ok, detail) for name, ok, detail in provider.check()}
    assert rows["token acquired"][0]
    assert not rows["mailbox reachable"][0]
    assert "admin consent" in rows["mailbox reachable"][1]

    reader = graph_server.register_app(secret="x", roles=("Calendars.Read",))
    provider = GraphProvider(f"graph:{mailbox.address}", settings=graph_settings(reader))
    rows = {name: (ok, detail) for name, ok, detail in provider.check()}
    assert rows["mailbox reachable"][0]
    assert not rows["calendar writable"][0]
    assert "Calendars.ReadWrite" in rows["calendar writable"][1]
    with pytest.raises(AuthFailed, match="may only read"):
        provider.create(timed("read-only"))


def test_certificate_credentials(
    graph_server: GraphTestServer, graph_settings: Settings, mailbox: Mailbox, tmp_path: Path
) -> None:
    cert = make_app_certificate()
    app = graph_server.register_app(certificate=cert.cert)
    pem = write_private(tmp_path / "app.pem", cert.pem)
    provider = GraphProvider(
        f"graph:{mailbox.address}", settings=graph_settings(app, certificate_file=str(pem))
    )
    assert provider.identity().startswith(f"graph:{mailbox.address}/calendar/")

    # a key without its certificate works with the thumbprint from the portal
    key_only = write_private(tmp_path / "key.pem", cert.key_pem)
    provider = GraphProvider(
        f"graph:{mailbox.address}",
        settings=graph_settings(
            app, certificate_file=str(key_only), thumbprint=cert.sha1_thumbprint
        ),
    )
    assert provider.check()[0][1]

    # a certificate the app registration does not hold
    other = make_app_certificate()
    stranger = write_private(tmp_path / "other.pem", other.pem)
    provider = GraphProvider(
        f"graph:{mailbox.address}", settings=graph_settings(app, certificate_file=str(stranger))
    )
    with pytest.raises(AuthFailed, match=r"AADSTS700027.*upload it"):
        provider.identity()


def test_certificate_file_problems(
    graph_server: GraphTestServer, graph_settings: Settings, mailbox: Mailbox, tmp_path: Path
) -> None:
    expired = make_app_certificate(expired=True)
    app = graph_server.register_app(certificate=expired.cert)
    pem = write_private(tmp_path / "expired.pem", expired.pem)
    provider = GraphProvider(
        f"graph:{mailbox.address}", settings=graph_settings(app, certificate_file=str(pem))
    )
    with pytest.raises(AuthFailed, match=r"expired on .*upload it to the app registration"):
        provider.identity()

    pem.chmod(0o640)
    provider = GraphProvider(
        f"graph:{mailbox.address}", settings=graph_settings(app, certificate_file=str(pem))
    )
    with pytest.raises(ConfigError, match="chmod 600"):
        provider.identity()


def test_tls_is_verified(open_graph: Callable[..., GraphProvider], mailbox: Mailbox) -> None:
    # without the test CA the server's certificate is untrusted
    provider = open_graph(mailbox.address, verify_tls=True)
    with pytest.raises(ConnectionFailed, match="TLS failure"):
        provider.identity()


# -- listing -------------------------------------------------------------------------------


def test_delta_pages_and_a_no_change_listing_costs_one_request(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    ids = [outlook(mailbox, f"meeting {n}", hours=24 * n + 1)["id"] for n in range(5)]
    provider = open_graph(mailbox.address, page_size=2)
    cache: dict[str, Any] = {}
    before = mailbox.requests
    listing = provider.list_window(WINDOW, cache)
    assert sorted(listing.etags) == sorted(ids)
    assert mailbox.requests - before == 3  # pages of 2, 2 and 1 items
    assert any("$skiptoken=" in line for line in graph_server.log)

    before = mailbox.requests
    again = provider.list_window(WINDOW, cache)
    assert again.etags == listing.etags
    assert mailbox.requests - before == 1


def test_delta_reports_changes_and_removals(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    keep, gone = outlook(mailbox, "keep"), outlook(mailbox, "gone")
    provider = open_graph(mailbox.address)
    cache: dict[str, Any] = {}
    first = provider.list_window(WINDOW, cache)
    assert set(first.etags) == {keep["id"], gone["id"]}

    mailbox.delete(gone["id"])
    edited = mailbox.update(keep["id"], {"subject": "kept and edited"})
    added = outlook(mailbox, "new")
    listing = provider.list_window(WINDOW, cache)
    assert listing.etags == {keep["id"]: edited["@odata.etag"], added["id"]: added["@odata.etag"]}
    assert provider.fetch([gone["id"]]) == {}
    assert provider.fetch([keep["id"]])[keep["id"]].event.subject == "kept and edited"


def test_expired_sync_state_relists_once(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    first = outlook(mailbox, "first")
    provider = open_graph(mailbox.address)
    cache: dict[str, Any] = {}
    provider.list_window(WINDOW, cache)
    mailbox.delete(first["id"])
    second = outlook(mailbox, "second")
    mailbox.expire_sync_state()
    before = mailbox.requests
    listing = provider.list_window(WINDOW, cache)
    assert listing.etags == {second["id"]: second["@odata.etag"]}
    assert mailbox.requests - before == 2  # the 410, then one full listing
    before = mailbox.requests
    provider.list_window(WINDOW, cache)
    assert mailbox.requests - before == 1


def test_listing_keeps_to_the_window(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    inside = outlook(mailbox, "inside", hours=2)
    # starts before the window but overlaps it: calendarView returns it, the listing does not
    start = WINDOW.start - dt.timedelta(hours=1)
    overlapping = mailbox.create(outlook_body("overlap", start, start + dt.timedelta(hours=3)))
    assert overlapping["id"]
    provider = open_graph(mailbox.address)
    assert set(provider.list_window(WINDOW, {}).etags) == {inside["id"]}

    # a window in another month starts a fresh delta round instead of reusing the link
    cache: dict[str, Any] = {}
    provider.list_window(WINDOW, cache)
    later = Window(WINDOW.start + dt.timedelta(days=62), WINDOW.end + dt.timedelta(days=62))
    provider.list_window(later, cache)
    assert cache["key"]["range"][0] != "" and "startDateTime" not in cache["delta_link"]


# -- faults --------------------------------------------------------------------------------


def test_throttling_honours_retry_after(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    outlook(mailbox, "busy day")
    provider = open_graph(mailbox.address)
    waits: list[float] = []
    provider.client.sleep = waits.append
    graph_server.inject(429, times=2, retry_after="7", mailbox=mailbox.address)
    graph_server.inject(503, times=1, mailbox=mailbox.address)
    listing = provider.list_window(WINDOW, {})
    assert len(listing.etags) == 1
    assert waits == [7.0, 7.0, 4.0]  # Retry-After twice, then backoff (third attempt)


def test_throttling_gives_up_with_a_clear_error(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    provider = open_graph(mailbox.address, retries=2)
    provider.client.sleep = lambda _: None
    graph_server.inject(504, times=3, mailbox=mailbox.address)
    with pytest.raises(ConnectionFailed, match="gave up after 2 retries"):
        provider.identity()
    graph_server.inject(429, times=1, retry_after="3600", mailbox=mailbox.address)
    # more than calsync waits in a run: the user is deferred until then (issue 14)
    with pytest.raises(
        Throttled, match=r"throttled by Microsoft Graph .*retry after \d\d:\d\d UTC"
    ):
        provider.list_window(WINDOW, {})


def test_a_silent_server_times_out(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    provider = open_graph(mailbox.address, timeout=0.3)
    provider.client.tokens.token()
    graph_server.inject(0, times=2, delay=0.8, mailbox=mailbox.address)
    with pytest.raises(ConnectionFailed, match=r"did not answer within 0\.3 s"):
        provider.identity()


def test_a_create_retried_after_a_lost_answer_is_not_duplicated(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    provider = open_graph(mailbox.address, timeout=0.4)
    provider.client.tokens.token()
    # the first POST is answered too late; the retry carries the same transactionId
    slow = graph_server.inject(0, times=1, delay=1.0, method="POST", mailbox=mailbox.address)
    item = provider.create(timed("only-once"))
    assert slow.done.wait(10), "the slow first POST never finished"
    provider.list_window(WINDOW, cache := {})
    assert list(cache["items"]) == [item.id]


# -- writes ----------------------------------------------------------------------------------


def test_writes_check_the_etag(open_graph: Callable[..., GraphProvider], mailbox: Mailbox) -> None:
    provider = open_graph(mailbox.address)
    item = provider.create(timed("etag-me"))
    mailbox.update(item.id, {"subject": "edited in Outlook"})
    with pytest.raises(EtagMismatch):
        provider.update(item.id, item.etag, timed("etag-me", subject="from the CRM"))
    with pytest.raises(EtagMismatch):
        provider.delete(item.id, item.etag)
    fresh = provider.fetch([item.id])[item.id]
    updated = provider.update(item.id, fresh.etag, timed("etag-me", subject="from the CRM"))
    assert updated.etag != fresh.etag
    provider.delete(item.id, updated.etag)
    with pytest.raises(ItemNotFound):
        provider.delete(item.id, updated.etag)


def test_meetings_the_mailbox_organizes_are_never_written(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    attendees = [
        {
            "type": "required",
            "emailAddress": {"address": "bob@fabrikam.example", "name": "Bob"},
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
        }
    ]
    meeting = outlook(mailbox, "Board meeting", attendees=attendees)
    provider = open_graph(mailbox.address)
    cache: dict[str, Any] = {}
    provider.list_window(WINDOW, cache)
    before = mailbox.requests
    with pytest.raises(NotifyRefused, match="would notify them"):
        provider.update(meeting["id"], meeting["@odata.etag"], timed("x", subject="moved"))
    with pytest.raises(NotifyRefused):
        provider.delete(meeting["id"], meeting["@odata.etag"])
    assert mailbox.requests == before  # known from the listing: nothing was sent
    assert mailbox.events[meeting["id"]]["subject"] == "Board meeting"

    # a provider that has not listed it asks first, and still refuses
    fresh = open_graph(mailbox.address)
    with pytest.raises(NotifyRefused):
        fresh.update(meeting["id"], meeting["@odata.etag"], timed("x", subject="moved"))
    assert mailbox.events[meeting["id"]]["subject"] == "Board meeting"

    # an invitation received (not organized here) is this mailbox's own copy
    invite = outlook(mailbox, "Their meeting", attendees=attendees)
    mailbox.events[invite["id"]]["isOrganizer"] = False
    updated = fresh.update(invite["id"], invite["@odata.etag"], timed("x", subject="my copy"))
    assert updated.event.subject == "my copy"


def test_calsync_never_sends_attendees_or_notifications(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    provider = open_graph(mailbox.address)
    with pytest.raises(NotifyRefused):
        provider.create(timed("loud"), notify=True)
    item = provider.create(timed("quiet"))
    assert mailbox.events[item.id]["attendees"] == []


# -- mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize("show_as", list(ShowAs))
@pytest.mark.parametrize("privacy", list(Privacy))
def test_fields_round_trip(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, show_as: ShowAs, privacy: Privacy
) -> None:
    provider = open_graph(mailbox.address)
    event = timed(
        f"rt-{show_as}-{privacy}",
        location="Room 4 – Malmö",
        show_as=show_as,
        privacy=privacy,
        reminder=None if privacy is Privacy.PERSONAL else 45,
        text="line one\nline två",
    )
    item = provider.create(event)
    assert synced(item.event) == event
    assert synced(provider.fetch([item.id])[item.id].event) == event
    assert item.event.content_hash() == event.content_hash()


def test_all_day_and_time_zones(open_graph: Callable[..., GraphProvider], mailbox: Mailbox) -> None:
    from zoneinfo import ZoneInfo

    provider = open_graph(mailbox.address)
    day = (NOW + dt.timedelta(days=3)).date()
    fair = Event(
        uid="fair", subject="Fair", start=day, end=day + dt.timedelta(days=3), all_day=True
    )
    stockholm = ZoneInfo("Europe/Stockholm")
    local_start = dt.datetime.combine(day, dt.time(9), tzinfo=stockholm)
    meeting = Event(
        uid="sthlm", subject="Fika", start=local_start, end=local_start + dt.timedelta(minutes=30)
    )
    for event in (fair, meeting):
        item = provider.create(event)
        got = provider.fetch([item.id])[item.id].event
        assert synced(got) == event
        assert got.content_hash() == event.content_hash()  # the zone survives too
    assert mailbox.events[next(iter(mailbox.events))]["isAllDay"] is True


def test_outlook_items_keep_their_ical_uid_and_plain_text(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    created = outlook(
        mailbox,
        "From Outlook",
        body={
            "contentType": "html",
            "content": "<html><body><p>Hello<br>there &amp; all</p></body></html>",
        },
        isReminderOn=False,
    )
    provider = open_graph(mailbox.address)
    event = provider.fetch([created["id"]])[created["id"]].event
    assert event.uid == created["iCalUId"]
    assert event.text == "Hello\nthere & all"
    assert event.reminder is None
    assert event.last_modified is not None and event.last_modified.tzinfo is not None

    # calsync's own UID survives on the copies it creates
    item = provider.create(timed("CRM-UID-42"))
    assert provider.fetch([item.id])[item.id].event.uid == "CRM-UID-42"
    assert mailbox.events[item.id]["iCalUId"] != "CRM-UID-42"


def test_identity_is_mailbox_and_calendar(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox, graph_server: GraphTestServer
) -> None:
    ident = open_graph(mailbox.address).identity()
    assert ident == f"graph:{mailbox.address}/calendar/{mailbox.calendar_id}"
    other = graph_server.add_mailbox()
    assert open_graph(other.address).identity() != ident


# -- the provider contract ---------------------------------------------------------------------


class TestGraphContract(ProviderContract):
    @pytest.fixture
    def provider(
        self, graph_server: GraphTestServer, graph_settings: Settings
    ) -> Iterator[GraphProvider]:
        mailbox = graph_server.add_mailbox()
        with GraphProvider(f"graph:{mailbox.address}", settings=graph_settings()) as provider:
            yield provider  # type: ignore[misc]


def test_calendar_name_comes_with_the_calendar_identity_read(
    open_graph: Callable[..., GraphProvider], mailbox: Mailbox
) -> None:
    mailbox.calendar_name = "予定表 [bold]Team[/bold]"
    provider = open_graph(mailbox.address)
    provider.identity()
    before = mailbox.requests
    assert provider.calendar_name() == "予定表 [bold]Team[/bold]"
    assert mailbox.requests == before  # the calendar resource identity() read
    mailbox.calendar_name = ""
    assert open_graph(mailbox.address).calendar_name() is None
