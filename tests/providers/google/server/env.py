"""A calsync user whose remote calendar is on the Google test server, for tests that
cannot take pytest fixtures (Hypothesis state machines). One server per process."""

from __future__ import annotations

import atexit
import json
import tempfile
import threading
from pathlib import Path

from tests.engine.harness import Env
from tests.providers.google.server.fixtures import Key, google_table, make_key
from tests.providers.google.server.server import GoogleTestServer
from tests.providers.google.server.store import Calendar

_lock = threading.Lock()
_shared: tuple[GoogleTestServer, Key] | None = None


def shared_server() -> tuple[GoogleTestServer, Key]:
    global _shared
    with _lock:
        if _shared is None:
            server = GoogleTestServer().start()
            atexit.register(server.stop)
            _shared = (server, make_key(server))
        return _shared


def google_env(root: Path) -> tuple[Env, Calendar]:
    """An initialized-to-be user `anna` with a CRM folder and a fresh Google calendar."""
    server, key = shared_server()
    calendar = server.add_user()
    root.mkdir(parents=True, exist_ok=True)
    table = google_table(server, key, root)
    config = "[google]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    env = Env(root, remote_url=f"google:{calendar.id}", config_text=config)
    return env, calendar


def temp_root(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
