"""How the TUI is entered, and the layering rule that keeps Textual out of the core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _calsync(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_tui_without_a_terminal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args in (("tui",), ("tui", "--no-autosync"), ()):
        proc = _calsync(tmp_path / "ws", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip().splitlines() == [
            "calsync: the TUI needs a terminal; for scripts use `calsync status`, `calsync sync` …"
        ]
        assert "Traceback" not in proc.stderr


def test_bad_config_is_reported_before_the_screen_opens(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "calsync.toml").write_text("[job]\ninterval = 1\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tui.cli.open_tui as t; from tui.cli.common import AppState, handle_errors\n"
            "sys.stdin.isatty = lambda: True; sys.stdout.isatty = lambda: True\n"
            f"with handle_errors(): t.open_tui(AppState({str(ws)!r}))",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "interval must be at least 10 seconds" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sync_and_storage_never_import_textual() -> None:
    code = (
        "import sys\n"
        "import sync.service, sync.users, sync.demo, sync.settings, storage.state\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == ""


def test_screens_reach_sync_only_through_the_service_adapter() -> None:
    root = Path(__file__).resolve().parents[2] / "tui"
    files = [
        root / "app.py",
        *sorted((root / "screens").glob("*.py")),
        *sorted((root / "widgets").glob("*.py")),
    ]
    offenders = [
        str(f.relative_to(root))
        for f in files
        if any(
            line.startswith(("from sync", "import sync", "from storage", "import storage"))
            for line in f.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert files and offenders == []
