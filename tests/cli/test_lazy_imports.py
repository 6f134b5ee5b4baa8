"""A no-change sync imports none of the libraries it does not use (issue 21.10, 17).

A cron line runs `calsync sync NAME` or `calsync sync --all` every few minutes;
importing icalendar (with dateutil), Typer (with pydantic) or rich costs such a run
more CPU than its work when nothing changed. Whether they were imported is read from
the process's own `sys.modules` at exit, not from a timing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.engine.harness import Env, ev
from tests.providers.dav.dav_helpers import NOT_ON_A_NO_CHANGE_SYNC, run_cli_reporting_imports


def _series(start: datetime) -> str:
    """A weekly series with one moved occurrence: the listing keeps both in its index."""
    stamp = start.strftime("%Y%m%dT%H%M%SZ")
    moved = (start + timedelta(days=7)).strftime("%Y%m%dT%H%M%SZ")
    later = (start + timedelta(days=7, hours=2)).strftime("%Y%m%dT%H%M%SZ")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:{stamp}\r\nDTSTART:{stamp}\r\n"
        "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Weekly review\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:{stamp}\r\nRECURRENCE-ID:{moved}\r\n"
        f"DTSTART:{later}\r\nDURATION:PT1H\r\nSUMMARY:Weekly review (moved)\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def test_a_no_change_folder_sync_imports_no_heavy_library(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.add_user()
    env.put("crm", ev("c1", "Visit", days=1))
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    (tmp_path / "remote" / "weekly-1.ics").write_text(_series(start + timedelta(days=2)))
    assert env.init().result == "ok"
    assert len(env.items("crm")) == 5  # the single item and the series' four occurrences

    proc = run_cli_reporting_imports(env.ws.root, "sync", "anna", watch=NOT_ON_A_NO_CHANGE_SYNC)
    assert proc.returncode == 0, proc.stderr
    assert "anna: ok — crm +0 ~0 -0, remote +0 ~0 -0" in proc.stdout
    assert "LOADED []" in proc.stderr, proc.stderr

    # the job, as cron runs it: nothing to print, so not even rich
    quiet = (*NOT_ON_A_NO_CHANGE_SYNC, "rich")
    proc = run_cli_reporting_imports(env.ws.root, "sync", "--all", "-q", "--json", watch=quiet)
    assert proc.returncode == 0, proc.stderr
    assert '"ok": 1' in proc.stdout
    assert "LOADED []" in proc.stderr, proc.stderr
