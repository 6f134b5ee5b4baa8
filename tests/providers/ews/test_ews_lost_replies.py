"""Writes to Exchange (EWS) whose answer is lost: the test server's lost-reply mode.

The server carries out CreateItem / UpdateItem / DeleteItem and then resets the
connection or answers a SOAP fault instead of the result. The next sync must find
out what happened: the UID lookup before each create keeps the item single, the
changekey makes a repeated update a conflict instead of a blind overwrite, and the
trash entry of a delete stays until a listing shows the item gone.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.engine.harness import Env, ev
from tests.providers.ews.server.fixtures import ews, new_mailbox
from tests.providers.ews.server.server import EWSTestServer

__all__ = ["ews"]
HOW = ["reset", "500"]


@pytest.fixture
def env(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> Env:
    mailbox, toml = new_mailbox(ews, monkeypatch)
    made = Env(tmp_path, remote_url=f"ews:{mailbox}", config_text=toml)
    made.add_user(skip_private=False)
    for n in range(3):
        made.put("crm", ev(f"ews-lost-{n}@x", f"Visit {n}", days=n + 1))
    assert made.init().result == "ok"
    return made


def _subjects(env: Env, side: str) -> Counter[str]:
    return Counter(i.event.subject for i in env.items(side))


def test_the_lost_reply_mode_applies_the_write_and_loses_the_answer(
    env: Env, ews: EWSTestServer
) -> None:
    env.put("crm", ev("ews-lost-new@x", "New visit", days=5))
    ews.org.lose_reply("CreateItem", "500")
    first = env.sync()
    assert first.result == "failed"
    assert _subjects(env, "remote")["New visit"] == 1  # stored, though the answer was lost


@pytest.mark.parametrize("how", HOW)
def test_a_create_whose_answer_is_lost_is_not_duplicated(
    env: Env, ews: EWSTestServer, how: str
) -> None:
    env.put("crm", ev("ews-lost-new@x", "New visit", days=5))
    ews.org.lose_reply("CreateItem", how)
    env.sync()
    ews.org.clear_busy()
    assert env.sync().result == "ok"
    assert _subjects(env, "remote")["New visit"] == 1
    assert _subjects(env, "crm")["New visit"] == 1
    env.assert_converged()


@pytest.mark.parametrize("how", HOW)
def test_an_update_whose_answer_is_lost_converges(env: Env, ews: EWSTestServer, how: str) -> None:
    env.edit("crm", "Visit 1", location="Room 12")
    ews.org.lose_reply("UpdateItem", how)
    env.sync()
    ews.org.clear_busy()
    assert env.sync().result == "ok"
    assert env.by_subject("remote")["Visit 1"].event.location == "Room 12"
    assert env.by_subject("crm")["Visit 1"].event.location == "Room 12"
    env.assert_converged()


@pytest.mark.parametrize("how", HOW)
def test_a_delete_whose_answer_is_lost_keeps_its_trash_entry(
    env: Env, ews: EWSTestServer, how: str
) -> None:
    env.remove("crm", "Visit 2")
    ews.org.lose_reply("DeleteItem", how)
    first = env.sync()
    assert first.result == "failed", first
    assert "Visit 2" not in env.by_subject("remote")
    assert [e["item"]["uid"] for e in env.trash()] == ["ews-lost-2@x"]
    ews.org.clear_busy()
    assert env.sync().result == "ok"
    assert [e["item"]["uid"] for e in env.trash()] == ["ews-lost-2@x"]
    assert env.files.trash.pending() == []
    deletes = [e for e in env.log() if e["action"] == "delete"]
    assert [(e["side"], e["before"]["uid"]) for e in deletes] == [("remote", "ews-lost-2@x")]
    env.assert_converged()
