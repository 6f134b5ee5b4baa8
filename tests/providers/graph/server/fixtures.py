"""pytest fixtures around `GraphTestServer`. Import them into a test module:

    from tests.providers.graph.server.fixtures import graph_server, graph_app, graph_settings  # noqa: F401

`graph_server` (session) is one HTTPS server for the run; `graph_app` (session) an
app registration with a client secret kept in a 0600 file; `graph_settings`
(function) builds the `settings` mapping a provider receives, pointing msal and
Graph at the server and trusting its test CA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.providers.graph.server.server import App, GraphTestServer

SECRET = "s3cr3t~value.for-the-test-app"


@pytest.fixture(scope="session")
def graph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphTestServer]:
    server = GraphTestServer(tmp_path_factory.mktemp("graph-tls")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def graph_app(graph_server: GraphTestServer) -> App:
    return graph_server.register_app(secret=SECRET)


def write_private(path: Path, data: str | bytes) -> Path:
    path.touch(mode=0o600)
    path.chmod(0o600)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def connection_table(
    server: GraphTestServer, app: App, tmp: Path, **overrides: Any
) -> dict[str, Any]:
    """A `[graph]` table for `app` on `server`, the secret in a 0600 file under `tmp`."""
    table: dict[str, Any] = {
        "tenant_id": server.tenant,
        "client_id": app.client_id,
        "authority": server.url,
        "graph_url": server.url,
        "verify_tls": str(server.tls.ca_file),
        "timeout": 10,
    }
    if app.secret is not None and "certificate_file" not in overrides:
        secret_file = write_private(tmp / f"secret-{app.client_id[:8]}", app.secret)
        table["client_secret_file"] = str(secret_file)
    table.update(overrides)
    return {k: v for k, v in table.items() if v is not None}


@pytest.fixture
def graph_settings(
    graph_server: GraphTestServer, graph_app: App, tmp_path: Path
) -> Callable[..., dict[str, Any]]:
    def make(app: App | None = None, **overrides: Any) -> dict[str, Any]:
        return {"graph": connection_table(graph_server, app or graph_app, tmp_path, **overrides)}

    return make
