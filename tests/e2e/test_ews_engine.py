"""The engine's folder scenarios again, with Exchange (the EWS test server) as the remote.

The scenario functions are the engine's own (tests/engine/test_engine_folder.py);
only the `env` fixture differs: the CRM is a `folder:` calendar and the remote is
`ews:anna@example.com`, reached through an impersonating service account.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.harness import Env
from tests.engine.test_engine_folder import (  # noqa: F401 - collected here with our env
    test_broken_item_is_skipped_and_the_rest_sync,
    test_conflict_later_modification_wins_and_log_says_why,
    test_edit_beats_delete,
    test_init_matches_by_uid_then_shape_and_creates_the_rest,
    test_mass_deletion_guard_and_force,
    test_multiday_remote_item_gets_a_title_and_keeps_its_span,
    test_no_change_sync_plans_nothing_and_rewrites_nothing,
    test_restore_and_revert,
    test_side_listing_nothing_triggers_guard,
    test_stale_etag_during_apply_is_replanned_not_overwritten,
    test_sync_before_init_needs_operator_and_writes_nothing,
    test_two_way_create_change_delete,
    test_window_edge_is_not_a_deletion_but_moves_travel,
)
from tests.ews_server.server import EWSTestServer

PASSWORD_ENV = "CALSYNC_E2E_EWS_PASSWORD"


@pytest.fixture(scope="module")
def ews() -> Iterator[EWSTestServer]:
    with EWSTestServer() as server:
        server.org.add_account("svc-calsync", "pw-svc")
        yield server


@pytest.fixture
def env(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, "pw-svc")
    mailbox = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    ews.org.add_mailbox(mailbox, impersonators=("svc-calsync",))
    table = {
        "service_endpoint": ews.url,
        "auth": "basic",
        "username": "svc-calsync",
        "password_env": PASSWORD_ENV,
        "timezone": "Europe/Stockholm",
        "max_backoff": 5,
        "timeout": 10,
    }
    config = "[exchange]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    (tmp_path / "crm").mkdir()
    e = Env(tmp_path, remote_url=f"ews:{mailbox}", config_text=config)
    e.add_user()
    return e
