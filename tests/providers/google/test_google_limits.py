"""Google's limits against the test server: calsync's own request budget, back-off on
403 `rateLimitExceeded` / 429, Retry-After, usage limits that defer a user, and what
a failing token endpoint means. The budget tests share a virtual clock between
calsync and the server, in which only calsync's waits take time: a minute of
Google's quota passes at once, and machine load changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.model import Event
from sync.providers.base import AuthFailed, ConnectionFailed, Item, Throttled, Window
from sync.providers.google.budget import Clock
from sync.providers.google.provider import GoogleProvider
from tests.providers.google.server.fixtures import (
    Key,
    VirtualClock,
    google_table,
    make_key,
    write_private,
)
from tests.providers.google.server.server import GoogleTestServer

START = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
WINDOW = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))


def event(n: int) -> Event:
    start = START + dt.timedelta(hours=n)
    return Event(
        uid=f"load-{n}", subject=f"Item {n}", start=start, end=start + dt.timedelta(minutes=30)
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def server(clock: VirtualClock) -> Iterator[tuple[GoogleTestServer, Key]]:
    google = GoogleTestServer(clock=clock.now).start()
    yield google, make_key(google)
    assert google.mail_sent == []
    google.stop()


def provider(
    server: tuple[GoogleTestServer, Key], tmp: Path, clock: Clock, **table: Any
) -> tuple[GoogleProvider, str]:
    google, key = server
    calendar = google.add_user()
    settings = {"google": google_table(google, key, tmp, **table)}
    g = GoogleProvider(f"google:{calendar.id}", settings=settings)
    g.clock = clock
    return g, calendar.id


def test_budget_spreads_a_big_first_sync_under_the_limit(
    server: tuple[GoogleTestServer, Key], clock: VirtualClock, tmp_path: Path
) -> None:
    google, _ = server
    google.per_minute = 30  # the documented 600, scaled down with the budget
    g, who = provider(server, tmp_path, Clock(clock.now, clock.sleep), requests_per_minute=25)
    made = g.create_many(event(n) for n in range(40))
    assert all(isinstance(i, Item) for i in made)
    assert len(g.list_window(WINDOW, {}).etags) == 40
    assert google.throttled == 0 and g.client.throttled == 0
    assert google.busiest_minute(who) <= 30
    # 41 requests at 25 a minute, bursts of 2: about 94 s, all of it the budget's
    assert 90 < clock.t - 1000 < 100 and g.client.budget.waited > 90
    g.close()


def test_backoff_on_403_and_429_until_google_lets_through(
    server: tuple[GoogleTestServer, Key], clock: VirtualClock, tmp_path: Path
) -> None:
    google, _ = server
    google.per_minute = 5
    # a budget over Google's (a raised quota that is not there): Google says "slow down"
    g, _who = provider(
        server,
        tmp_path,
        Clock(clock.now, clock.sleep),
        requests_per_minute=5000,
        quota_raised=True,
    )
    made = g.create_many(event(n) for n in range(16))
    assert all(isinstance(i, Item) for i in made), made
    assert google.throttled > 0 and g.client.throttled == google.throttled
    # exponential: each wait longer than the one before, until Google lets through
    # (the budget's own waits after each back-off are a fraction of a second)
    first = [w for w in clock.waits if w >= 1][:3]
    assert first == sorted(first) and 1 <= first[0] < 2 and first[2] >= 4
    assert len(g.list_window(WINDOW, {}).etags) == 16  # no duplicates, none lost
    g.close()


def test_retry_after_is_honoured_and_a_long_one_defers(
    server: tuple[GoogleTestServer, Key], clock: VirtualClock, tmp_path: Path
) -> None:
    google, _ = server
    waits = clock.waits
    g, _who = provider(server, tmp_path, Clock(clock.now, clock.sleep))
    google.faults.append((429, "rateLimitExceeded", "usageLimits", "7"))
    g.create(event(1))
    # Google's wait, then the budget's own pace (the saved-up burst is gone)
    assert waits[0] == 7.0 and sum(waits[1:]) < 1
    google.faults.append((429, "rateLimitExceeded", "usageLimits", "900"))
    with pytest.raises(Throttled) as info:
        g.create(event(2))
    assert info.value.retry_after > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14)
    # Calendar's own usage limits recover over hours: the user is deferred at once
    google.faults.append((403, "quotaExceeded", "usageLimits", ""))
    with pytest.raises(Throttled, match="usage limits"):
        g.create(event(3))
    assert max(waits[1:], default=0) < 1  # neither was waited for within the run
    g.close()


def test_a_failing_token_endpoint_is_transient(
    server: tuple[GoogleTestServer, Key], tmp_path: Path
) -> None:
    google, _ = server
    g, _who = provider(server, tmp_path, Clock())
    # google-auth tries three times (about 3 s) before it gives up
    google.token_faults.extend([(503, {"error": "temporarily_unavailable"})] * 3)
    with pytest.raises(ConnectionFailed, match="will retry next run") as info:
        g.list_window(WINDOW, {})
    assert not isinstance(info.value, AuthFailed)
    g.close()


def test_revoked_consent_says_to_run_google_auth(
    server: tuple[GoogleTestServer, Key], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    google, _ = server
    calendar = google.add_user()
    monkeypatch.setenv("CALSYNC_TEST_GOOGLE_SECRET", "client-secret")
    tokens = write_private(
        tmp_path / "tokens.json", f'{{"{calendar.id}": {{"refresh_token": "revoked"}}}}'
    )
    table = {
        "api_url": google.api_url,
        "token_uri": google.token_uri,
        "client_id": "cid.apps.googleusercontent.com",
        "client_secret_env": "CALSYNC_TEST_GOOGLE_SECRET",
        "token_file": str(tokens),
    }
    g = GoogleProvider(f"google:{calendar.id}", settings={"google": table})
    with pytest.raises(AuthFailed, match=r"needs re-consent.*calsync google auth"):
        g.identity()
    # a live consent works, with the least scope
    tokens.write_text(f'{{"{calendar.id}": {{"refresh_token": "{google.consent(calendar.id)}"}}}}')
    with GoogleProvider(f"google:{calendar.id}", settings={"google": table}) as ok:
        assert ok.identity() == f"google:{calendar.id}"
    assert google.grants[-1]["scope"] == "https://www.googleapis.com/auth/calendar.events"


def test_delegation_not_granted_names_the_scope(
    server: tuple[GoogleTestServer, Key], tmp_path: Path
) -> None:
    key = server[1]
    key.account.delegated = set()
    g, _who = provider(server, tmp_path, Clock())
    rows = g.check()
    assert rows[0][0] == "credentials accepted" and not rows[0][1]
    assert "domain-wide delegation" in rows[0][2] and "calendar.events" in rows[0][2]


def test_the_default_budget_never_exceeds_googles_minute() -> None:
    """5,000 requests through the default budget (500 a minute, bursts of 50): never
    more than 550 in any 60 s, and done in about ten minutes."""
    from sync.providers.google.budget import DEFAULT_PER_MINUTE, RequestBudget

    clock = VirtualClock()
    budget = RequestBudget(
        DEFAULT_PER_MINUTE, DEFAULT_PER_MINUTE // 10, Clock(clock.now, clock.sleep)
    )
    stamps = []
    for _ in range(5000):
        budget.take("www.googleapis.com")
        stamps.append(clock.now())
    first, busiest = 0, 0
    for last, when in enumerate(stamps):
        while when - stamps[first] >= 60:
            first += 1
        busiest = max(busiest, last - first + 1)
    assert busiest <= 550 < 600
    assert 9.8 * 60 < stamps[-1] - stamps[0] < 10 * 60
