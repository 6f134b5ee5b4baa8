"""Writes to Microsoft 365 (Graph) whose answer is lost: the test server's lost-reply mode.

The server carries out the POST / PATCH / DELETE, then answers a gateway error or
resets the connection. The adapter's transactionId makes its retried POST return
the event already made; the next sync settles the rest: the UID lookup before a
create, the etag (If-Match) on an update, the pending trash entry of a delete.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.engine.harness import Env, ev
from tests.providers.graph.server.fixtures import connection_table, graph_app, graph_server
from tests.providers.graph.server.server import App, GraphTestServer
from tests.providers.graph.server.store import Mailbox
from tests.recurring.series import AROUND

__all__ = ["graph_app", "graph_server"]
#: 500: an answer lost behind a gateway (not retried); 504: a gateway timeout (retried:
#: the POST again with its transactionId); 0: a reset (retried once)
LOST = [500, 504, 0]


@pytest.fixture
def mailbox(graph_server: GraphTestServer) -> Mailbox:
    return graph_server.add_mailbox()


@pytest.fixture
def env(tmp_path: Path, graph_server: GraphTestServer, graph_app: App, mailbox: Mailbox) -> Env:
    table = connection_table(graph_server, graph_app, tmp_path)
    toml = "[graph]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    made = Env(tmp_path, remote_url=f"graph:{mailbox.address}", config_text=toml)
    made.window = AROUND  # Graph serves at most 1825 days
    made.add_user(skip_private=False)
    for n in range(3):
        made.put("crm", ev(f"graph-lost-{n}@x", f"Call {n}", days=n + 1))
    assert made.init().result == "ok"
    return made


def _subjects(env: Env, side: str) -> Counter[str]:
    return Counter(i.event.subject for i in env.items(side))


def _lose(server: GraphTestServer, mailbox: Mailbox, method: str, status: int) -> None:
    server.inject(
        status, method=method, mailbox=mailbox.address, lose_reply=True, path_contains="/events"
    )


def test_the_lost_reply_mode_carries_the_write_out(
    env: Env, graph_server: GraphTestServer, mailbox: Mailbox
) -> None:
    env.put("crm", ev("graph-lost-new@x", "New call", days=5))
    _lose(graph_server, mailbox, "POST", 500)
    assert env.sync().result == "failed"
    assert _subjects(env, "remote")["New call"] == 1  # stored, though the answer was lost


def test_a_reset_create_is_retried_with_the_same_transaction_id(
    env: Env, graph_server: GraphTestServer, mailbox: Mailbox
) -> None:
    env.put("crm", ev("graph-lost-new@x", "New call", days=5))
    _lose(graph_server, mailbox, "POST", 0)
    assert env.sync().result == "ok"  # the retry got the event the first POST made
    assert _subjects(env, "remote")["New call"] == 1
    env.assert_converged()


@pytest.mark.parametrize("status", LOST)
def test_a_create_whose_answer_is_lost_is_not_duplicated(
    env: Env, graph_server: GraphTestServer, mailbox: Mailbox, status: int
) -> None:
    env.put("crm", ev("graph-lost-new@x", "New call", days=5))
    _lose(graph_server, mailbox, "POST", status)
    env.sync()
    assert env.sync().result == "ok"
    assert _subjects(env, "remote")["New call"] == 1
    assert _subjects(env, "crm")["New call"] == 1
    env.assert_converged()


@pytest.mark.parametrize("status", LOST)
def test_an_update_whose_answer_is_lost_converges(
    env: Env, graph_server: GraphTestServer, mailbox: Mailbox, status: int
) -> None:
    env.edit("crm", "Call 1", location="Room 12")
    _lose(graph_server, mailbox, "PATCH", status)
    env.sync()
    assert env.sync().result == "ok"
    assert env.by_subject("remote")["Call 1"].event.location == "Room 12"
    assert env.by_subject("crm")["Call 1"].event.location == "Room 12"
    env.assert_converged()


@pytest.mark.parametrize("status", LOST)
def test_a_delete_whose_answer_is_lost_keeps_its_trash_entry(
    env: Env, graph_server: GraphTestServer, mailbox: Mailbox, status: int
) -> None:
    env.remove("crm", "Call 2")
    _lose(graph_server, mailbox, "DELETE", status)
    env.sync()
    assert "Call 2" not in env.by_subject("remote")
    assert [e["item"]["uid"] for e in env.trash()] == ["graph-lost-2@x"]
    assert env.sync().result == "ok"
    assert [e["item"]["uid"] for e in env.trash()] == ["graph-lost-2@x"]
    assert env.files.trash.pending() == []
    deletes = [e for e in env.log() if e["action"] == "delete"]
    assert [(e["side"], e["before"]["uid"]) for e in deletes] == [("remote", "graph-lost-2@x")]
    env.assert_converged()
