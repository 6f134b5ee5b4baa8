"""What the SQL provider does beyond the contract: a SuiteCRM-shaped table, naive times,
optimistic writes, soft deletes, owners kept apart, bad rows and bad settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from sync.model import Event, Privacy, ShowAs
from sync.providers.base import (
    BrokenItem,
    CalendarNotFound,
    ConfigError,
    EtagMismatch,
    Item,
    ItemNotFound,
    Window,
)
from sync.providers.sql.provider import SqlProvider
from tests.providers.sql import schemas

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return schemas.sqlite_url(tmp_path / "crm.sqlite")
    return str(request.getfixturevalue("postgres_url"))


def settings(table: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"sql": {"crm": {**table, **changes}}}


def open_meetings(url: str, monkeypatch: pytest.MonkeyPatch, owner: str = "u-anna") -> SqlProvider:
    monkeypatch.setenv(schemas.ENV, url)
    return SqlProvider(f"sql:crm/{owner}", settings=settings(schemas.MEETINGS_TABLE))


def insert(url: str, table: sa.Table, **row: Any) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(table).values(row))
    engine.dispose()


def execute(url: str, statement: Any) -> Any:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        result = conn.execute(statement)
        rows = list(result) if result.returns_rows else result.rowcount
    engine.dispose()
    return rows


def meeting(n: int = 0, **fields: Any) -> Event:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM) + timedelta(days=n)
    return Event(
        uid=f"m-{n}", subject=f"Meeting {n}", start=start, end=start + timedelta(hours=1)
    ).replace(**fields)


def test_suitecrm_row_reads_as_an_event_in_the_configured_zone(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = schemas.create(db_url, schemas.meetings)
    insert(
        db_url,
        table,
        id="0f1e2d3c-0000-4000-8000-000000000001",
        name="Kundbesök [Acme] 東京",
        date_start=datetime(2026, 6, 1, 13, 30),  # naive: Stockholm wall time (CEST)
        date_end=datetime(2026, 6, 1, 14, 30),
        assigned_user_id="u-anna",
        status="Planned",
        location="Göteborg",
        deleted=False,
    )
    with open_meetings(db_url, monkeypatch) as p:
        listing = p.list_window(WINDOW, {})
        (item_id,) = listing.etags
        item = p.fetch([item_id])[item_id]
    assert isinstance(item, Item)
    assert item.event.subject == "Kundbesök [Acme] 東京"
    assert item.event.start == datetime(2026, 6, 1, 11, 30, tzinfo=UTC)
    assert item.event.start.tzinfo == STOCKHOLM  # type: ignore[union-attr]
    assert item.event.show_as is ShowAs.BUSY and item.event.location == "Göteborg"
    # no uid in the row: one derived from the id, stable across runs
    assert item.event.uid == "crm-crm-0f1e2d3c-0000-4000-8000-000000000001"


def test_writes_keep_unmapped_columns_and_fit_text_to_the_column(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = schemas.create(db_url, schemas.meetings)
    with open_meetings(db_url, monkeypatch) as p:
        created = p.create(meeting(subject="A very long title " * 5))
        execute(db_url, sa.update(table).values(parent_type="Accounts"))
        etag = p.list_window(WINDOW, {}).etags[created.id]  # parent_type is not mapped
        assert etag == created.etag
        updated = p.update(created.id, etag, created.event.replace(location="Malmö"))
    (row,) = execute(db_url, sa.select(table))
    assert row.type == "Sugar" and row.parent_type == "Accounts"  # defaults and others kept
    assert row.name == ("A very long title " * 5)[:50]  # varchar(50)
    assert updated.event.subject == row.name  # reported as the database holds it
    assert row.date_start == datetime(2026, 3, 2, 9, 0)  # naive Stockholm wall time
    assert row.outlook_id == "m-0" and not row.deleted


def test_a_row_changed_after_listing_is_never_overwritten(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = schemas.create(db_url, schemas.meetings)
    with open_meetings(db_url, monkeypatch) as p:
        item = p.create(meeting())
        etag = p.list_window(WINDOW, {}).etags[item.id]
        # the CRM's own user edits the row between calsync's listing and its write
        execute(db_url, sa.update(table).values(name="Edited in the CRM"))
        with pytest.raises(EtagMismatch):
            p.update(item.id, etag, item.event.replace(subject="calsync's version"))
        with pytest.raises(EtagMismatch):
            p.delete(item.id, etag)
    (row,) = execute(db_url, sa.select(table))
    assert row.name == "Edited in the CRM" and not row.deleted


def test_soft_deleted_rows_are_deletions_and_delete_sets_the_flag(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = schemas.create(db_url, schemas.meetings)
    with open_meetings(db_url, monkeypatch) as p:
        kept, flagged = p.create(meeting(0)), p.create(meeting(1))
        execute(db_url, sa.update(table).where(table.c.id == flagged.id).values(deleted=True))
        assert set(p.list_window(WINDOW, {}).etags) == {kept.id}
        assert p.fetch([flagged.id]) == {}
        p.delete(kept.id, kept.etag)
        assert p.list_window(WINDOW, {}).etags == {}
        with pytest.raises(ItemNotFound):
            p.delete(kept.id, kept.etag)
    rows = execute(db_url, sa.select(table.c.id, table.c.deleted))
    assert len(rows) == 2 and all(r.deleted for r in rows)  # rows stay, flagged


def test_one_owner_never_sees_or_writes_anothers_rows(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas.create(db_url, schemas.meetings)
    with open_meetings(db_url, monkeypatch, owner="u-anna") as anna:
        item = anna.create(meeting())
    with open_meetings(db_url, monkeypatch, owner="u-bo") as bo:
        assert bo.list_window(WINDOW, {}).etags == {}
        assert bo.fetch([item.id]) == {}
        with pytest.raises(ItemNotFound):
            bo.delete(item.id, item.etag)
        assert bo.identity() != anna.identity()


def test_bad_rows_are_broken_items_naming_the_column(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = schemas.create(db_url, schemas.meetings)
    base = {
        "assigned_user_id": "u-anna",
        "date_start": datetime(2026, 5, 1, 9),
        "date_end": datetime(2026, 5, 1, 10),
        "deleted": False,
    }
    insert(db_url, table, id="a" * 36, name="good", **base)
    insert(db_url, table, id="b" * 36, name="odd status", **{**base, "status": "Held"})
    insert(
        db_url, table, id="c" * 36, name="backwards",
        **{**base, "date_end": datetime(2026, 5, 1, 8)},
    )  # fmt: skip
    with open_meetings(db_url, monkeypatch) as p:
        listing = p.list_window(WINDOW, {})
        assert set(listing.etags) == {"a" * 36, "b" * 36, "c" * 36}
        assert set(listing.broken) == {"b" * 36, "c" * 36}
        assert "column status holds 'Held'" in listing.broken["b" * 36].error
        assert "show_as_values" in listing.broken["b" * 36].error
        fetched = p.fetch(list(listing.etags))
    assert isinstance(fetched["a" * 36], Item)
    assert isinstance(fetched["c" * 36], BrokenItem)
    assert "ends before it starts" in fetched["c" * 36].error


def test_all_day_and_privacy_values_round_trip_in_the_in_house_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    table = schemas.create(url, schemas.activities)
    monkeypatch.setenv(schemas.ENV, url)
    with SqlProvider("sql:crm/anna", settings=settings(schemas.ACTIVITIES_TABLE)) as p:
        day = datetime(2026, 8, 3).date()
        item = p.create(
            meeting(start=day, end=day + timedelta(days=2), all_day=True, privacy=Privacy.PRIVATE)
        )
    (row,) = execute(url, sa.select(table))
    assert (row.starts, row.ends) == (datetime(2026, 8, 3), datetime(2026, 8, 5))
    assert row.whole_day is True and row.personal == 2 and row.category == "meeting"
    assert item.event.all_day and item.event.end == day + timedelta(days=2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url_env": None, "url": "postgresql://u:pw@h/db"}, "url holds a password in clear"),
        ({"url_env": None}, "needs url_env, url_file or url_keyring"),
        ({"tabel": "x"}, "unknown key 'tabel'; did you mean 'table'?"),
        ({"columns": {"id": "id", "start": "s"}}, r"\[sql.crm.columns\] must map end, subject"),
        ({"timezone": "Mars/Base"}, "timezone 'Mars/Base' is not a known time zone"),
        ({"show_as_values": {"bussy": "B"}}, "show_as_values has unknown value name 'bussy'"),
    ],
)
def test_bad_settings_are_one_line_errors(change: dict[str, Any], message: str) -> None:
    table = {k: v for k, v in {**schemas.MEETINGS_TABLE, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match=message):
        SqlProvider("sql:crm/anna", settings={"sql": {"crm": table}})


def test_a_url_without_password_may_stand_in_the_table(tmp_path: Path) -> None:
    url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    schemas.create(url, schemas.meetings)
    table = {k: v for k, v in schemas.MEETINGS_TABLE.items() if k != "url_env"}
    with SqlProvider("sql:crm/u", settings={"sql": {"crm": {**table, "url": url}}}) as p:
        assert p.list_window(WINDOW, {}).etags == {}


def test_unknown_connection_and_bad_address() -> None:
    with pytest.raises(ConfigError, match=r"no \[sql.crm\] table"):
        SqlProvider("sql:crm/anna", settings={})
    with pytest.raises(ConfigError, match="sql:CONNECTION/OWNER"):
        SqlProvider("sql:crm", settings={"sql": {"crm": schemas.MEETINGS_TABLE}})


def test_a_missing_column_is_named_with_the_columns_there_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    schemas.create(url, schemas.meetings)
    monkeypatch.setenv(schemas.ENV, url)
    columns = {**schemas.MEETINGS_TABLE["columns"], "last_modified": "modified"}
    p = SqlProvider("sql:crm/u", settings=settings(schemas.MEETINGS_TABLE, columns=columns))
    with pytest.raises(ConfigError, match="column 'modified' not found in table meetings; "
                       "columns are: id, name, date_entered"):  # fmt: skip
        p.list_window(WINDOW, {})
    checks = p.check()
    assert checks[0][:2] == ("database reachable", True)
    assert checks[-1][1] is False and "column 'modified' not found" in checks[-1][2]


def test_a_missing_sqlite_file_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "typo.sqlite"
    monkeypatch.setenv(schemas.ENV, schemas.sqlite_url(missing))
    p = SqlProvider("sql:crm/u", settings=settings(schemas.MEETINGS_TABLE))
    with pytest.raises(CalendarNotFound, match=r"typo\.sqlite does not exist"):
        p.identity() and p.list_window(WINDOW, {})
    assert p.check()[0][1] is False
    assert not missing.exists()


def test_check_reports_columns_and_write_rights(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas.create(db_url, schemas.meetings)
    with open_meetings(db_url, monkeypatch) as p:
        checks = {name: (ok, detail) for name, ok, detail in p.check()}
    assert checks["table found"] == (True, "meetings")
    assert checks["column date_start"][0] is True
    assert checks["write permission"][0] is True
    assert checks["owner's rows"] == (
        True,
        "0 row(s) with assigned_user_id = 'u-anna', not deleted",
    )


def test_check_names_a_missing_write_right_on_postgres(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas.create(postgres_url, schemas.meetings)
    execute(postgres_url, sa.text("CREATE ROLE reader LOGIN PASSWORD 'pw-s3cret'"))
    execute(postgres_url, sa.text("GRANT SELECT ON meetings TO reader"))
    reader = sa.make_url(postgres_url).set(username="reader", password="pw-s3cret")
    url = reader.render_as_string(hide_password=False)
    with open_meetings(url, monkeypatch) as p:
        checks = {name: (ok, detail) for name, ok, detail in p.check()}
        assert p.list_window(WINDOW, {}).etags == {}  # reading is allowed
    ok, detail = checks["write permission"]
    assert ok is False and "permission denied for table meetings" in detail
    assert "pw-s3cret" not in repr(checks)


def test_a_refused_connection_never_shows_the_password(
    postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://nobody:pw-s3cret@127.0.0.1:{postgres_server.port}/nodb"
    with open_meetings(url, monkeypatch) as p:
        checks = p.check()
    assert checks[0][1] is False
    assert "127.0.0.1" in checks[0][2] and "pw-s3cret" not in checks[0][2]
