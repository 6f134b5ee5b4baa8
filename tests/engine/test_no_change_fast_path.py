"""The no-change fast path (issue 17): a run whose listings show every paired item
with the etag it was synced with decodes none of the stored events, and a change on
either side after such a run is still seen — on the folder provider, Radicale, and
the Graph and EWS test servers.

The decodes are counted at the real decoder (`sync.engine.pairs.event_from_dict`),
wrapped, not replaced; so are the reads of pairs.json (`storage.state.read_pairs`):
a no-change run decides from the digest in state.json and never opens that file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import storage.state as state_module
import sync.engine.pairs as pairs_module
from sync.engine.pairs import Pair
from sync.engine.planner import Planner
from sync.engine.runner import make_window
from sync.engine.views import gather
from sync.settings import Settings
from tests.engine.harness import Env, ev
from tests.providers.ews.server.fixtures import ews, new_mailbox
from tests.providers.ews.server.server import EWSTestServer
from tests.providers.graph.server.fixtures import SECRET, graph_app, graph_server, write_private
from tests.providers.graph.server.server import App, GraphTestServer
from tests.recurring.series import AROUND

__all__ = ["ews", "graph_app", "graph_server"]

CALDAV_PASSWORD_ENV = "CALSYNC_TEST_FAST_PATH_PASSWORD"


class Decodes:
    """How many stored events the engine decoded, and how many times it read pairs.json,
    since the last `reset`; `count` is both (0 on a no-change run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events = self.pair_files = 0
        real = pairs_module.event_from_dict
        real_read = state_module.read_pairs

        def counting(data: dict[str, Any]) -> Any:
            self.events += 1
            return real(data)

        def counting_reads(path: Path) -> Any:
            self.pair_files += 1
            return real_read(path)

        monkeypatch.setattr(pairs_module, "event_from_dict", counting)
        monkeypatch.setattr(state_module, "read_pairs", counting_reads)

    @property
    def count(self) -> int:
        return self.events + self.pair_files

    def reset(self) -> None:
        self.events = self.pair_files = 0


def _no_writes(result: Any) -> None:
    assert result.result == "ok", result.reason
    assert not any(n for side in result.counts.values() for n in side.values()), result.counts


def scenario(env: Env, decodes: Decodes) -> None:
    """Init; then no-change runs between a change on each side, each of which is seen."""
    env.add_user()
    env.put("remote", ev("r1", "Remote one", days=1))
    env.put("remote", ev("r2", "Remote two", days=2))
    env.put("crm", ev("c1", "CRM one", days=3))
    env.put("crm", ev("c2", "CRM two", days=4))
    assert env.init().result == "ok"
    env.sync()  # settles etags a server may have changed on its own after a write

    decodes.reset()
    _no_writes(env.sync())
    assert decodes.count == 0  # the fast path: nothing decoded

    decodes.reset()
    env.edit("crm", "CRM one", location="Room 4")
    assert env.sync().result == "ok"
    assert env.by_subject("remote")["CRM one"].event.location == "Room 4"
    assert decodes.pair_files == 1  # a change: the pairings are read, once

    decodes.reset()
    _no_writes(env.sync())
    assert decodes.count == 0

    env.edit("remote", "Remote two", location="Teams")
    assert env.sync().result == "ok"
    assert env.by_subject("crm")["Remote two"].event.location == "Teams"

    _no_writes(env.sync())
    env.remove("remote", "Remote one")
    assert env.sync().result == "ok"
    assert "Remote one" not in env.by_subject("crm")

    _no_writes(env.sync())
    env.remove("crm", "CRM two")
    assert env.sync().result == "ok"
    assert "CRM two" not in env.by_subject("remote")

    _no_writes(env.sync())
    env.put("remote", ev("r3", "Remote three", days=5))
    assert env.sync().result == "ok"
    assert "Remote three" in env.by_subject("crm")
    env.assert_converged()


def test_folder_to_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario(Env(tmp_path), Decodes(monkeypatch))


def test_radicale(tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CALDAV_PASSWORD_ENV, "x")  # Radicale's auth type none takes any
    config = f'[caldav]\nusername = "calsync"\npassword_env = "{CALDAV_PASSWORD_ENV}"\n'
    env = Env(tmp_path, remote_url=f"caldav:{radicale_calendar}", config_text=config)
    scenario(env, Decodes(monkeypatch))


def test_graph(
    tmp_path: Path,
    graph_server: GraphTestServer,
    graph_app: App,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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
    env.window = AROUND
    scenario(env, Decodes(monkeypatch))


def test_ews(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox, config = new_mailbox(ews, monkeypatch)
    env = Env(tmp_path, remote_url=f"ews:{mailbox}", config_text=config)
    scenario(env, Decodes(monkeypatch))


def _plan_decoding(env: Env, settings: Settings) -> tuple[int, int, list[str]]:
    """Plan one run by hand: (stored events decoded, pairs, the plan's writes' kinds)."""
    from datetime import UTC, datetime

    from storage.state import UserState

    now = datetime.now(UTC)
    state = UserState(env.files.state_path, writable=False)
    stored = [Pair.from_json(p) for p in state.pairs.values()]
    providers = {"crm": env.provider("crm"), "remote": env.provider("remote")}
    window = make_window(settings, now)
    views = gather(providers, state, stored, window)
    plan = Planner(settings, window, now).plan(stored, views["crm"], views["remote"])
    decoded = sum(p.crm.decoded + p.remote.decoded for p in stored)
    return decoded, len(stored), [a.op for a in plan.writes]


def test_skip_private_turned_on_later_still_removes_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Privacy lives in the stored event: with skip_private the planner decodes it even
    when nothing changed, so an item already private when the setting is turned on has
    its copy removed (R5)."""
    from sync.model import Privacy

    env = Env(tmp_path)
    env.add_user()
    env.put("crm", ev("c1", "Doctor", privacy=Privacy.PRIVATE))
    env.put("crm", ev("c2", "Visit"))
    assert env.init().result == "ok"
    assert set(env.by_subject("remote")) == {"Doctor", "Visit"}

    decoded, pairs, writes = _plan_decoding(env, Settings())
    assert (decoded, writes) == (0, [])
    decoded, pairs, writes = _plan_decoding(env, Settings(skip_private=True))
    assert decoded == 2 * pairs and writes == ["delete"]

    env.set(skip_private=True)
    assert env.sync().result == "ok"
    assert set(env.by_subject("remote")) == {"Visit"}


def test_an_item_that_left_the_listing_is_decoded_to_tell_moved_from_deleted(
    tmp_path: Path,
) -> None:
    """Only the pairs a listing no longer shows are decoded (R2: window or deletion)."""
    env = Env(tmp_path)
    env.add_user()
    for n in range(4):
        env.put("crm", ev(f"c{n}", f"CRM {n}", days=n + 1))
    assert env.init().result == "ok"
    env.remove("crm", "CRM 2")
    decoded, _pairs, writes = _plan_decoding(env, Settings())
    assert writes == ["delete"]
    assert decoded <= 2  # the vanished pair's sides at most, never the other three


def _stored(*pairs: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    return [
        {"crm": {"id": c, "etag": ce}, "remote": {"id": r, "etag": re}} for c, ce, r, re in pairs
    ]


def test_nothing_changed_needs_every_listed_item_paired_with_its_synced_etag() -> None:
    from sync.engine.views import nothing_changed
    from sync.providers.base import BrokenItem, Listing

    def listings(crm: dict[str, str], remote: dict[str, str]) -> dict[str, Listing]:
        return {"crm": Listing(crm), "remote": Listing(remote)}  # type: ignore[dict-item]

    stored = _stored(("c1", "e1", "r1", "f1"), ("c2", "e2", "r2", "f2"))
    both = listings({"c1": "e1", "c2": "e2"}, {"r1": "f1", "r2": "f2"})
    assert nothing_changed(stored, both)
    assert nothing_changed([], listings({}, {}))
    # an etag changed, an item gone, a new item, on either side
    assert not nothing_changed(stored, listings({"c1": "e1", "c2": "X"}, both["remote"].etags))
    assert not nothing_changed(stored, listings({"c1": "e1"}, both["remote"].etags))
    assert not nothing_changed(
        stored, listings(both["crm"].etags, {**both["remote"].etags, "r3": "g"})
    )
    # an unreadable item
    broken = listings(both["crm"].etags, both["remote"].etags)
    broken["remote"].broken["r9"] = BrokenItem("r9", "g", "bad")
    assert not nothing_changed(stored, broken)
    # two pairs sharing one CRM item, and an unpaired one beside them: same numbers,
    # not the same items
    shared = _stored(("c1", "e1", "r1", "f1"), ("c1", "e1", "r2", "f2"))
    assert not nothing_changed(shared, listings({"c1": "e1", "c9": "e9"}, {"r1": "f1", "r2": "f2"}))
