"""tests/engine/test_multiday_titles.py again with a real CalDAV server (Radicale) as the
remote: the CRM title follows the remote span in the same run, CRM-born items keep theirs."""

from __future__ import annotations

from tests.e2e.test_caldav_engine import env  # noqa: F401 - the Radicale `env` fixture
from tests.engine import test_multiday_titles as scenarios

globals().update({n: getattr(scenarios, n) for n in dir(scenarios) if n.startswith("test_")})
