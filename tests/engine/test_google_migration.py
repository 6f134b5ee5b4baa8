"""A user paired over Google's CalDAV endpoint moves to the Calendar API (docs/google.md).

The calendar is the same (identity `google:ID` either way), the item ids are not:
CalDAV named each item by its href (`UID.ics`), the API names it by event id. The
first run on the API must keep every pair: no duplicate, no deletion, no trash,
and changes made on either side since the last CalDAV sync still go across.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.state import UserFiles
from tests.engine.harness import Env, ev
from tests.providers.google.server.env import google_env, shared_server
from tests.providers.google.server.store import Calendar


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Env, Calendar]]:
    made = google_env(tmp_path / "root")
    yield made
    shutil.rmtree(tmp_path / "root", ignore_errors=True)


def as_if_paired_over_caldav(files: UserFiles) -> None:
    """Rewrite the state as the CalDAV adapter left it: hrefs as ids, its own etags
    and cache (the URL `google:ID` stays: only what the scheme means changed)."""
    with files.open_state() as state:
        for key, pair in list(state.pairs.items()):
            remote = dict(pair["remote"])
            remote["id"] = f"{remote['event']['uid']}.ics"
            remote["etag"] = '"63884012345"'
            state.pairs[key] = {**pair, "remote": remote}
        state.cache("remote").clear()
        state.cache("remote").update({"mode": "query", "index": {}})


def test_pairs_made_over_caldav_survive_the_move(env: tuple[Env, Calendar]) -> None:
    e, calendar = env
    server = shared_server()[0]
    mails = len(server.mail_sent)
    e.add_user(skip_private=False)
    for n, subject in enumerate(["Visit", "Call", "Demo", "Lunch", "Fair", "Review"]):
        e.put("crm", ev(f"mig-{n}", subject, days=n + 1))
    assert e.init().result == "ok"
    ids_before = {i.event.uid: i.id for i in e.items("remote")}
    as_if_paired_over_caldav(e.files)
    # changed since the last CalDAV sync: one item in Google, another in the CRM
    e.edit("remote", "Call", location="Room 7")
    e.edit("crm", "Demo", location="Hall B")

    result = e.sync()
    assert result.result == "ok", result
    crm, remote = e.by_subject("crm"), e.by_subject("remote")
    assert (
        sorted(crm)
        == sorted(remote)
        == sorted(["Visit", "Call", "Demo", "Lunch", "Fair", "Review"])
    )
    assert crm["Call"].event.location == "Room 7"
    assert remote["Demo"].event.location == "Hall B"
    # the same Google events, no copies, nothing trashed or deleted
    assert {i.event.uid: i.id for i in remote.values()} == ids_before
    assert e.trash() == []
    assert not [x for x in e.log() if x["action"] in ("delete", "create")][len(ids_before) :]
    state = e.files.read_state()
    assert {p["remote"]["id"] for p in state.pairs.values()} == set(ids_before.values())
    e.assert_converged()
    assert server.mail_sent[mails:] == []
    assert len(calendar.events) == len(ids_before)


def test_a_sync_with_nothing_to_do_costs_one_request(env: tuple[Env, Calendar]) -> None:
    e, calendar = env
    server = shared_server()[0]
    e.add_user(skip_private=False)
    for n in range(3):
        e.put("crm", ev(f"idle-{n}", f"Idle {n}", days=n + 1))
    assert e.init().result == "ok"
    assert e.sync().result == "ok"
    before = [r for r in server.requests if r[0] == calendar.id]
    assert e.sync().result == "ok"
    after = [r for r in server.requests if r[0] == calendar.id]
    assert len(after) - len(before) == 1  # events.list with the sync token
