"""Shared pytest fixtures for tests that reach the EWS test server as calsync would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from tests.providers.ews.server.server import EWSTestServer

SERVICE_ACCOUNT = "svc-calsync"
SERVICE_PASSWORD = "pw-svc"
PASSWORD_ENV = "CALSYNC_E2E_EWS_PASSWORD"


@pytest.fixture(scope="module")
def ews() -> Iterator[EWSTestServer]:
    with EWSTestServer() as server:
        server.org.add_account(SERVICE_ACCOUNT, SERVICE_PASSWORD)
        yield server


def new_mailbox(ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A fresh mailbox the service account may impersonate, and the calsync.toml text."""
    monkeypatch.setenv(PASSWORD_ENV, SERVICE_PASSWORD)
    mailbox = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    ews.org.add_mailbox(mailbox, impersonators=(SERVICE_ACCOUNT,))
    table = {
        "service_endpoint": ews.url,
        "auth": "basic",
        "username": SERVICE_ACCOUNT,
        "password_env": PASSWORD_ENV,
        "timezone": "Europe/Stockholm",
        "max_backoff": 5,
        "timeout": 10,
    }
    return mailbox, "[exchange]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
