"""The CRM's modification time is written in whole seconds, like every LAST-MODIFIED
calsync compares it with (R3): a change on each side within one second is a tie the
log calls "order unknown", never a CRM win by the microseconds only it keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.providers.base import Item, Window
from tests.engine.harness import ev
from tests.providers.sql import schemas
from tests.providers.sql.test_contract import open_sql


def test_a_written_row_is_dated_to_the_whole_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    schemas.create(url, schemas.activities)
    with open_sql(url, monkeypatch) as p:
        before = datetime.now(UTC).replace(microsecond=0)
        made = p.create(ev("a", "Visit"))
        edited = p.update(made.id, made.etag, made.event.replace(location="Lund"))
        after = datetime.now(UTC)
        window = Window(after - timedelta(days=9), after + timedelta(days=9))
        listed = p.fetch(list(p.list_window(window, {}).etags))[made.id]
    assert isinstance(listed, Item)
    for item in (made, edited, listed):
        stamp = item.event.last_modified
        assert stamp is not None and stamp.microsecond == 0
        assert before <= stamp <= after
