"""Shared test setup. Keep this small: fixtures belong next to the tests using them."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Hypothesis' per-example deadline is a timed assertion: on a loaded CI runner it
# fails tests that are correct. Example counts stay bounded to keep the suite fast.
# No example database: tests leave nothing in the working tree, and a failure
# prints the example that reproduces it.
settings.register_profile("calsync", deadline=None, max_examples=100, database=None)
# `pytest --hypothesis-profile=thorough` for a deeper search before a release
settings.register_profile("thorough", deadline=None, max_examples=3000, database=None)
settings.load_profile("calsync")

# --- CalDAV: real servers on loopback — Radicale (tests/providers/dav/radicale_server.py)
# --- and sabre/dav under PHP, the engine of Nextcloud and Baïkal (sabre_server.py) --
from tests.providers.dav.radicale_server import radicale_calendar, radicale_server  # noqa: E402, F401
from tests.providers.dav.sabre_server import sabre_calendar, sabre_server  # noqa: E402, F401

# --- databases: a real PostgreSQL server (tests/providers/sql/postgres_server.py) ---
from tests.providers.sql.postgres_server import postgres_server, postgres_url  # noqa: E402, F401


def pytest_configure(config: pytest.Config) -> None:
    # `pytest --collect-only` runs no test, so every snapshot looks unused and syrupy
    # fails the session (issue 15). Only then is unused detection off; a real run
    # still fails on an unused snapshot.
    if config.option.collectonly:
        config.option.disable_unused_snapshots = True
