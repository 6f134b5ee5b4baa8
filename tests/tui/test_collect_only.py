"""`pytest --collect-only` succeeds although no snapshot is used (issue 15, item 16),
while a real run still fails on a snapshot no test uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

AMBR = """# serializer version: 1
# name: test_gone
  'a snapshot no test uses'
# ---
"""


def _pytest(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_collect_only_exits_0_on_the_real_suite() -> None:
    proc = _pytest(ROOT, "--collect-only", "-q", "tests/tui/test_snapshots.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 tests collected" in proc.stdout or "test_snapshots.py: 3" in proc.stdout


def test_a_real_run_still_fails_on_an_unused_snapshot(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_configure  # noqa\n")
    (tmp_path / "test_x.py").write_text("def test_kept(snapshot):\n    assert 1 == snapshot\n")
    (tmp_path / "__snapshots__").mkdir()
    (tmp_path / "__snapshots__" / "test_x.ambr").write_text(
        AMBR + "# name: test_kept\n  1\n# ---\n"
    )
    collected = _pytest(tmp_path, "--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ran = _pytest(tmp_path, "-q")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 snapshot unused" in ran.stdout
