"""The TUI's exit code in a real terminal (a pty): 0 after `q`, non-zero when an
unexpected exception ends the app (issue 15 item 11; it used to be 0)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

from storage.workspace import Workspace

#: a safety net against a hung child, not a performance limit
GIVE_UP_AFTER = 120.0


def _run_in_pty(argv: list[str], key: bytes | None = None) -> tuple[int, str]:
    """Run `argv` on a 120×30 pty; type `key` once the users screen is up (its footer shows)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(argv[0], argv, {**os.environ, "TERM": "xterm-256color"})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    out = b""
    sent = False
    give_up = time.monotonic() + GIVE_UP_AFTER
    try:
        while time.monotonic() < give_up:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
            if key is not None and not sent and b"Attention" in out:
                os.write(fd, key)
                sent = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_quit_exits_0(demo: Workspace) -> None:
    argv = [sys.executable, "-m", "tui", "--workspace", str(demo.root), "tui", "--no-autosync"]
    code, _ = _run_in_pty(argv, key=b"q")
    assert code == 0


def test_an_unexpected_exception_exits_non_zero(demo: Workspace) -> None:
    # a bug stands in for every unexpected exception: the users screen fails to mount
    script = (
        "import sys\n"
        "from tui.screens.users import UsersScreen\n"
        "def bug(self):\n"
        "    raise RuntimeError('a bug')\n"
        "UsersScreen.on_mount = bug\n"
        f"sys.argv = ['calsync', '--workspace', {str(demo.root)!r}, 'tui', '--no-autosync']\n"
        "from tui.cli import main\n"
        "main()\n"
    )
    code, out = _run_in_pty([sys.executable, "-c", script])
    assert code == 1, out[-2000:]
    assert "RuntimeError" in out and "a bug" in out
    assert "calsync: the TUI stopped on an unexpected error (details above)" in out
