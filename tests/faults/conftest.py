"""Fixtures of the fault suite: the fault proxy in front of the session's Radicale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.proxy import FaultProxy, fault_proxy
from tests.faults.world import PASSWORD_ENV, STALL, FaultWorld
from tests.providers.dav.radicale_server import RadicaleServer


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")  # Radicale's auth type none takes any password


@pytest.fixture
def proxy(radicale_server: RadicaleServer) -> Iterator[FaultProxy]:
    with fault_proxy(radicale_server.url, stall=STALL) as running:
        yield running


@pytest.fixture
def world(tmp_path: Path, radicale_server: RadicaleServer, proxy: FaultProxy) -> FaultWorld:
    made = FaultWorld(tmp_path, radicale_server, proxy)
    made.add_user(skip_private=False)
    return made
