"""The demo's database-backed user: a CRM whose calendar is a table in a SQLite file.

`calsync demo` adds user `david` whose CRM side is `sql:demo/david`: an `activities`
table in DEMO/crm.sqlite, described by a `[sql.demo]` table that the demo appends to
its calsync.toml, so the demo shows a CRM database working without any server.
"""

from __future__ import annotations

from pathlib import Path

from storage.atomic import atomic_write
from storage.workspace import Workspace

NAME = "david"
CONNECTION = "demo"


def _section(database: Path) -> str:
    return f"""
# The demo's CRM database (user {NAME}): a SQLite file. A real CRM's URL holds a
# password, so it is referenced with url_env / url_file / url_keyring instead.
[sql.{CONNECTION}]
url = "sqlite:///{database}"
table = "activities"
owner_column = "owner"
timezone = "Europe/Stockholm"
show_as_values = {{ busy = "B", free = "F", tentative = "T", oof = "O", working_elsewhere = "W" }}
privacy_values = {{ normal = 0, personal = 1 }}

[sql.{CONNECTION}.columns]
id = "id"
uid = "uid"
subject = "subject"
start = "starts_at"
end = "ends_at"
all_day = "all_day"
location = "location"
show_as = "show_as"
privacy = "personal"
reminder = "reminder_minutes"
text = "notes"
last_modified = "modified_at"
deleted = "deleted"
"""


def prepare(ws: Workspace) -> str:
    """Create the demo database and its calsync.toml section; returns the CRM URL."""
    import sqlalchemy as sa

    database = ws.root / "crm.sqlite"
    engine = sa.create_engine(f"sqlite:///{database}")
    metadata = sa.MetaData()
    sa.Table(
        "activities",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False, index=True),
        sa.Column("uid", sa.String(255)),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        sa.Column("ends_at", sa.DateTime, nullable=False),
        sa.Column("all_day", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("location", sa.String(255)),
        sa.Column("show_as", sa.String(1), server_default="B"),
        sa.Column("personal", sa.Integer, server_default="0"),
        sa.Column("reminder_minutes", sa.Integer),
        sa.Column("notes", sa.Text),
        sa.Column("modified_at", sa.DateTime),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
    )
    metadata.create_all(engine)
    engine.dispose()
    config = ws.config_path.read_text(encoding="utf-8") if ws.config_path.exists() else ""
    if f"[sql.{CONNECTION}]" not in config:
        atomic_write(ws.config_path, (config + _section(database)).encode("utf-8"))
    return f"sql:{CONNECTION}/{NAME}"
