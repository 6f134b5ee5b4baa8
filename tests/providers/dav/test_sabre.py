"""The CalDAV adapter against sabre/dav 1.8 (tests/providers/dav/sabre_server.py).

sabre/dav is the server inside Nextcloud and Baïkal. Its 1.8 release has no
sync-collection REPORT (calsync lists with calendar-query and checks the ctag) and
uses digest authentication in its example server setup.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sync.providers.dav.provider import CalDAVProvider
from tests.providers.contract import ProviderContract
from tests.providers.dav.sabre_server import SABRE_PASSWORD, SABRE_USER

PASSWORD_ENV = "CALSYNC_TEST_SABRE_PASSWORD"


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, SABRE_PASSWORD)


def settings(**extra: Any) -> dict[str, Any]:
    return {
        "caldav": {
            "username": SABRE_USER,
            "password_env": PASSWORD_ENV,
            "auth": "digest",
            **extra,
        }
    }


def open_sabre(url: str, **extra: Any) -> CalDAVProvider:
    return CalDAVProvider(f"caldav:{url}", settings=settings(**extra))


@pytest.fixture
def provider(sabre_calendar: str) -> Iterator[CalDAVProvider]:
    with open_sabre(sabre_calendar) as p:
        yield p


def raw_injector(p: CalDAVProvider) -> Any:
    def inject(raw: bytes) -> str:
        name = f"raw-{uuid.uuid4().hex[:10]}.ics"
        response = p.client.put(p._href(name), raw, {"Content-Type": "text/calendar"})
        if response.status not in (201, 204):
            pytest.skip(f"sabre/dav refuses to store this item (HTTP {response.status})")
        return name

    return inject


class TestContractSabre(ProviderContract):
    # a calendar-query time-range also returns items that start before the window but
    # overlap it; the engine filters on start
    window_exact = False

    @pytest.fixture
    def inject_raw(self, provider: CalDAVProvider) -> Any:
        return raw_injector(provider)
