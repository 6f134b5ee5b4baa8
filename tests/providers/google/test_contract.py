"""The provider contract against the Google test server (Calendar API v3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.providers.google.provider import GoogleProvider
from tests.providers.contract import ProviderContract
from tests.providers.google.server.fixtures import Key, google_server, google_table, service_account
from tests.providers.google.server.server import GoogleTestServer

__all__ = ["google_server", "service_account"]


class TestGoogleContract(ProviderContract):
    @pytest.fixture
    def provider(
        self, google_server: GoogleTestServer, service_account: Key, tmp_path: Path
    ) -> Iterator[GoogleProvider]:
        calendar = google_server.add_user()
        mails = len(google_server.mail_sent)
        settings = {"google": google_table(google_server, service_account, tmp_path)}
        with GoogleProvider(f"google:{calendar.id}", settings=settings) as provider:
            yield provider
        # no contract test, refused notify included, ever made Google send mail
        assert google_server.mail_sent[mails:] == []
