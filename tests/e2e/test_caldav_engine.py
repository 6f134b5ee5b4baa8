"""The engine's folder scenarios again, with a real CalDAV server (Radicale) as the remote.

Each scenario of tests/engine/test_engine_folder.py that runs on the `env` fixture is
re-run here unchanged against a fresh Radicale calendar: init with matching, two-way
changes, conflicts, edit-beats-delete, the window, multi-day items, the mass-deletion
guard, trash/restore/revert, stale etags during apply and broken items.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine import test_engine_folder as scenarios
from tests.engine.harness import Env

PASSWORD_ENV = "CALSYNC_E2E_CALDAV_PASSWORD"
CONFIG = f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 20\n'


@pytest.fixture
def env(tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    e = Env(tmp_path, remote_url=f"caldav:{radicale_calendar}", config_text=CONFIG)
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


def test_no_change_sync_costs_one_request_to_the_server(
    tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.engine.harness import ev
    from tests.providers.dav_front import dav_front

    monkeypatch.setenv(PASSWORD_ENV, "x")
    with dav_front(radicale_calendar) as front:
        e = Env(tmp_path, remote_url=f"caldav:{front.calendar_url}", config_text=CONFIG)
        e.add_user()
        for n in range(20):
            e.put("crm", ev(f"c{n}", f"Item {n}", days=n))
        assert e.init().result == "ok"
        assert e.sync().result == "ok"
        before = len(front.seen)
        r = e.sync()
        assert r.result == "ok" and all(v == 0 for c in r.counts.values() for v in c.values())
        # the identity PROPFIND reads the unchanged sync token; no listing REPORT follows
        assert [s.method for s in front.seen[before:]] == ["PROPFIND"]
