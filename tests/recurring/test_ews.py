"""Recurring series with Exchange (the EWS test server) as the remote.

The series are made in the server's store as Outlook would (a RecurringMaster
with a pattern, deleted occurrences, exceptions); calsync sees the occurrences a
calendar view lists and writes them back as occurrence saves and deletions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.engine.harness import Env
from tests.providers.ews.server.fixtures import ews, new_mailbox
from tests.providers.ews.server.server import EWSTestServer
from tests.providers.ews.server.store import Organisation, Recurrence
from tests.recurring import scenarios
from tests.recurring.scenarios import Case
from tests.recurring.series import ZONE, SeriesSpec

WINDOWS_ZONE = "W. Europe Standard Time"

__all__ = ["ews"]  # the fixture, collected from this module


def _utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=ZONE).astimezone(UTC)


class EWSRemote:
    """Series in one mailbox, made and changed as Outlook would."""

    def __init__(self, org: Organisation, mailbox: str) -> None:
        self.org = org
        self.mailbox = mailbox
        self.masters: dict[str, str] = {}

    def _fields(self, spec: SeriesSpec) -> dict[str, object]:
        return {
            "Subject": spec.subject,
            "Start": _utc(spec.start),
            "End": _utc(spec.start + spec.duration),
            "IsAllDayEvent": spec.all_day,
            "StartTimeZone": WINDOWS_ZONE,
            "EndTimeZone": WINDOWS_ZONE,
        }

    def _exceptions(self, spec: SeriesSpec, master_id: str) -> None:
        for original in spec.exdates:
            self.org.delete_occurrence(self.mailbox, master_id, _utc(original))
        for original, (subject, start) in spec.overrides.items():
            self.org.edit_occurrence(
                self.mailbox,
                master_id,
                _utc(original),
                Subject=subject,
                Start=_utc(start),
                End=_utc(start + spec.duration),
            )

    def add(self, spec: SeriesSpec) -> None:
        master = self.org.seed_series(
            self.mailbox, Recurrence(spec.freq, spec.count), UID=spec.uid, **self._fields(spec)
        )
        self.masters[spec.uid] = master.id
        self._exceptions(spec, master.id)

    def change(self, spec: SeriesSpec) -> None:
        master_id = self.masters[spec.uid]
        self.org.set_recurrence(
            self.mailbox, master_id, Recurrence(spec.freq, spec.count), **self._fields(spec)
        )
        self._exceptions(spec, master_id)

    def delete(self, spec: SeriesSpec) -> None:
        self.org.remove(self.mailbox, self.masters.pop(spec.uid))


@pytest.fixture
def case(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> Case:
    mailbox, config = new_mailbox(ews, monkeypatch)
    env = Env(tmp_path, remote_url=f"ews:{mailbox}", config_text=config)
    env.add_user()
    return Case(env, EWSRemote(ews.org, mailbox))


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


def test_a_removed_occurrence_is_absent_for_fetch_and_a_distant_one_present(
    case: Case,
) -> None:
    spec = scenarios.weekly("far-1", count=60)  # past the 365-day window
    case.remote.add(spec)
    remote = case.remote
    assert isinstance(remote, EWSRemote)
    occurrences = remote.org.occurrences(remote.mailbox, remote.masters["far-1"])
    last, second = occurrences[-1].id, occurrences[1].id
    remote.org.delete_occurrence(
        remote.mailbox, remote.masters["far-1"], occurrences[1].fields["OriginalStart"]
    )
    with case.env.provider("remote") as p:
        found = p.fetch([last, second])
    assert list(found) == [last]
    assert found[last].event.recurrence_id == occurrences[-1].fields["OriginalStart"].isoformat()  # type: ignore[union-attr]
