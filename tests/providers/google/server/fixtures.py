"""pytest fixtures and helpers around `GoogleTestServer`. Import them into a test module:

    from tests.providers.google.server.fixtures import google_server, service_account  # noqa: F401

`google_server` (session) is one server for the run, `service_account` (session)
a service account it knows, with a freshly generated RSA key; `settings_for`
builds the `settings` mapping a provider receives, the key in a 0600 file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.providers.google.server.server import GoogleTestServer, ServiceAccount


@dataclass
class Key:
    info: dict[str, Any]
    account: ServiceAccount


class FastClock:
    """Time that runs `factor` times faster than the wall clock, for the request budget
    of calsync and of the server alike: a minute of Google's quota in a second."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.start = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self.start) * self.factor

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.factor)


class VirtualClock:
    """Time that passes only when calsync waits: requests take no time at all, so
    what a test sees is the budget's and the back-off's doing alone, however loaded
    the machine is. Shared by calsync and the server."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += max(0.0, seconds)


def make_key(
    server: GoogleTestServer, email: str = "calsync@calsync-test.iam.gserviceaccount.com"
) -> Key:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    account = server.accounts[email] = ServiceAccount(email, public)
    info = {
        "type": "service_account",
        "project_id": "calsync-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": server.token_uri,
    }
    return Key(info, account)


def write_private(path: Path, text: str) -> Path:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")
    return path


def google_table(server: GoogleTestServer, key: Key, tmp: Path, **overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "service_account_file": str(write_private(tmp / "google-sa.json", json.dumps(key.info))),
        "api_url": server.api_url,
        "timeout": 10,
    }
    table.update(overrides)
    return {k: v for k, v in table.items() if v is not None}


@pytest.fixture(scope="session")
def google_server() -> Iterator[GoogleTestServer]:
    server = GoogleTestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def service_account(google_server: GoogleTestServer) -> Key:
    return make_key(google_server)
