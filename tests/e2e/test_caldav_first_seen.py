"""A CalDAV change without LAST-MODIFIED is dated by the listing that first saw it,
kept in the state across runs that could not apply it (SPEC R3, issue 15.3)."""

from __future__ import annotations

import base64
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.ical import render_event
from tests.e2e.test_caldav_engine import CONFIG, PASSWORD_ENV
from tests.engine.harness import Env, ev


def put_without_last_modified(url: str, event) -> None:  # type: ignore[no-untyped-def]
    """A client that keeps no LAST-MODIFIED rewrites the item."""
    body = render_event(event.replace(last_modified=None))
    assert b"LAST-MODIFIED" not in body
    request = urllib.request.Request(
        url,
        data=body,
        method="PUT",
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Authorization": "Basic " + base64.b64encode(b"calsync:x").decode(),
        },
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status in (201, 204)


def test_a_change_first_seen_by_an_earlier_run_keeps_that_time(
    tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    env = Env(tmp_path, remote_url=f"caldav:{radicale_calendar}", config_text=CONFIG)
    env.add_user()
    env.put("crm", ev("demo", "Demo"))
    for n in range(8):
        env.put("crm", ev(f"c{n}", f"Item {n}", days=n + 2))
    assert env.init().result == "ok"

    # run 1, ten minutes ago: the remote edit is seen, but a mass deletion in the CRM
    # stops the run before anything is applied
    remote = env.by_subject("remote")["Demo"]
    put_without_last_modified(radicale_calendar + remote.id, remote.event.replace(location="R"))
    for n in range(6):
        env.remove("crm", f"Item {n}")
    seen_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    first = env.sync(now=seen_at)
    assert first.result == "needs_operator" and first.needs == "mass_delete"

    # then the CRM edits the item (LAST-MODIFIED now), after the remote change was seen
    env.edit("crm", "Demo", location="C")
    later = env.sync(force=True, now=datetime.now(UTC) + timedelta(minutes=10))
    assert later.result == "ok", later
    for side in ("crm", "remote"):
        assert env.by_subject(side)["Demo"].event.location == "C"
    [entry] = [e for e in env.log() if e["reason"].startswith("conflict")]
    assert entry["side"] == "remote"
    assert entry["reason"].startswith("conflict: CRM version kept: CRM modified ")
    assert entry["reason"].endswith(
        f"is later than remote first seen {seen_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    # synced: nothing is kept about it any more
    assert "seen" not in env.files.read_state().meta
    env.assert_converged()
