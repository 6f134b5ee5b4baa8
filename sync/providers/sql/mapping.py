"""One row of the CRM's activity table as an `Event`, and an `Event` as column values.

Naive timestamps are wall time in the connection's `timezone`; aware ones (PostgreSQL
`timestamptz`) are instants. An all-day row spans local midnight to local midnight
(end exclusive, as iCalendar); an end stored as the last day's 23:59:59 is read as
the next midnight. Text longer than its column is cut to fit, and the item is then
reported as written (so what the database holds is what calsync remembers: no
ping-pong). A value calsync cannot read is a `MalformedItem` naming the column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from sync.model import Event, EventError, Privacy, ShowAs
from sync.providers.base import MalformedItem
from sync.providers.sql.config import SqlConfig

#: where a show-as value has no entry in `show_as_values`, the nearest one that has
_SHOW_AS_FALLBACK = {
    ShowAs.OOF: (ShowAs.BUSY,),
    ShowAs.WORKING_ELSEWHERE: (ShowAs.BUSY,),
    ShowAs.TENTATIVE: (ShowAs.BUSY,),
    ShowAs.FREE: (),
    ShowAs.BUSY: (),
}
_PRIVACY_FALLBACK = {
    Privacy.CONFIDENTIAL: (Privacy.PRIVATE, Privacy.PERSONAL),
    Privacy.PRIVATE: (Privacy.PERSONAL, Privacy.CONFIDENTIAL),
    Privacy.PERSONAL: (Privacy.PRIVATE, Privacy.CONFIDENTIAL),
    Privacy.NORMAL: (),
}


def _stable(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return repr(value)


class RowMapper:
    """Maps rows of one reflected table for one `[sql.NAME]` configuration."""

    def __init__(self, cfg: SqlConfig, table: sa.Table) -> None:
        self.cfg = cfg
        self.table = table
        self.col = {field: table.c[name] for field, name in cfg.columns.items()}
        self.owner = table.c[cfg.owner_column]
        #: the columns every listing reads (and the etag covers), id first
        self.selected = [self.col["id"], *(c for f, c in self.col.items() if f != "id")]
        self.integer_id = _python_type(self.col["id"]) is int
        #: the soft-delete column's values for "deleted" and "kept", in its own type
        self.deleted_value: Any = cfg.deleted_value
        self.kept_value: Any = 0 if cfg.deleted_value != 0 else 1
        deleted = self.col.get("deleted")
        if deleted is not None and _python_type(deleted) is bool:
            self.deleted_value = bool(cfg.deleted_value)
            self.kept_value = not self.deleted_value

    # -- ids and etags --------------------------------------------------------------

    def id_value(self, item_id: str) -> Any | None:
        """The id column's value for an item id, or None when it cannot be one."""
        if not item_id:
            return None
        if self.integer_id:
            return int(item_id) if item_id.isdigit() else None
        return item_id

    def etag(self, row: Mapping[str, Any]) -> str:
        blob = "\x1f".join(_stable(row[c.name]) for c in self.selected)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def is_deleted(self, row: Mapping[str, Any]) -> bool:
        column = self.col.get("deleted")
        return column is not None and row[column.name] == self.deleted_value

    # -- reading --------------------------------------------------------------------

    def to_event(self, row: Mapping[str, Any]) -> Event:
        item_id = str(row[self.col["id"].name])
        try:
            return self._event(item_id, row)
        except EventError as exc:
            raise MalformedItem(item_id, str(exc)) from None

    def _value(self, row: Mapping[str, Any], field: str) -> Any:
        column = self.col.get(field)
        return None if column is None else row[column.name]

    def _moment(self, item_id: str, row: Mapping[str, Any], field: str) -> datetime:
        value = self._value(row, field)
        name = self.cfg.columns[field]
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise MalformedItem(item_id, f"column {name} holds {value!r}, not a time") from None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(0))
        if not isinstance(value, datetime):
            what = "is empty" if value is None else f"holds {value!r}, not a time"
            raise MalformedItem(item_id, f"column {name} {what}")
        if value.tzinfo is None:
            return value.replace(tzinfo=self.cfg.zone)
        return value.astimezone(self.cfg.zone)

    def _event(self, item_id: str, row: Mapping[str, Any]) -> Event:
        start = self._moment(item_id, row, "start")
        end = self._moment(item_id, row, "end")
        all_day = bool(self._value(row, "all_day"))
        uid = self._value(row, "uid") or f"crm-{self.cfg.connection}-{item_id}"
        reminder = self._value(row, "reminder")
        if reminder is not None:
            try:
                reminder = int(reminder)
            except (TypeError, ValueError):
                raise MalformedItem(
                    item_id, f"column {self.cfg.columns['reminder']} holds {reminder!r}"
                ) from None
            reminder = reminder if reminder >= 0 else None
        modified = self._value(row, "last_modified")
        if isinstance(modified, str):
            try:
                modified = datetime.fromisoformat(modified)
            except ValueError:
                modified = None
        if isinstance(modified, datetime):
            modified = (
                modified.replace(tzinfo=self.cfg.zone) if modified.tzinfo is None else modified
            ).astimezone(UTC)
        else:
            modified = None
        first: datetime | date = start
        last: datetime | date = end
        if all_day:
            first = start.date()
            ends_at_midnight = end.time() == time(0) and end.date() > first
            last = end.date() if ends_at_midnight else end.date() + timedelta(days=1)
        return Event(
            uid=str(uid),
            subject=str(self._value(row, "subject") or ""),
            start=first,
            end=last,
            all_day=all_day,
            location=str(self._value(row, "location") or ""),
            show_as=self._show_as(item_id, self._value(row, "show_as")),
            privacy=self._privacy(item_id, self._value(row, "privacy")),
            reminder=reminder,
            text=str(self._value(row, "text") or ""),
            last_modified=modified,
        )

    def _show_as(self, item_id: str, value: Any) -> ShowAs:
        if value is None or "show_as" not in self.col:
            return ShowAs.BUSY
        values = self.cfg.show_as_values
        if values is None:
            try:
                return ShowAs(str(value))
            except ValueError:
                pass
        else:
            for member, stored in values.items():
                if stored == value or str(stored) == str(value):
                    return member
        raise MalformedItem(
            item_id,
            f"column {self.cfg.columns['show_as']} holds {value!r}, which "
            f"[{self.cfg.where}] show_as_values does not name",
        )

    def _privacy(self, item_id: str, value: Any) -> Privacy:
        if value is None or "privacy" not in self.col:
            return Privacy.NORMAL
        values = self.cfg.privacy_values
        if values is None:
            if isinstance(value, str) and value in Privacy.__members__.values():
                return Privacy(value)
            # a flag: CRM activities marked personal (SPEC R5)
            return Privacy.PERSONAL if value else Privacy.NORMAL
        for member, stored in values.items():
            if stored == value or str(stored) == str(value):
                return member
        raise MalformedItem(
            item_id,
            f"column {self.cfg.columns['privacy']} holds {value!r}, which "
            f"[{self.cfg.where}] privacy_values does not name",
        )

    # -- writing --------------------------------------------------------------------

    def to_values(self, event: Event, *, now: datetime) -> dict[str, Any]:
        """Column name -> value for the mapped fields of `event` (not id, owner, deleted)."""
        out: dict[str, Any] = {}
        put = self._put(out)
        if event.all_day:
            assert isinstance(event.start, date) and isinstance(event.end, date)
            start = datetime.combine(event.start, time(0), tzinfo=self.cfg.zone)
            end = datetime.combine(event.end, time(0), tzinfo=self.cfg.zone)
        else:
            assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
            start, end = event.start, event.end
        put("start", self._stored_time("start", start))
        put("end", self._stored_time("end", end))
        if "all_day" in self.col:
            put("all_day", self._flag("all_day", event.all_day))
        put("subject", self._text("subject", event.subject))
        put("location", self._text("location", event.location))
        put("text", self._text("text", event.text))
        put("reminder", event.reminder)
        if "show_as" in self.col:
            put("show_as", self._stored_show_as(event.show_as))
        if "privacy" in self.col:
            put("privacy", self._stored_privacy(event.privacy))
        if "last_modified" in self.col:
            # whole seconds, as calsync stamps every write and as LAST-MODIFIED holds
            # it: a finer time would order two changes made within one second that the
            # other side cannot order (R3: equal times keep the CRM, "order unknown"),
            # and a whole-second DATETIME (MySQL) would round it up, into the future
            put("last_modified", self._stored_time("last_modified", now.replace(microsecond=0)))
        return out

    def _put(self, out: dict[str, Any]) -> Any:
        def put(field: str, value: Any) -> None:
            if field in self.col:
                out[self.col[field].name] = value

        return put

    def _stored_time(self, field: str, value: datetime) -> datetime:
        local = value.astimezone(self.cfg.zone)
        if getattr(self.col[field].type, "timezone", False):
            return local
        return local.replace(tzinfo=None)

    def _flag(self, field: str, value: bool) -> Any:
        return value if _python_type(self.col[field]) is bool else int(value)

    def _text(self, field: str, value: str) -> str | None:
        if field not in self.col:
            return None
        length = getattr(self.col[field].type, "length", None)
        return value[:length] if isinstance(length, int) and length > 0 else value

    def _stored_show_as(self, value: ShowAs) -> Any:
        values = self.cfg.show_as_values
        if values is None:
            return self._text("show_as", value.value)
        for candidate in (value, *_SHOW_AS_FALLBACK[value]):
            if candidate in values:
                return values[candidate]
        return next(iter(values.values()))

    def _stored_privacy(self, value: Privacy) -> Any:
        values = self.cfg.privacy_values
        if values is None:
            return self._flag("privacy", value is not Privacy.NORMAL)
        for candidate in (value, *_PRIVACY_FALLBACK[value]):
            if candidate in values:
                return values[candidate]
        return values.get(Privacy.NORMAL, next(iter(values.values())))


def _python_type(column: sa.Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None
