"""A real PostgreSQL server for tests, on loopback, started once per test run.

Uses the distribution's server binaries (Debian's `postgresql` package, which `.ci/run`
installs): `initdb` into a temporary folder, then `postgres` on a free port listening on
127.0.0.1 only, with fsync off (test data need not survive a power cut). PostgreSQL
refuses to run as root, so under root both run as the `postgres` system user the
package creates. Where no server binaries exist the tests that need one are skipped,
saying why.

Every test's fresh database is a ~7 MB copy of the template, hundreds of files: the data
folder lives in memory (/dev/shm) when there is room, because writing and then deleting
hundreds of megabytes on a busy disk cost half a minute at the end of the run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.providers.dav.radicale_server import free_port, memory_folder

PG_ROOTS = (Path("/usr/lib/postgresql"),)


def server_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, or None."""
    for root in PG_ROOTS:
        versions = sorted(
            (p for p in root.glob("*/bin") if (p / "postgres").exists()),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        if versions:
            return versions[-1]
    return None


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """CREATE DATABASE with a fresh name; returns its SQLAlchemy URL."""
        import sqlalchemy as sa

        name = f"t_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            # PostgreSQL 15+ copies the template through the WAL unless told to copy
            # its files, which is three times faster (and the same database)
            version = conn.dialect.server_version_info or (0,)
            strategy = " STRATEGY FILE_COPY" if version >= (15,) else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{strategy}'))
        engine.dispose()
        return self.url(name)


def as_server_user() -> dict[str, Any]:
    """Popen arguments that run a command as the `postgres` user when we are root.

    The process itself switches user (not `runuser`, which answers a SIGTERM by
    waiting two seconds and then killing): signals reach the server directly.
    """
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def start_postgres(root: Path) -> tuple[subprocess.Popen[bytes], PostgresServer]:
    bin_dir = server_bin()
    assert bin_dir is not None
    data = root / "data"
    log = root / "postgres.log"
    user = "calsync"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    done = subprocess.run(
        # --no-sync: not fsyncing the fresh cluster takes seconds off the start
        [str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8",
         "--no-sync"],
        capture_output=True,
        **as_server_user(),
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(bin_dir / "postgres"),
                "-D", str(data),
                "-p", str(port),
                "-h", "127.0.0.1",
                "-k", str(root),  # its unix socket, out of /var/run
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
                "-c", "synchronous_commit=off",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            **as_server_user(),
        )  # fmt: skip
    server = PostgresServer(port=port, user=user)
    # readiness wait, not an assertion: give the server up to 30 s to accept connections
    deadline = time.monotonic() + 30
    while True:
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            return proc, server
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_postgres(proc)
            raise RuntimeError(f"postgres did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def stop_postgres(proc: subprocess.Popen[bytes]) -> None:
    # SIGINT is the "fast" shutdown: it ends client sessions a test left open (SIGTERM,
    # the "smart" one, would wait for them) and still shuts down cleanly
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if server_bin() is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("the psycopg driver is not installed (uv sync installs it)")
    # not under pytest's temporary folder: that is private to root, and the server
    # may run as the postgres user
    root = Path(tempfile.mkdtemp(prefix="calsync-postgres-", dir=memory_folder()))
    try:
        proc, server = start_postgres(root)
        try:
            yield server
        finally:
            stop_postgres(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of a fresh, empty database on the session's PostgreSQL."""
    return postgres_server.new_database()
