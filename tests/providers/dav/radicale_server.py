"""A real CalDAV server for tests: Radicale on loopback, started once per test run.

`radicale_server` (session) runs `python -m radicale` in a subprocess with its own
temporary storage, no authentication and a free port. `radicale_calendar`
(function) makes a fresh, empty calendar collection with MKCALENDAR for each test
and returns its URL. Registered for every test module through tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: the anonymous Radicale principal tests write under (auth type none takes any name)
RADICALE_USER = "calsync"


@dataclass(frozen=True)
class RadicaleServer:
    url: str  # http://127.0.0.1:PORT/
    storage: Path

    def new_calendar(self, name: str | None = None, owner: str = RADICALE_USER) -> str:
        """MKCALENDAR a fresh collection; returns its URL (ending in '/')."""
        import caldav

        name = name or f"cal-{uuid.uuid4().hex[:12]}"
        url = f"{self.url}{owner}/{name}/"
        with caldav.DAVClient(
            url=self.url, username=owner, password="x", auth_type="basic"
        ) as client:
            response = client.mkcalendar(url, client._build_mkcalendar_body(displayname=name))
            if response.status != 201:
                raise RuntimeError(f"MKCALENDAR {url} answered {response.status}")
        return url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(
    proc: subprocess.Popen[bytes], port: int, log: Path, *, name: str = "radicale"
) -> None:
    # readiness wait, not an assertion: give the server up to 30 s to bind
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited at start:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start listening:\n{log.read_text(errors='replace')}")


def start_radicale(
    root: Path, *, log_level: str = "warning"
) -> tuple[subprocess.Popen[bytes], RadicaleServer]:
    """Run Radicale on a free loopback port with storage under `root`; stop it with `stop_radicale`.

    Its log goes to ROOT/radicale.log (at "info" it names every request, which the
    benchmarks count).
    """
    storage = root / "collections"
    port = free_port()
    config = root / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "delay_on_error = 0\n"
        "[auth]\n"
        "type = none\n"
        "delay = 0\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {storage}\n"
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        f"level = {log_level}\n",
        encoding="utf-8",
    )
    log = root / "radicale.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADICALE")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until_listening(proc, port, log)
    except BaseException:
        stop_radicale(proc)
        raise
    return proc, RadicaleServer(url=f"http://127.0.0.1:{port}/", storage=storage)


def stop_radicale(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


#: room /dev/shm must have for a test server's files to go there rather than to disk
SHM_NEEDED = 2 * 1024**3


def memory_folder() -> str | None:
    """/dev/shm when it is there with room to spare, else None (the default temp folder).

    A test server's files in memory: Radicale fsyncs every item it writes, and
    PostgreSQL copies megabytes per fresh database; on a busy disk both cost seconds.
    No test of a server's own durability needs a disk under it.
    """
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > SHM_NEEDED:
            return str(shm)
    except OSError:
        pass
    return None


@pytest.fixture(scope="session")
def radicale_server() -> Iterator[RadicaleServer]:
    root = Path(tempfile.mkdtemp(prefix="calsync-radicale-", dir=memory_folder()))
    try:
        proc, server = start_radicale(root)
        try:
            yield server
        finally:
            stop_radicale(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def radicale_calendar(radicale_server: RadicaleServer) -> str:
    """URL of a fresh, empty calendar collection on the session's Radicale."""
    return radicale_server.new_calendar()
