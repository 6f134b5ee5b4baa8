"""Find the provider class for a calendar URL (`folder:PATH`, `caldav:URL`, ...).

Built-in providers are imported lazily, so a run against local folders never pays
for importing exchangelib or caldav. Third parties add schemes through the entry
point group ``calsync.providers`` (name = scheme, value = ``module:Class``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Any

from sync.providers.base import ConfigError, Provider

BUILTIN: dict[str, str] = {
    "folder": "sync.providers.folder.provider:FolderProvider",
    "caldav": "sync.providers.dav.provider:CalDAVProvider",
    "google": "sync.providers.google.provider:GoogleProvider",
    "google-caldav": "sync.providers.google.caldav:GoogleCalDAVProvider",
    "ews": "sync.providers.ews.provider:EWSProvider",
    "graph": "sync.providers.graph.provider:GraphProvider",
    "sql": "sync.providers.sql.provider:SqlProvider",
}

ENTRY_POINT_GROUP = "calsync.providers"


def known_schemes() -> dict[str, str]:
    return dict(_plugin_schemes())


@functools.cache
def _plugin_schemes() -> dict[str, str]:
    # entry_points() reads every installed distribution's metadata (~3 ms); a
    # `sync --all` opens two providers per user, so read it once per process, and
    # only for a scheme that is not built in
    from importlib.metadata import entry_points

    schemes = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        schemes.setdefault(ep.name, ep.value)
    return schemes


def split_url(url: str) -> tuple[str, str]:
    """`caldav:https://x/y` -> ("caldav", "https://x/y"). Raises ConfigError."""
    scheme, sep, rest = url.partition(":")
    if not sep or not scheme or not rest:
        raise ConfigError(
            f"calendar {url!r} is not of the form SCHEME:ADDRESS "
            f"(known schemes: {', '.join(sorted(known_schemes()))})"
        )
    return scheme.lower(), rest


def provider_class(url: str) -> type[Provider]:
    scheme, _ = split_url(url)
    # a plugin cannot replace a built-in scheme (`_plugin_schemes`), so those need no lookup
    schemes = BUILTIN if scheme in BUILTIN else known_schemes()
    target = schemes.get(scheme)
    if target is None:
        raise ConfigError(
            f"unknown calendar scheme {scheme!r} in {url!r} "
            f"(known schemes: {', '.join(sorted(schemes))})"
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"the {scheme!r} provider is not available: {exc}") from exc
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"{target} is not a calsync provider")
    return cls


def validate_url(url: str) -> str:
    """Check a URL's form without connecting; returns it normalized."""
    scheme, rest = split_url(url)
    cls = provider_class(url)
    return cls.normalize_url(f"{scheme}:{rest}") if hasattr(cls, "normalize_url") else url


def open_provider(
    url: str, connections: Mapping[str, Any] | None = None, *, read_only: bool = False
) -> Provider:
    """Instantiate the provider for `url` with the workspace's connection settings.

    `read_only` (dry runs, `calsync check`): the provider must write nothing.
    """
    cls = provider_class(url)
    provider = cls(url, settings=connections or {})
    provider.read_only = read_only
    return provider
