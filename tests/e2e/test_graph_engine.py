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
from tests.graph_server.fixtures import SECRET, graph_app, graph_server, write_private
from tests.graph_server.server import App, GraphTestServer

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
    e.add_user()
    return e


test_sync_before_init_needs_operator_and_writes_nothing = (
    scenarios.test_sync_before_init_needs_operator_and_writes_nothing
)
test_init_matches_by_uid_then_shape_and_creates_the_rest = (
    scenarios.test_init_matches_by_uid_then_shape_and_creates_the_rest
)
test_two_way_create_change_delete = scenarios.test_two_way_create_change_delete
test_no_change_sync_plans_nothing_and_rewrites_nothing = (
    scenarios.test_no_change_sync_plans_nothing_and_rewrites_nothing
)
test_conflict_later_modification_wins_and_log_says_why = (
    scenarios.test_conflict_later_modification_wins_and_log_says_why
)
test_edit_beats_delete = scenarios.test_edit_beats_delete
test_window_edge_is_not_a_deletion_but_moves_travel = (
    scenarios.test_window_edge_is_not_a_deletion_but_moves_travel
)
test_multiday_remote_item_gets_a_title_and_keeps_its_span = (
    scenarios.test_multiday_remote_item_gets_a_title_and_keeps_its_span
)
test_mass_deletion_guard_and_force = scenarios.test_mass_deletion_guard_and_force
test_side_listing_nothing_triggers_guard = scenarios.test_side_listing_nothing_triggers_guard
test_restore_and_revert = scenarios.test_restore_and_revert
test_stale_etag_during_apply_is_replanned_not_overwritten = (
    scenarios.test_stale_etag_during_apply_is_replanned_not_overwritten
)
test_broken_item_is_skipped_and_the_rest_sync = (
    scenarios.test_broken_item_is_skipped_and_the_rest_sync
)
