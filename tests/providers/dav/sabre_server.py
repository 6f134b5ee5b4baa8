"""A second real CalDAV server for tests: sabre/dav, the engine of Nextcloud and Baïkal.

Debian's `php-sabre-dav` (1.8) runs under PHP's built-in web server (`php -S`) on a free
loopback port, with the PDO SQLite backends of sabre/dav's own example schema
(/usr/share/doc/php-sabre-dav/examples/sql/) and digest authentication, as its example
`calendarserver.php` sets it up. sabre/dav 1.8 has no `sync-collection` REPORT, so it
also exercises calsync's calendar-query fallback and digest auth.

`.ci/run` installs the packages; where PHP or sabre/dav is absent the tests that need
this server are skipped with that reason (never silently passed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.providers.dav.radicale_server import free_port, memory_folder, wait_until_listening
from tests.providers.dav.radicale_server import stop_radicale as stop

SABRE_USER = "calsync"
SABRE_PASSWORD = "x"
#: sabre/dav's digest realm in the example server (Sabre\DAV\Auth\Plugin's second argument)
REALM = "SabreDAV"
SCHEMA_DIR = Path("/usr/share/doc/php-sabre-dav/examples/sql")
SABRE_LIB = Path("/usr/share/php/Sabre/autoload.php")
SERVER_SCRIPT = Path(__file__).parent / "sabre" / "server.php"


def missing_reason() -> str | None:
    """Why sabre/dav cannot run here, or None when it can."""
    if shutil.which("php") is None:
        return "PHP is not installed (apt-get install php-cli php-sqlite3 php-sabre-dav)"
    if not SABRE_LIB.exists() or not SCHEMA_DIR.exists():
        return "sabre/dav is not installed (apt-get install php-sabre-dav)"
    probe = subprocess.run(
        ["php", "-r", "exit(extension_loaded('pdo_sqlite') ? 0 : 1);"], capture_output=True
    )
    if probe.returncode != 0:
        return "PHP has no pdo_sqlite (apt-get install php-sqlite3)"
    return None


@dataclass(frozen=True)
class SabreServer:
    url: str  # http://127.0.0.1:PORT/
    database: Path

    def calendar_url(self, name: str) -> str:
        return f"{self.url}calendars/{SABRE_USER}/{name}/"

    def new_calendar(self, name: str | None = None) -> str:
        """MKCALENDAR a fresh collection over HTTP (digest auth); returns its URL."""
        import caldav

        url = self.calendar_url(name or f"cal-{uuid.uuid4().hex[:12]}")
        with caldav.DAVClient(
            url=self.url, username=SABRE_USER, password=SABRE_PASSWORD, auth_type="digest"
        ) as client:
            response = client.mkcalendar(url)
            if response.status != 201:
                raise RuntimeError(f"MKCALENDAR {url} answered {response.status}")
        return url


def make_database(path: Path) -> None:
    """sabre/dav's own SQLite schema, one principal and its digest credentials."""
    with sqlite3.connect(path) as db:
        for part in ("calendars", "principals", "users", "locks"):
            db.executescript((SCHEMA_DIR / f"sqlite.{part}.sql").read_text(encoding="utf-8"))
        principal = f"principals/{SABRE_USER}"
        db.execute(
            "INSERT INTO principals (uri, email, displayname) VALUES (?, ?, ?)",
            (principal, f"{SABRE_USER}@example.org", SABRE_USER),
        )
        for proxy in ("calendar-proxy-read", "calendar-proxy-write"):
            db.execute("INSERT INTO principals (uri) VALUES (?)", (f"{principal}/{proxy}",))
        # the digest HA1 the PDO auth backend compares: md5(user:realm:password)
        ha1 = hashlib.md5(f"{SABRE_USER}:{REALM}:{SABRE_PASSWORD}".encode()).hexdigest()
        db.execute("INSERT INTO users (username, digesta1) VALUES (?, ?)", (SABRE_USER, ha1))


def start_sabre(root: Path) -> tuple[subprocess.Popen[bytes], SabreServer]:
    database = root / "sabre.sqlite"
    make_database(database)
    port = free_port()
    log = root / "php.log"
    env = {**os.environ, "SABRE_DB": str(database)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{port}", str(SERVER_SCRIPT)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    try:
        wait_until_listening(proc, port, log, name="php -S (sabre/dav)")
    except BaseException:
        stop(proc)
        raise
    return proc, SabreServer(url=f"http://127.0.0.1:{port}/", database=database)


@pytest.fixture(scope="session")
def sabre_server() -> Iterator[SabreServer]:
    if (reason := missing_reason()) is not None:
        pytest.skip(reason)
    # its SQLite database in memory when there is room (see memory_folder)
    root = Path(tempfile.mkdtemp(prefix="calsync-sabre-", dir=memory_folder()))
    try:
        proc, server = start_sabre(root)
        try:
            yield server
        finally:
            stop(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sabre_calendar(sabre_server: SabreServer) -> str:
    """URL of a fresh, empty calendar collection on the session's sabre/dav."""
    return sabre_server.new_calendar()
