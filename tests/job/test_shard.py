"""`sync --all --shard K/N`: shards split the users, each exactly once, on any machine."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.config import load_config
from sync.job import Job
from sync.shard import Shard, ShardError, parse_shard, shard_of
from tests.job.helpers import Site, by_user, entry_point, ev, seed

NAMES = st.lists(
    st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and "/" not in s),
    max_size=60,
    unique=True,
)


@given(names=NAMES, count=st.integers(1, 8))
def test_n_shards_cover_every_user_exactly_once(names: list[str], count: int) -> None:
    owners = {name: [k for k in range(count) if Shard(k, count).owns(name)] for name in names}
    assert all(len(found) == 1 for found in owners.values()), owners


def test_the_shard_of_a_name_is_the_same_in_another_process() -> None:
    names = ["anna", "bertil", "Åsa Öberg", "李雷", "user-0042"]
    code = f"from sync.shard import shard_of\nprint([shard_of(n, 7) for n in {names!r}])"
    # another interpreter with another hash seed: Python's hash() would differ
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert out.strip() == str([shard_of(n, 7) for n in names])
    # and it is SHA-256 based, fixed for good: a stored expectation
    assert [shard_of(n, 7) for n in ("anna", "bertil")] == [
        int.from_bytes(hashlib.sha256(n.encode()).digest()[:8], "big") % 7
        for n in ("anna", "bertil")
    ]


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("0/4", {}, Shard(0, 4)),
        (" 3 / 4 ", {}, Shard(3, 4)),
        ("auto", {"JOB_COMPLETION_INDEX": "2", "CALSYNC_SHARDS": "5"}, Shard(2, 5)),
        ("AUTO", {"JOB_COMPLETION_INDEX": "0", "CALSYNC_SHARDS": "1"}, Shard(0, 1)),
    ],
)
def test_parse_shard(text: str, env: dict[str, str], expected: Shard) -> None:
    assert parse_shard(text, env) == expected


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("4/4", {}, "shard 4 does not exist; with 4 shard(s) K is 0 to 3"),
        ("1/0", {}, "the number of shards must be 1 to 100000"),
        ("a/b", {}, "is not K/N"),
        ("-1/4", {}, "is not K/N"),
        ("2", {}, "is not K/N"),
        ("auto", {}, "needs JOB_COMPLETION_INDEX and CALSYNC_SHARDS"),
        ("auto", {"JOB_COMPLETION_INDEX": "1"}, "needs CALSYNC_SHARDS"),
        ("auto", {"JOB_COMPLETION_INDEX": "x", "CALSYNC_SHARDS": "3"}, "must be whole numbers"),
        ("auto", {"JOB_COMPLETION_INDEX": "3", "CALSYNC_SHARDS": "3"}, "shard 3 does not exist"),
    ],
)
def test_bad_shard_values(text: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ShardError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_shard(text, env)


def test_shards_through_the_cli_sync_each_user_once(tmp_path: Path) -> None:
    site = Site(tmp_path)
    names = [f"user{i:02d}" for i in range(12)]
    for name in names:
        site.add(name)
        seed(site, name, n=1)
        assert site.cli("init", name).code == 0
        site.put(name, "remote", ev(f"{name}-later", f"{name} later", days=3))
    site.add("off", enabled=False)
    seen: dict[str, int] = {}
    for k in range(3):
        run = site.cli("sync", "--all", "--shard", f"{k}/3", "--json")
        assert run.code == 0, run
        summary = run.json()
        assert summary["shard"] == f"{k}/3"
        for name, user in by_user(summary).items():
            assert name not in seen, f"{name} in shards {seen[name]} and {k}"
            seen[name] = k
            assert user["result"] == ("skipped" if name == "off" else "ok"), user
    assert set(seen) == {*names, "off"}
    assert len(set(seen.values())) == 3  # 13 names hash into all three shards
    for name in names:  # every enabled user was synced by its shard
        assert f"{name} later" in {i.event.subject for i in site.items(name, "crm")}
    log = site.log_text()
    assert "shard=0/3" in log and "shard=2/3" in log


def test_two_shards_at_once_never_touch_the_same_user(tmp_path: Path) -> None:
    site = Site(tmp_path)
    for i in range(10):
        site.add(f"u{i}")
        seed(site, f"u{i}", n=1)
        assert site.cli("init", f"u{i}").code == 0

    def planned(k: int) -> set[str]:
        to_run, skipped = Job(site.ws, load_config(site.ws.config_path), shard=Shard(k, 2)).plan()
        return {*to_run, *(r.user for r in skipped)}

    touched = [planned(0), planned(1)]
    assert touched[0].isdisjoint(touched[1])
    assert touched[0] | touched[1] == {f"u{i}" for i in range(10)}
    # and run for real, both at once, in two processes
    procs = [
        subprocess.Popen(
            [*entry_point(), "--workspace", str(site.ws.root), "sync", "--all",
             "--shard", f"{k}/2", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        for k in (0, 1)
    ]  # fmt: skip
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(set(by_user(json.loads(out))))
    assert results == touched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--all", "--shard", "5/5"], "shard 5 does not exist"),
        (["sync", "anna", "--shard", "0/2"], "--shard goes with --all"),
        (["sync", "--all", "--shard", "auto"], "needs JOB_COMPLETION_INDEX"),
    ],
)
def test_bad_shard_on_the_command_line_is_one_line_exit_2(
    tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    monkeypatch.delenv("CALSYNC_SHARDS", raising=False)
    site = Site(tmp_path)
    site.add("anna")
    run = site.cli(*args)
    assert run.code == 2, run
    assert message in run.err and "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1
