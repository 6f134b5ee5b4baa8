"""Conflicts between items without LAST-MODIFIED (SPEC R3, issue 15.3).

A side with no trustworthy modification time is dated by when its change was first
observed: a folder's file time, else the listing that first saw the new etag (kept
in the state). The log never claims an order it did not see.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.engine.conflict import When, decide
from tests.engine.harness import Env, ev


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    e.add_user()
    return e


def rewrite_without_last_modified(folder: Path, name: str, location: str, when: datetime) -> None:
    """What an editor that keeps no LAST-MODIFIED does: a new LOCATION, file time `when`."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"LAST-MODIFIED:[^\r\n]*\r?\n", "", text)
    text = re.sub(r"LOCATION:[^\r\n]*", f"LOCATION:{location}", text)
    if "LOCATION:" not in text:
        text = text.replace("SUMMARY:", f"LOCATION:{location}\r\nSUMMARY:", 1)
    path.write_text(text, encoding="utf-8", newline="")
    stamp = int(when.timestamp() * 1e9)
    os.utime(path, ns=(stamp, stamp))


@pytest.mark.parametrize("later", ["crm", "remote"])
def test_the_later_file_wins_when_neither_has_last_modified(env, tmp_path, later):
    env.put("crm", ev("c1", "Demo"))
    env.init()
    earlier = "remote" if later == "crm" else "crm"
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    name = {side: env.by_subject(side)["Demo"].id for side in ("crm", "remote")}
    rewrite_without_last_modified(tmp_path / earlier, name[earlier], f"set in {earlier}", t0)
    later_time = t0 + timedelta(seconds=2)
    rewrite_without_last_modified(tmp_path / later, name[later], f"set in {later}", later_time)
    assert all(env.by_subject(s)["Demo"].event.last_modified is None for s in ("crm", "remote"))

    r = env.sync()
    assert r.result == "ok", r
    for side in ("crm", "remote"):
        assert env.by_subject(side)["Demo"].event.location == f"set in {later}"
    entry = env.log()[0]  # newest first
    assert entry["side"] == earlier
    # the log states the two times it compared, not "newer"
    name_of = {"crm": "CRM", "remote": "remote"}
    assert entry["reason"] == (
        f"conflict: {name_of[later]} version kept: "
        f"{name_of[later]} file written {later_time:%Y-%m-%d %H:%M:%S} UTC "
        f"is later than {name_of[earlier]} file written {t0:%Y-%m-%d %H:%M:%S} UTC"
    )
    env.assert_converged()


def test_equal_times_say_the_order_is_unknown():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    winner, reason = decide(When(now, "first seen"), When(now, "first seen"))
    assert winner == "crm"
    assert "order unknown" in reason and "newer" not in reason
    winner, reason = decide(When(now, "modified"), When(now, "modified"))
    assert "order unknown" in reason and "newer" not in reason


def test_last_modified_on_both_sides_keeps_the_short_reason():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    winner, reason = decide(When(now, "modified"), When(now + timedelta(seconds=1), "modified"))
    assert (winner, reason) == ("remote", "conflict: remote newer")
