"""A calsync user whose remote calendar is a mailbox on a Graph test server, for tests
that cannot take pytest fixtures (Hypothesis state machines).

One server serves the whole test process (started on first use, stopped at exit).
"""

from __future__ import annotations

import atexit
import json
import tempfile
import threading
from pathlib import Path

from tests.engine.harness import Env
from tests.providers.graph.server.fixtures import SECRET, write_private
from tests.providers.graph.server.server import App, GraphTestServer
from tests.providers.graph.server.store import Mailbox
from tests.recurring.series import AROUND

_lock = threading.Lock()
_shared: tuple[GraphTestServer, App] | None = None


def shared_server() -> tuple[GraphTestServer, App]:
    global _shared
    with _lock:
        if _shared is None:
            tmp = Path(tempfile.mkdtemp(prefix="calsync-graph-"))
            server = GraphTestServer(tmp).start()
            atexit.register(server.stop)
            _shared = (server, server.register_app(secret=SECRET))
        return _shared


def graph_env(root: Path) -> tuple[Env, Mailbox]:
    """An initialized-to-be user `anna` with a CRM folder and a fresh Graph mailbox."""
    server, app = shared_server()
    mailbox = server.add_mailbox()
    root.mkdir(parents=True, exist_ok=True)
    table = {
        "tenant_id": server.tenant,
        "client_id": app.client_id,
        "client_secret_file": str(write_private(root / "graph.secret", SECRET)),
        "authority": server.url,
        "graph_url": server.url,
        "verify_tls": str(server.tls.ca_file),
        "timeout": 10,
    }
    config = "[graph]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    env = Env(root, remote_url=f"graph:{mailbox.address}", config_text=config)
    env.window = AROUND  # Graph serves at most 1825 days
    return env, mailbox
