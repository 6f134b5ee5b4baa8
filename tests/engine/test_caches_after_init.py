"""A first init keeps the listing caches it built, including the files it wrote, so
the sync after it does not list and parse both calendars from scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync.providers.folder.provider import FolderProvider
from tests.engine.harness import Env, ev


class CountingFolder(FolderProvider):
    """The real folder provider, counting the files its listing had to parse."""

    parsed = 0

    def _index_row(self, name: str) -> list[Any] | None:
        type(self).parsed += 1
        return super()._index_row(name)


def test_the_sync_after_a_first_init_parses_nothing_again(tmp_path: Path, monkeypatch: Any) -> None:
    env = Env(tmp_path)
    env.add_user()
    for n in range(5):
        env.put("remote", ev(f"r{n}", f"Remote {n}", days=n + 1))
        env.put("crm", ev(f"c{n}", f"CRM {n}", days=n + 1))
    assert env.init().result == "ok"  # 5 copies written on each side
    state = env.files.read_state()
    assert len(state.pairs) == 10
    assert state.cache("crm") and state.cache("remote")

    monkeypatch.setattr("sync.providers.registry.provider_class", lambda url: CountingFolder)
    result = env.sync()
    assert result.result == "ok"
    assert all(n == 0 for side in result.counts.values() for n in side.values())
    assert CountingFolder.parsed == 0
