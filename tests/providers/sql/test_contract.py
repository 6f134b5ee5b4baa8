"""The SQL provider passes the provider contract on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.providers.sql.provider import SqlProvider
from tests.providers.contract import ProviderContract
from tests.providers.sql import schemas


def open_sql(url: str, monkeypatch: pytest.MonkeyPatch, owner: str = "anna") -> SqlProvider:
    monkeypatch.setenv(schemas.ENV, url)
    return SqlProvider(f"sql:crm/{owner}", settings={"sql": {"crm": schemas.ACTIVITIES_TABLE}})


class TestContractSQLite(ProviderContract):
    @pytest.fixture
    def provider(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlProvider]:
        url = schemas.sqlite_url(tmp_path / "crm.sqlite")
        schemas.create(url, schemas.activities)
        with open_sql(url, monkeypatch) as p:
            yield p  # type: ignore[misc]


class TestContractPostgres(ProviderContract):
    @pytest.fixture
    def provider(self, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlProvider]:
        schemas.create(postgres_url, schemas.activities)
        with open_sql(postgres_url, monkeypatch) as p:
            yield p  # type: ignore[misc]
