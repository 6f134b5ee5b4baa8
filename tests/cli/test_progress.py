"""Progress on a terminal, and nothing extra off one (issue 16).

The terminal is real: the command runs with stdin, stdout and stderr on a pseudo
terminal (the `pty` module), as in an operator's shell; the other runs use pipes,
as cron does.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from rich.cells import cell_len
from rich.progress import Progress

from tests.cli.test_sync_cli import calsync
from tests.engine.harness import Env, ev
from tui.cli.job import ProgressObserver
from tui.cli.progress import short
from tui.widgets.run_panel import eta_text

COUNT = re.compile(r"anna: .*\d+/\d+")


def on_terminal(ws: Path, *args: str, typed: bytes = b"") -> tuple[int, str]:
    """Run calsync with every standard stream on a pseudo terminal of 120×30.

    `typed` is what the operator types, buffered by the terminal until read.
    """
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--workspace", str(ws), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(follower)
    if typed:
        os.write(leader, typed)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the last holder of the terminal closed it
            break
        if not chunk:
            break
        out += chunk
    code = proc.wait(timeout=120)
    os.close(leader)
    text = out.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    return code, text


def _env(tmp_path: Path) -> Env:
    env = Env(tmp_path)
    env.add_user()
    for n in range(6):
        env.put("crm", ev(f"c{n}", f"Visit [bold]{n}[/] 会議", days=n + 1))
    env.put("remote", ev("r1", "Team [bold]meeting[/]", days=2))
    return env


def test_init_on_a_terminal_shows_counts_and_eta(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, text = on_terminal(env.ws.root, "init", "anna")
    assert code == 0, text
    assert COUNT.search(text), text
    assert "ETA" in text
    # a subject is shown as it is: brackets are text, not markup
    assert "[bold]" in text
    # the result is still printed after the (transient) progress line
    assert "anna" in text.rsplit("ETA", 1)[1]


def test_sync_on_a_terminal_shows_the_phase(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert env.init().result == "ok"
    env.put("remote", ev("r2", "Offsite", days=4))
    code, text = on_terminal(env.ws.root, "sync", "anna")
    assert code == 0, text
    assert re.search(r"anna: .*Offsite.*1/1", text), text


def test_no_progress_off_a_terminal(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = calsync(env.ws.root, "init", "anna")
    assert proc.returncode == 0, proc.stderr
    assert "ETA" not in proc.stdout + proc.stderr
    assert not COUNT.search(proc.stderr)
    assert "\x1b" not in proc.stdout + proc.stderr  # no cursor movement, no colour


def test_no_progress_with_json_or_quiet_on_a_terminal(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, text = on_terminal(env.ws.root, "init", "anna", "--json")
    assert code == 0, text
    assert "ETA" not in text
    assert json.loads(text.replace("\r\n", "\n"))["result"] == "ok"
    env.put("remote", ev("r2", "Offsite", days=4))
    code, text = on_terminal(env.ws.root, "sync", "anna", "--quiet")
    assert code == 0, text
    assert text == ""


def test_sync_all_shows_item_counts_per_running_user() -> None:
    progress = Progress()
    observer = ProgressObserver(progress, total=3)
    observer.user_started("anna")
    observer.user_started("bertil")
    observer.items_applied("anna", 0, 0)  # still listing: no count yet
    observer.items_applied("bertil", 12, 40)
    task = progress.tasks[0]
    assert task.fields["current"] == "anna, bertil 12/40"
    observer.items_applied("anna", 3, 5)
    assert task.fields["current"] == "anna 3/5, bertil 12/40"
    assert task.fields["items"] == 15
    from sync.engine.runner import RunResult

    observer.user_finished(RunResult("anna", "ok"))
    assert task.fields["current"] == "bertil 12/40"
    assert task.completed == 1


def test_eta_and_label_helpers() -> None:
    assert eta_text(10, 40, 1.0) == ""  # too early to trust a rate
    assert eta_text(0, 40, 30.0) == ""
    assert eta_text(10, 40, 10.0) == "0:30 left"
    assert eta_text(40, 40, 10.0) == ""
    assert eta_text(11, 41, 10.0, since=1) == "0:30 left"  # the rate since the phase began
    assert short("x" * 100).endswith("…") and len(short("x" * 100)) == 40
    assert short("会議" * 40).endswith("…")


def test_the_init_question_on_a_terminal_shows_both_calendars(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert env.init().result == "ok"
    recorded = env.files.read_state().meta
    # the current calendar's name (a folder's) is hostile: markup, CJK, too long
    other = tmp_path / ("予定表 [bold]Team[red] " + "very-long-name-" * 8)
    other.mkdir()
    env.set(remote=f"folder:{other}")
    code, text = on_terminal(env.ws.root, "init", "anna", typed=b"n\n")
    assert code == 3, text
    flat = text.replace("\r\n", "\n")
    assert f"recorded at initialization ({recorded['initialized_at']}): " in flat
    assert recorded["remote_name"] == "remote" and "\n  name remote\n" in flat
    assert f"answering now: folder:{tmp_path}" in flat  # the rest wraps at 120
    shown = next(line for line in flat.splitlines() if line.startswith("  name 予定表"))
    assert shown.startswith("  name 予定表 [bold]Team[red] very-long-name-")  # literally
    assert shown.endswith("…") and cell_len(shown) <= 80  # cut to 80 columns
    assert "Initialize sync against the current calendar? [y/N]" in flat
    assert env.files.read_state().meta["identity"] == recorded["identity"]  # "no" kept it
