"""`sql:CONNECTION/OWNER` — the activities of one owner in the CRM's own database table.

SQLAlchemy Core against a reflected table, so one code path serves PostgreSQL,
SQL Server, MySQL and SQLite (drivers are optional extras: `calsync[postgresql]`,
`calsync[mssql]`, `calsync[mysql]`; SQLite needs none).

- Listing is one windowed SELECT of the mapped columns for the owner; the etag is a
  hash of those columns, so any change to a mapped column is a change, and a
  no-change sync reads nothing more. A row whose soft-delete column holds
  `deleted_value` is not listed: to the engine it is deleted.
- Every write is one transaction and optimistic: the row is read (FOR UPDATE where
  the database has it), its etag compared with the one the engine saw, and the UPDATE
  or DELETE is guarded by every mapped column still holding the value read, so a
  change that slips in between is an `EtagMismatch`, never a blind overwrite.
  Statements always filter on the owner: one user's sync never touches another's rows.
- A deletion sets the soft-delete column where one is mapped, else deletes the row.
- Identity (R10): database address (without credentials), table and owner.
- Ids can come back: a database may give a new row the id of a deleted one (SQLite's
  rowid is the highest id plus one; MySQL's counter can go back after a restart).
  The engine then tells the two apart by UID (`Capabilities.reuses_ids`), so map a
  `uid` column where ids are integers; without one the UID is made from the id
  and a reused id cannot be told from an edit.

An unknown outcome (the connection drops while COMMIT is under way) is resolved by the
next listing: a row that exists has its etag, one that does not is absent.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from sync.model import Event
from sync.providers.base import (
    BrokenItem,
    CalendarNotFound,
    Capabilities,
    ConfigError,
    ConnectionFailed,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Listing,
    MalformedItem,
    Provider,
    ProviderError,
    Window,
    ensure_no_notify,
)
from sync.providers.sql import config as sql_config
from sync.providers.sql.mapping import RowMapper

__all__ = ["SqlProvider"]

_DAY = timedelta(days=1)


class SqlProvider(Provider):
    scheme: ClassVar[str] = "sql"
    capabilities: ClassVar[Capabilities] = Capabilities(reuses_ids=True)

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        scheme, sep, rest = url.partition(":")
        if not sep or scheme.lower() != "sql":
            raise ConfigError(f"{url!r} is not a database calendar (sql:CONNECTION/OWNER)")
        self.address = rest
        self.cfg = sql_config.load(self.settings, rest)
        self._engine: sa.Engine | None = None
        self._mapper: RowMapper | None = None
        self._rows: dict[str, Mapping[str, Any]] = {}

    @classmethod
    def normalize_url(cls, url: str) -> str:
        scheme, _, rest = url.partition(":")
        return f"{scheme.lower()}:{rest}"

    # -- connection -----------------------------------------------------------------

    def _url(self) -> sa.URL:
        secret = self.cfg.url()
        try:
            return sa.make_url(str(secret))
        except sa_exc.ArgumentError:
            raise ConfigError(
                f"[{self.cfg.where}] the database URL is not a SQLAlchemy URL "
                "(e.g. postgresql+psycopg://user:password@host/db)"
            ) from None

    def safe_address(self) -> str:
        """The database address without user or password, for messages and identity."""
        url = self._url()
        if url.get_backend_name() == "sqlite":
            return f"sqlite:{Path(url.database or '').resolve()}"
        port = f":{url.port}" if url.port else ""
        return f"{url.get_backend_name()}://{url.host or ''}{port}/{url.database or ''}"

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            url = self._url()
            connect_args: dict[str, Any] = {}
            backend = url.get_backend_name()
            if backend == "sqlite":
                path = Path(url.database or "")
                # connecting would create a missing file: a read or check never may
                if not url.database or url.database == ":memory:" or not path.is_file():
                    raise CalendarNotFound(f"database file {path} does not exist")
                connect_args["timeout"] = self.cfg.timeout
            elif backend in ("postgresql", "mysql"):
                connect_args["connect_timeout"] = max(1, int(self.cfg.timeout))
            elif backend == "mssql":
                connect_args["timeout"] = max(1, int(self.cfg.timeout))
            try:
                self._engine = sa.create_engine(
                    url, poolclass=sa.pool.NullPool, connect_args=connect_args
                )
            except (sa_exc.ArgumentError, ImportError, sa_exc.NoSuchModuleError) as exc:
                raise ConfigError(
                    f"[{self.cfg.where}] cannot use the database driver: {_first_line(exc)} "
                    "(install calsync[postgresql], calsync[mysql] or calsync[mssql])"
                ) from None
        return self._engine

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Driver errors as one-line provider errors that never show the password."""
        try:
            yield
        except ProviderError:
            raise
        except sa_exc.OperationalError as exc:
            raise ConnectionFailed(
                f"{self.safe_address()}: {what} failed: {self.clean_error(exc)}"
            ) from None
        except sa_exc.NoSuchTableError:
            raise CalendarNotFound(
                f"{self.safe_address()}: table {self.cfg.table_name} not found"
            ) from None
        except sa_exc.SQLAlchemyError as exc:
            raise ProviderError(
                f"{self.safe_address()}: {what} failed: {self.clean_error(exc)}"
            ) from None

    def clean_error(self, exc: BaseException) -> str:
        text = _first_line(getattr(exc, "orig", None) or exc)
        password = self._url().password
        return text.replace(str(password), "***") if password else text

    @property
    def mapper(self) -> RowMapper:
        if self._mapper is None:
            with self.errors("reading the table's columns"), self.engine.connect() as conn:
                table = sa.Table(
                    self.cfg.table_name, sa.MetaData(), schema=self.cfg.schema, autoload_with=conn
                )
            wanted = [*self.cfg.columns.values(), self.cfg.owner_column]
            have = [c.name for c in table.columns]
            for name in wanted:
                if name not in table.c:
                    raise ConfigError(
                        f"[{self.cfg.where}] column {name!r} not found in table "
                        f"{self.cfg.table_name}; columns are: {', '.join(have)}"
                    )
            self._mapper = RowMapper(self.cfg, table)
        return self._mapper

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- reading ----------------------------------------------------------------------

    def identity(self) -> str:
        schema = f"{self.cfg.schema}." if self.cfg.schema else ""
        return f"sql:{self.safe_address()}#{schema}{self.cfg.table_name}/{self.cfg.owner}"

    def owner_rows(self) -> sa.Select[Any]:
        m = self.mapper
        query = sa.select(*m.selected).where(m.owner == self.cfg.owner)
        deleted = m.col.get("deleted")
        if deleted is not None:
            query = query.where(sa.or_(deleted.is_(None), deleted != m.deleted_value))
        return query

    def _bound(self, when: datetime) -> datetime:
        column = self.mapper.col["start"]
        local = when.astimezone(self.cfg.zone)
        return local if getattr(column.type, "timezone", False) else local.replace(tzinfo=None)

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        m = self.mapper
        start = m.col["start"]
        # a day's margin each way: an all-day row starts at local midnight, and the
        # window places it by its date (midnight UTC); each row is then placed exactly
        query = self.owner_rows().where(
            start >= self._bound(window.start - _DAY), start < self._bound(window.end + _DAY)
        )
        with self.errors("listing"), self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        listing = Listing(etags={})
        self._rows = {}
        for row in rows:
            item_id = str(row[m.col["id"].name])
            etag = m.etag(row)
            try:
                if not window.contains(m.to_event(row)):
                    continue
            except MalformedItem as exc:
                listing.broken[item_id] = BrokenItem(item_id, etag, exc.reason)
            self._rows[item_id] = row
            listing.etags[item_id] = etag
        return listing

    def _read(self, conn: sa.Connection, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        m = self.mapper
        values = [v for v in (m.id_value(i) for i in ids) if v is not None]
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(values), 500):
            query = self.owner_rows().where(m.col["id"].in_(values[start : start + 500]))
            for r in conn.execute(query):
                row = dict(r._mapping)
                found[str(row[m.col["id"].name])] = row
        return found

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        wanted = list(dict.fromkeys(ids))
        rows = {i: self._rows[i] for i in wanted if i in self._rows}
        missing = [i for i in wanted if i not in rows]
        if missing:
            with self.errors("reading rows"), self.engine.connect() as conn:
                rows.update(self._read(conn, missing))
        return {i: self._item_or_broken(i, row) for i, row in rows.items() if i in wanted}

    def _item_or_broken(self, item_id: str, row: Mapping[str, Any]) -> Item | BrokenItem:
        etag = self.mapper.etag(row)
        try:
            return Item(item_id, etag, self.mapper.to_event(row))
        except MalformedItem as exc:
            return BrokenItem(item_id, etag, exc.reason)

    def _as_item(self, row: Mapping[str, Any]) -> Item:
        item_id = str(row[self.mapper.col["id"].name])
        self._rows[item_id] = row
        return Item(item_id, self.mapper.etag(row), self.mapper.to_event(row))

    # -- writing ----------------------------------------------------------------------

    def _locked_row(self, conn: sa.Connection, item_id: str, etag: str) -> Mapping[str, Any]:
        m = self.mapper
        value = m.id_value(item_id)
        if value is None:
            raise ItemNotFound(item_id)
        query = self.owner_rows().where(m.col["id"] == value).with_for_update()
        found = conn.execute(query).first()
        if found is None:
            raise ItemNotFound(item_id)
        row = dict(found._mapping)
        if m.etag(row) != etag:
            raise EtagMismatch(item_id, etag)
        return row

    def _unchanged(self, row: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        """WHERE terms that hold only while every mapped column has the value read."""
        m = self.mapper
        return [m.owner == self.cfg.owner] + [
            c.is_not_distinct_from(row[c.name]) for c in m.selected
        ]

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        m = self.mapper
        values = m.to_values(event, now=datetime.now(UTC))
        values[m.owner.name] = self.cfg.owner
        if "uid" in m.col:
            values[m.col["uid"].name] = event.uid
        if "deleted" in m.col:
            values[m.col["deleted"].name] = m.kept_value
        id_column = m.col["id"]
        if not m.integer_id:
            values[id_column.name] = str(uuid.uuid4())
        with self.errors("insert"), self.engine.begin() as conn:
            if "uid" in m.col:
                clash = self.owner_rows().where(m.col["uid"] == event.uid)
                if conn.execute(clash).first() is not None:
                    raise ItemRefused(
                        event.uid,
                        f"an item with UID {event.uid!r} already exists",
                        uid_conflict=True,
                    )
            result = conn.execute(sa.insert(m.table).values(values))
            new_id = values.get(id_column.name)
            if new_id is None:
                new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
            if new_id is None:
                raise ProviderError(
                    f"{self.safe_address()}: the database did not say which id the new row got"
                )
            row = self._read(conn, [str(new_id)])[str(new_id)]
        return self._as_item(row)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        m = self.mapper
        with self.errors("update"), self.engine.begin() as conn:
            row = self._locked_row(conn, item_id, etag)
            values = m.to_values(event, now=datetime.now(UTC))
            done = conn.execute(sa.update(m.table).where(*self._unchanged(row)).values(values))
            if done.rowcount != 1:
                raise EtagMismatch(item_id, etag)
            new = self._read(conn, [item_id])[item_id]
        return self._as_item(new)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        m = self.mapper
        with self.errors("delete"), self.engine.begin() as conn:
            row = self._locked_row(conn, item_id, etag)
            deleted = m.col.get("deleted")
            if deleted is not None:
                stmt: Any = (
                    sa.update(m.table)
                    .where(*self._unchanged(row))
                    .values({deleted.name: m.deleted_value})
                )
            else:
                stmt = sa.delete(m.table).where(*self._unchanged(row))
            if conn.execute(stmt).rowcount != 1:
                raise EtagMismatch(item_id, etag)
        self._rows.pop(item_id, None)

    # -- operator checks ----------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        from sync.providers.sql.check import run_checks

        return run_checks(self)


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
