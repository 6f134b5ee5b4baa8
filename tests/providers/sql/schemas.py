"""Two CRM activity tables, made with SQLAlchemy so one definition serves every database.

- `activities`: a minimal in-house table with a column for every field calsync syncs.
- `meetings`: shaped like SuiteCRM's `meetings` table (char(36) ids, naive `date_start`
  / `date_end`, a `deleted` flag, `assigned_user_id`, `status`, varchar(50) name and
  location; columns of its own calsync does not map: `type`, `parent_type`,
  `date_entered`, `reminder_time` in seconds with -1 for none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

ENV = "CALSYNC_TEST_SQL_URL"


def activities(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "activities",
        metadata,
        sa.Column("activity_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("uid", sa.String(255)),
        sa.Column("title", sa.String(255)),
        sa.Column("starts", sa.DateTime),
        sa.Column("ends", sa.DateTime),
        sa.Column("whole_day", sa.Boolean, server_default=sa.false()),
        sa.Column("place", sa.String(255)),
        sa.Column("busy", sa.String(1)),
        sa.Column("personal", sa.Integer, server_default="0"),
        sa.Column("remind_minutes", sa.Integer),
        sa.Column("notes", sa.Text),
        sa.Column("modified", sa.DateTime),
        sa.Column("category", sa.String(40), server_default="meeting"),  # not mapped
    )


ACTIVITIES_TABLE: dict[str, Any] = {
    "url_env": ENV,
    "table": "activities",
    "owner_column": "owner",
    "timezone": "Europe/Stockholm",
    "show_as_values": {
        "busy": "B",
        "free": "F",
        "tentative": "T",
        "oof": "O",
        "working_elsewhere": "W",
    },
    "privacy_values": {"normal": 0, "personal": 1, "private": 2, "confidential": 3},
    "columns": {
        "id": "activity_id",
        "uid": "uid",
        "subject": "title",
        "start": "starts",
        "end": "ends",
        "all_day": "whole_day",
        "location": "place",
        "show_as": "busy",
        "privacy": "personal",
        "reminder": "remind_minutes",
        "text": "notes",
        "last_modified": "modified",
    },
}


def meetings(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "meetings",
        metadata,
        sa.Column("id", sa.CHAR(36), primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("date_entered", sa.DateTime, server_default=sa.func.current_timestamp()),
        sa.Column("date_modified", sa.DateTime),
        sa.Column("description", sa.Text),
        sa.Column("deleted", sa.Boolean, server_default=sa.false()),
        sa.Column("assigned_user_id", sa.CHAR(36)),
        sa.Column("location", sa.String(50)),
        sa.Column("date_start", sa.DateTime),
        sa.Column("date_end", sa.DateTime),
        sa.Column("status", sa.String(100), server_default="Planned"),
        sa.Column("type", sa.String(255), server_default="Sugar"),
        sa.Column("parent_type", sa.String(100)),
        sa.Column("reminder_time", sa.Integer, server_default="-1"),
        sa.Column("outlook_id", sa.String(255)),
    )


MEETINGS_TABLE: dict[str, Any] = {
    "url_env": ENV,
    "table": "meetings",
    "owner_column": "assigned_user_id",
    "timezone": "Europe/Stockholm",
    "show_as_values": {"busy": "Planned", "free": "Not Held", "tentative": "Tentative"},
    "columns": {
        "id": "id",
        "uid": "outlook_id",
        "subject": "name",
        "start": "date_start",
        "end": "date_end",
        "location": "location",
        "show_as": "status",
        "text": "description",
        "last_modified": "date_modified",
        "deleted": "deleted",
    },
}


def create(url: str, make: Any) -> sa.Table:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table: sa.Table = make(metadata)
    metadata.create_all(engine)
    engine.dispose()
    return table


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
