"""`calsync check` for a database calendar: connect, table, columns, types, rights.

Each line names what is wrong ("column 'modified' not found in table meetings;
columns are: …"). Write permission is tried with statements that match no row
(`INSERT … SELECT … WHERE 1 = 0`, `UPDATE … WHERE 1 = 0`, `DELETE … WHERE 1 = 0`) in
a transaction that is rolled back: the database checks the privilege, nothing changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from sync.providers.base import ProviderError

if TYPE_CHECKING:
    from sync.providers.sql.provider import SqlProvider

#: the Python types a column for each field may have (None: any)
_EXPECTED: dict[str, tuple[type, ...] | None] = {
    "id": None,
    "start": (datetime, date),
    "end": (datetime, date),
    "last_modified": (datetime, date),
    "all_day": (bool, int),
    "reminder": (int,),
    "subject": (str,),
    "location": (str,),
    "text": (str,),
    "uid": (str,),
    "show_as": None,
    "privacy": None,
    "deleted": None,
}

Check = tuple[str, bool, str]


def _python_type(column: sa.Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _columns(p: SqlProvider) -> list[Check]:
    m = p.mapper  # raises ConfigError naming a missing column
    checks: list[Check] = []
    for field, column in m.col.items():
        expected = _EXPECTED[field]
        got = _python_type(column)
        ok = expected is None or got is None or issubclass(got, expected)
        detail = f"{field} -> {column.name} ({column.type})"
        if not ok:
            want = " or ".join(t.__name__ for t in expected or ())
            detail = f"column {column.name} for {field} is {column.type}, expected {want}"
        checks.append((f"column {column.name}", ok, detail))
    return checks


def _write_rights(p: SqlProvider) -> Check:
    m = p.mapper
    table = m.table
    never = sa.literal(1) == sa.literal(0)
    owner = m.owner
    probes = [
        sa.insert(table).from_select([owner.name], sa.select(owner).where(never)),
        sa.update(table).where(never).values({owner.name: owner}),
        sa.delete(table).where(never),
    ]
    try:
        with p.engine.connect() as conn:
            transaction = conn.begin()
            try:
                for probe in probes:
                    conn.execute(probe)
            finally:
                transaction.rollback()
    except sa_exc.SQLAlchemyError as exc:
        return ("write permission", False, p.clean_error(exc))
    return ("write permission", True, f"insert, update and delete on {table.name}")


def run_checks(p: SqlProvider) -> list[Check]:
    checks: list[Check] = []
    try:
        with p.errors("connecting"), p.engine.connect():
            pass
    except ProviderError as exc:
        return [("database reachable", False, str(exc))]
    checks.append(("database reachable", True, p.safe_address()))
    try:
        columns = _columns(p)
    except ProviderError as exc:
        return [*checks, ("table and columns", False, str(exc))]
    checks.append(("table found", True, p.cfg.table_name))
    checks.extend(columns)
    checks.append(_write_rights(p))
    try:
        with p.errors("counting rows"), p.engine.connect() as conn:
            rows = p.owner_rows().subquery()
            count = conn.execute(sa.select(sa.func.count()).select_from(rows)).scalar_one()
    except ProviderError as exc:
        return [*checks, ("owner's rows", False, str(exc))]
    checks.append(
        (
            "owner's rows",
            True,
            f"{count} row(s) with {p.cfg.owner_column} = {p.cfg.owner!r}, not deleted",
        )
    )
    return checks
