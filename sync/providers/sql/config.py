"""The `[sql.NAME]` connection table: which database, table, owner column and mapping.

    [sql.crm]
    url_env = "CRM_DATABASE_URL"     # or url_file / url_keyring: the URL holds a password
                                     # (url = "sqlite:///crm.db" only where it holds none)
    table = "meetings"
    schema = "public"                # optional
    owner_column = "assigned_user_id"
    timezone = "Europe/Stockholm"    # what naive timestamps in the table mean
    show_as_values = { busy = "Planned", free = "Free" }     # optional
    privacy_values = { normal = 0, personal = 1 }            # optional
    deleted_value = 1                # the soft-delete column's "deleted" value (default 1)

    [sql.crm.columns]
    id = "id"
    start = "date_start"
    end = "date_end"
    subject = "name"
    ...                              # see FIELDS

Only `id`, `start`, `end` and `subject` must be mapped. Everything is checked here,
once, with one-line errors that name the key (`[sql.crm] ...`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.model import Privacy, ShowAs
from sync.providers.base import ConfigError
from sync.secrets import Secret, has_secret, resolve_secret

#: the Event fields a column can hold, and the two columns of calsync's own
FIELDS = (
    "id",
    "start",
    "end",
    "all_day",
    "subject",
    "location",
    "show_as",
    "privacy",
    "reminder",
    "text",
    "last_modified",
    "uid",
    "deleted",
)
REQUIRED = ("id", "start", "end", "subject")
TABLE_KEYS = {
    "url",
    "url_env",
    "url_file",
    "url_keyring",
    "table",
    "schema",
    "owner_column",
    "timezone",
    "columns",
    "show_as_values",
    "privacy_values",
    "deleted_value",
    "timeout",
}


@dataclass(frozen=True)
class SqlConfig:
    connection: str  # NAME of [sql.NAME]
    owner: str
    table_name: str
    schema: str | None
    owner_column: str
    columns: dict[str, str]  # field -> column name
    zone: ZoneInfo
    show_as_values: dict[ShowAs, Any] | None
    privacy_values: dict[Privacy, Any] | None
    deleted_value: Any
    timeout: float
    table: Mapping[str, Any]  # the raw table, for the URL secret

    @property
    def where(self) -> str:
        return f"sql.{self.connection}"

    def url(self) -> Secret:
        if isinstance(self.table.get("url"), str):
            return Secret(self.table["url"])
        return resolve_secret(self.table, "url", self.where)

    def column(self, field: str) -> str | None:
        return self.columns.get(field)


def _has_password(url: str) -> bool:
    """Whether a database URL carries a password (`scheme://user:PASSWORD@host/...`)."""
    _, sep, rest = url.partition("://")
    userinfo = rest.split("/", 1)[0].rpartition("@")[0] if sep else ""
    return ":" in userinfo


def split_address(address: str) -> tuple[str, str]:
    """`crm/anna.aster` -> ("crm", "anna.aster")."""
    name, sep, owner = address.partition("/")
    if not sep or not name or not owner:
        raise ConfigError(
            f"sql:{address} is not of the form sql:CONNECTION/OWNER (e.g. sql:crm/anna.aster)"
        )
    return name, owner


def _unknown(where: str, key: str, known: Any) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
    return ConfigError(f"[{where}] has unknown key {key!r}{hint}")


def _value_map(raw: Any, enum: Any, where: str, key: str) -> dict[Any, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f'[{where}] {key} must be a table such as {{ busy = "B" }}')
    out: dict[Any, Any] = {}
    for name, value in raw.items():
        try:
            member = enum(name)
        except ValueError:
            raise ConfigError(
                f"[{where}] {key} has unknown value name {name!r} "
                f"(known: {', '.join(m.value for m in enum)})"
            ) from None
        if isinstance(value, (Mapping, list)):
            raise ConfigError(f"[{where}] {key}.{name} must be a single value")
        out[member] = value
    stored = list(out.values())
    if len(set(map(repr, stored))) != len(stored):
        raise ConfigError(f"[{where}] {key} maps two names to the same stored value")
    return out


def load(settings: Mapping[str, Any], address: str) -> SqlConfig:
    """The checked `[sql.NAME]` table for `sql:NAME/OWNER`."""
    name, owner = split_address(address)
    where = f"sql.{name}"
    section = settings.get("sql")
    table = section.get(name) if isinstance(section, Mapping) else None
    if not isinstance(table, Mapping):
        raise ConfigError(f"calsync.toml has no [{where}] table describing database {name!r}")
    for key in table:
        if key not in TABLE_KEYS:
            raise _unknown(where, key, TABLE_KEYS)
    if "url" in table:
        # a URL without a password (a SQLite file, a socket with peer auth) may stand here
        if not isinstance(table["url"], str) or _has_password(table["url"]):
            raise ConfigError(
                f"[{where}] url holds a password in clear text; reference it with url_env, "
                "url_file (a 0600 file) or url_keyring"
            )
    elif not has_secret(table, "url"):
        raise ConfigError(f"[{where}] needs url_env, url_file or url_keyring (the database URL)")
    for key in ("table", "owner_column"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise ConfigError(f'[{where}] needs {key} = "..."')
    schema = table.get("schema")
    if schema is not None and (not isinstance(schema, str) or not schema):
        raise ConfigError(f"[{where}] schema must be a name")
    raw_columns = table.get("columns")
    if not isinstance(raw_columns, Mapping):
        raise ConfigError(f"[{where}] needs a [{where}.columns] table mapping fields to columns")
    columns: dict[str, str] = {}
    for field, column in raw_columns.items():
        if field not in FIELDS:
            raise _unknown(f"{where}.columns", field, FIELDS)
        if not isinstance(column, str) or not column:
            raise ConfigError(f"[{where}.columns] {field} must be a column name")
        columns[field] = column
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ConfigError(f"[{where}.columns] must map {', '.join(missing)}")
    used = [*columns.values(), table["owner_column"]]
    if len(set(used)) != len(used):
        raise ConfigError(f"[{where}.columns] maps one column to two fields (or the owner column)")
    zone_name = table.get("timezone", "UTC")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[{where}] timezone {zone_name!r} is not a known time zone") from None
    timeout = table.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"[{where}] timeout must be a number of seconds above 0")
    return SqlConfig(
        connection=name,
        owner=owner,
        table_name=table["table"],
        schema=schema,
        owner_column=table["owner_column"],
        columns=columns,
        zone=zone,
        show_as_values=_value_map(table.get("show_as_values"), ShowAs, where, "show_as_values"),
        privacy_values=_value_map(table.get("privacy_values"), Privacy, where, "privacy_values"),
        deleted_value=table.get("deleted_value", 1),
        timeout=float(timeout),
        table=table,
    )
