"""A CalDAV calendar deleted and created again at the same URL is another calendar
(SPEC R10, issue 15.2), on a real Radicale.

Before, the stored identity was only the URL: the next sync deleted every CRM item
(into the trash) or, with more items, tripped the mass-deletion guard instead of
asking the identity question.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path

import pytest

from sync.engine.runner import identity_changed_reason
from tests.e2e.test_caldav_engine import CONFIG, PASSWORD_ENV
from tests.engine.harness import Env, ev
from tests.providers.dav.dav_front import dav_front
from tests.providers.dav.radicale_server import RadicaleServer


def replace_calendar(server: RadicaleServer, url: str) -> None:
    """DELETE the collection, then MKCALENDAR it again at the same URL."""
    request = urllib.request.Request(
        url,
        method="DELETE",
        headers={"Authorization": "Basic " + base64.b64encode(b"calsync:x").decode()},
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status in (200, 204)
    assert server.new_calendar(url.rstrip("/").rsplit("/", 1)[1]) == url


def make_env(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    env = Env(tmp_path, remote_url=f"caldav:{url}", config_text=CONFIG)
    env.add_user()
    return env


def assert_asks_and_reinit_works(env: Env, crm_items: int) -> None:
    r = env.sync()
    assert (r.result, r.needs, r.reason) == (
        "needs_operator",
        "identity_changed",
        identity_changed_reason(env.name),
    )
    assert len(env.items("crm")) == crm_items  # nothing deleted ...
    assert env.trash() == []  # ... nor trashed
    assert [i.event.subject for i in env.items("remote")] == ["Someone else's"]
    # the operator answers yes: init pairs against the new calendar, both ways
    r = env.init(accept_new_identity=True)
    assert r.result == "ok", r
    assert len(env.items("crm")) == crm_items + 1
    assert len(env.items("remote")) == crm_items + 1
    r = env.sync()
    assert r.result == "ok" and all(v == 0 for c in r.counts.values() for v in c.values())
    env.assert_converged()


@pytest.mark.parametrize("crm_items", [1, 8])
def test_a_replaced_calendar_asks_the_identity_question(
    tmp_path: Path,
    radicale_server: RadicaleServer,
    radicale_calendar: str,
    monkeypatch: pytest.MonkeyPatch,
    crm_items: int,
) -> None:
    env = make_env(tmp_path, radicale_calendar, monkeypatch)
    for n in range(crm_items):
        env.put("crm", ev(f"c{n}", f"Item {n}", days=n + 1))
    assert env.init().result == "ok"
    first = env.files.read_state().identity
    assert first is not None and "#calsync-id=" in first  # the marker Radicale keeps
    assert env.init().result == "ok"  # init again: the same calendar, the same identity
    assert env.files.read_state().identity == first

    replace_calendar(radicale_server, radicale_calendar)
    env.put("remote", ev("x1", "Someone else's", days=3))
    assert_asks_and_reinit_works(env, crm_items)
    second = env.files.read_state().identity
    assert second is not None and "#calsync-id=" in second and second != first


def test_without_dead_properties_a_refused_sync_token_tells(
    tmp_path: Path,
    radicale_server: RadicaleServer,
    radicale_calendar: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that keeps no dead property: the identity is the URL, and the replaced
    calendar refuses the old sync token with none of the old items left."""
    with dav_front(radicale_calendar, drop_dead_properties=True) as front:
        env = make_env(tmp_path, front.calendar_url, monkeypatch)
        for n in range(3):
            env.put("crm", ev(f"c{n}", f"Item {n}", days=n + 1))
        assert env.init(dry_run=True).result == "planned"
        assert not any(s.method == "PROPPATCH" for s in front.seen)  # a dry run marks nothing
        assert env.init().result == "ok"
        assert env.files.read_state().identity == f"caldav:{front.calendar_url}"
        assert any(s.method == "PROPPATCH" for s in front.seen)
        assert env.sync().result == "ok"  # the listing now knows the items init created

        replace_calendar(radicale_server, radicale_calendar)
        env.put("remote", ev("x1", "Someone else's", days=3))
        assert_asks_and_reinit_works(env, 3)
        assert env.files.read_state().identity == f"caldav:{front.calendar_url}"


def test_an_expired_sync_token_on_the_same_calendar_is_no_identity_change(
    tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dav_front(radicale_calendar, drop_dead_properties=True) as front:
        env = make_env(tmp_path, front.calendar_url, monkeypatch)
        for n in range(3):
            env.put("crm", ev(f"c{n}", f"Item {n}", days=n + 1))
        assert env.init().result == "ok"
        env.put("remote", ev("r1", "New remote item", days=4))
        # the server forgets the token (Radicale refuses one it does not know with
        # 403 DAV:valid-sync-token), while the calendar's items stay
        state_path = env.files.state_path
        data = json.loads(state_path.read_text(encoding="utf-8"))
        cache = data["meta"]["1"]["caches"]["remote"]
        cache["token"] = "http://radicale.org/ns/sync/0000"
        state_path.write_text(json.dumps(data), encoding="utf-8")
        r = env.sync()
        assert r.result == "ok", r
        assert r.counts["crm"]["create"] == 1
        env.assert_converged()
