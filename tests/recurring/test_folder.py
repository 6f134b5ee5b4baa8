"""Recurring series, folder ↔ folder: the remote folder holds series as khal writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.harness import Env
from tests.recurring import scenarios
from tests.recurring.scenarios import Case, weekly
from tests.recurring.series import (
    assert_mirrored,
    by_key,
    crm_series,
    folder_remote,
    rid_of,
    series_text,
)


@pytest.fixture
def case(tmp_path: Path) -> Case:
    env = Env(tmp_path)
    env.add_user()
    return Case(env, folder_remote(tmp_path / "remote"))


test_weekly_series_with_two_exceptions_and_an_exdate = (
    scenarios.test_weekly_series_with_two_exceptions_and_an_exdate
)
test_series_across_a_dst_change_keeps_the_wall_clock_time = (
    scenarios.test_series_across_a_dst_change_keeps_the_wall_clock_time
)
test_all_day_yearly_series = scenarios.test_all_day_yearly_series
test_crm_edits_and_deletes_single_occurrences = (
    scenarios.test_crm_edits_and_deletes_single_occurrences
)
test_remote_rule_change_updates_survivors_and_trashes_the_rest = (
    scenarios.test_remote_rule_change_updates_survivors_and_trashes_the_rest
)
test_remote_series_deleted_then_one_occurrence_restored = (
    scenarios.test_remote_series_deleted_then_one_occurrence_restored
)
test_crm_edit_wins_over_a_remote_occurrence_deletion = (
    scenarios.test_crm_edit_wins_over_a_remote_occurrence_deletion
)


def test_a_series_over_the_cap_syncs_its_first_occurrences_with_a_warning(tmp_path: Path) -> None:
    env = Env(tmp_path, config_text="[folder]\nmax_occurrences = 3\n")
    env.add_user()
    spec = weekly("many-1", count=10)
    folder_remote(tmp_path / "remote").add(spec)
    result = env.init()
    assert result.result == "ok", result
    assert any("many-1" in w and "max_occurrences" in w for w in result.warnings)
    assert sorted(crm_series(env, "many-1")) == sorted(rid_of(s) for s in spec.starts()[:3])
    assert not env.sync(dry_run=True).plan.writes  # type: ignore[union-attr]


def test_a_single_item_that_becomes_a_series_is_replaced_by_its_occurrences(
    tmp_path: Path,
) -> None:
    env = Env(tmp_path)
    env.add_user()
    remote = folder_remote(tmp_path / "remote")
    spec = weekly("grow-1", count=1)
    remote.add(spec)  # COUNT=1: still written with a rule
    (tmp_path / "remote" / "grow-1.ics").write_text(
        series_text(spec).replace("RRULE:FREQ=WEEKLY;COUNT=1\r\n", ""), encoding="utf-8"
    )
    assert env.init().result == "ok"
    assert list(by_key(env, "crm")) == [("grow-1", None)]
    spec.count = 3
    remote.change(spec)
    result = env.sync()
    assert result.result == "ok", result
    assert sorted(by_key(env, "crm")) == sorted(("grow-1", rid_of(s)) for s in spec.starts())
    assert_mirrored(env)
