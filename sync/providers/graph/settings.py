"""The `[graph]` table of calsync.toml, checked without connecting.

    [graph]
    tenant_id = "11111111-2222-3333-4444-555555555555"
    client_id = "66666666-7777-8888-9999-000000000000"
    client_secret_env = "CALSYNC_GRAPH_SECRET"   # or client_secret_file / _keyring
    # certificate_file = "/etc/calsync/graph.pem" # instead: PEM key + certificate, mode 0600
    # thumbprint = "A1B2..."                       # only if the file holds no certificate
    # authority = "https://login.microsoftonline.us"   # sovereign clouds
    # graph_url = "https://graph.microsoft.us"
    verify_tls = true                             # or a CA bundle path
    timeout = 30                                  # seconds per socket read ([job] request_deadline: whole)


Secrets are resolved only on connect (`tokens.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sync.providers.base import ConfigError

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com"


@dataclass(frozen=True)
class GraphSettings:
    """The `[graph]` table of calsync.toml, checked. Secrets are resolved only on connect."""

    tenant_id: str
    client_id: str
    authority: str
    graph_url: str
    verify: bool | str
    timeout: float
    page_size: int
    retries: int
    max_wait: float
    table: Mapping[str, Any]

    @property
    def graph_origin(self) -> str:
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def api(self) -> str:
        return f"{self.graph_url}/v1.0"


def _https_url(table: Mapping[str, Any], key: str, default: str) -> str:
    value = str(table.get(key) or default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(f"[graph] {key} must be an https:// URL, not {value!r}")
    return value


def _number(table: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"[graph] {key} must be a number ≥ {minimum}, not {value!r}")
    return float(value)


def read_settings(settings: Mapping[str, Any]) -> GraphSettings:
    table = settings.get("graph")
    if not isinstance(table, Mapping):
        raise ConfigError(
            "graph: calendars need a [graph] table in calsync.toml with tenant_id, client_id "
            "and client_secret_env/_file/_keyring or certificate_file"
        )
    for key in ("tenant_id", "client_id"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"[graph] needs {key} (from the app registration's overview page)")
    verify = table.get("verify_tls", True)
    if not isinstance(verify, bool | str):
        raise ConfigError("[graph] verify_tls must be true, false or a CA bundle path")
    if isinstance(verify, str):
        if not Path(verify).expanduser().is_file():
            raise ConfigError(f"[graph] verify_tls names {verify}, which is not a file")
        verify = str(Path(verify).expanduser())
    return GraphSettings(
        tenant_id=str(table["tenant_id"]).strip(),
        client_id=str(table["client_id"]).strip(),
        authority=_https_url(table, "authority", DEFAULT_AUTHORITY),
        graph_url=_https_url(table, "graph_url", DEFAULT_GRAPH),
        verify=verify,
        timeout=_number(table, "timeout", 30.0, minimum=0.1),
        page_size=int(_number(table, "page_size", 100, minimum=1)),
        retries=int(_number(table, "retries", 4, minimum=0)),
        max_wait=_number(table, "max_retry_wait", 120.0, minimum=0),
        table=table,
    )
