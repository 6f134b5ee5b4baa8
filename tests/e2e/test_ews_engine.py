"""The engine's folder scenarios again, with Exchange (the EWS test server) as the remote.

The scenario functions are the engine's own (tests/engine/test_engine_folder.py);
only the `env` fixture differs: the CRM is a `folder:` calendar and the remote is
`ews:anna@example.com`, reached through an impersonating service account.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine import test_engine_folder as scenarios
from tests.engine.harness import Env
from tests.providers.ews.server.fixtures import ews, new_mailbox
from tests.providers.ews.server.server import EWSTestServer

__all__ = ["ews"]


@pytest.fixture
def env(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> Env:
    mailbox, config = new_mailbox(ews, monkeypatch)
    (tmp_path / "crm").mkdir()
    e = Env(tmp_path, remote_url=f"ews:{mailbox}", config_text=config)
    e.add_user()
    return e


globals().update(scenarios.portable_scenarios())
