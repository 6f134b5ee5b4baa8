"""A user whose remote is a Radicale calendar reached through a `FaultProxy`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sync.engine.transform import strip_suffix
from sync.providers.base import Item
from tests.engine.harness import Env
from tests.faults.proxy import FaultProxy
from tests.providers.dav.radicale_server import RadicaleServer

PASSWORD_ENV = "CALSYNC_FAULT_PASSWORD"
#: the client's timeout during faults, and the proxy's stall above it
TIMEOUT = 0.6
STALL = 1.0


def config_text(timeout: float) -> str:
    return (
        f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\n'
        f"timeout = {timeout}\nretries = 2\nretry_backoff = 0.01\n"
    )


class FaultWorld(Env):
    """Env (tests/engine/harness.py) with the remote behind the proxy."""

    def __init__(self, root: Path, radicale: RadicaleServer, proxy: FaultProxy) -> None:
        calendar = radicale.new_calendar()
        self.proxy = proxy
        super().__init__(
            root, remote_url=f"caldav:{proxy.front(calendar)}", config_text=config_text(TIMEOUT)
        )
        root.joinpath("crm").mkdir(exist_ok=True)

    def patient(self) -> None:
        """A long timeout: for the runs after the faults stopped (a loaded CI machine)."""
        self.ws.config_path.write_text(config_text(30), encoding="utf-8")

    def impatient(self) -> None:
        self.ws.config_path.write_text(config_text(TIMEOUT), encoding="utf-8")

    def all_trash(self) -> list[dict[str, Any]]:
        return self.files.trash.entries(include_restored=True)

    def trash_count(self, uid: str, *, restored: bool = False) -> int:
        return sum(
            1
            for e in self.all_trash()
            if e["item"].get("uid") == uid and bool(e.get("restored_at")) == restored
        )

    def duplicates(self, side: str) -> list[str]:
        """UIDs or (title, start) held by more than one item on `side`."""
        items: list[Item] = self.items(side)
        by_uid = Counter(i.event.uid for i in items)
        by_shape = Counter((strip_suffix(i.event.subject), i.event.start_utc) for i in items)
        return [str(k) for k, n in (*by_uid.items(), *by_shape.items()) if n > 1]
