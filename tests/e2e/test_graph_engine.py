"""The engine's folder scenarios again, with Microsoft 365 (the Graph test server) as the remote.

The scenario functions are the engine's own (tests/engine/test_engine_folder.py);
only the `env` fixture differs: the CRM is a `folder:` calendar and the remote is a
fresh mailbox `graph:…` reached through one app registration (client credentials).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine import test_engine_folder as scenarios
from tests.engine.harness import Env
from tests.providers.graph.server.fixtures import SECRET, graph_app, graph_server, write_private
from tests.providers.graph.server.server import App, GraphTestServer
from tests.recurring.series import AROUND

__all__ = ["graph_app", "graph_server"]


@pytest.fixture
def env(tmp_path: Path, graph_server: GraphTestServer, graph_app: App) -> Env:
    mailbox = graph_server.add_mailbox()
    secret = write_private(tmp_path / "graph.secret", SECRET)
    table = {
        "tenant_id": graph_server.tenant,
        "client_id": graph_app.client_id,
        "client_secret_file": str(secret),
        "authority": graph_server.url,
        "graph_url": graph_server.url,
        "verify_tls": str(graph_server.tls.ca_file),
        "timeout": 10,
    }
    config = "[graph]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    e = Env(tmp_path, remote_url=f"graph:{mailbox.address}", config_text=config)
    e.window = AROUND  # Graph serves at most 1825 days
    e.add_user()
    return e


globals().update(scenarios.portable_scenarios())
