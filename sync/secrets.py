"""Secrets by reference: an env variable, a 0600 file, or a keyring entry.

A connection table in calsync.toml names where a secret lives, never the secret:

    password_env = "CALSYNC_CALDAV_PASSWORD"
    password_file = "/etc/calsync/caldav.pw"      # must be mode 0600 (or stricter)
    password_keyring = "calsync/anna@example.com"   # service/username

The value is read when a connection opens and kept only in memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sync.providers.base import ConfigError


class Secret(str):
    """A str whose repr never shows the value, so it cannot leak through logs."""

    def __repr__(self) -> str:
        return "Secret('***')"


def has_secret(table: Mapping[str, Any], key: str) -> bool:
    return any(f"{key}_{kind}" in table for kind in ("env", "file", "keyring"))


def resolve_secret(table: Mapping[str, Any], key: str, where: str) -> Secret:
    """Read secret `key` of a connection table (`[where]`) from its reference."""
    if (name := table.get(f"{key}_env")) is not None:
        value = os.environ.get(str(name))
        if not value:
            raise ConfigError(f"[{where}] {key}_env names ${name}, which is not set")
        return Secret(value)
    if (path_text := table.get(f"{key}_file")) is not None:
        path = Path(str(path_text)).expanduser()
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise ConfigError(
                f"[{where}] {key}_file {path} cannot be read: {exc.strerror}"
            ) from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"[{where}] {key}_file {path} is readable by others; run: chmod 600 {path}"
            )
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"[{where}] {key}_file {path} cannot be read: {exc}") from exc
        if not value:
            raise ConfigError(f"[{where}] {key}_file {path} is empty")
        return Secret(value)
    if (entry := table.get(f"{key}_keyring")) is not None:
        service, _, username = str(entry).partition("/")
        try:
            import keyring
            import keyring.errors

            value = keyring.get_password(service, username)
        except Exception as exc:  # keyring backends raise many kinds
            raise ConfigError(f"[{where}] {key}_keyring {entry}: keyring failed: {exc}") from exc
        if not value:
            raise ConfigError(f"[{where}] {key}_keyring {entry}: no such keyring entry")
        return Secret(value)
    raise ConfigError(
        f"[{where}] needs {key}_env, {key}_file or {key}_keyring (where the {key} is kept)"
    )
