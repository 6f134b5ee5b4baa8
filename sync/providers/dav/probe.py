"""The listing requests over the standard library, for runs that need nothing more.

A CalDAV sync with nothing to do asks the server one question: a Depth-0 PROPFIND
on the calendar for its sync token (or ctag) and identity; a first run, or one after
a change, adds one sync-collection REPORT. The caldav library's DAVClient would load
niquests, urllib3 and lxml for them, which costs more start-up than the requests
themselves; so these go over `http.client`, their replies are read with ElementTree
(`multistatus` for a PROPFIND's, `sync_reply` for a REPORT's), and the DAVClient
opens only when a further request (a multiget, a write) is needed.

It mirrors what the DAVClient would send and how `http` judges the answer (same
headers, timeout, TLS verification, retries and one-line errors; a gzip-compressed
reply, which a listing of thousands of items is worth, is asked for and unpacked).
Where it cannot do what the DAVClient would - digest or negotiated auth, a proxy,
CA bundle or .netrc taken from the environment, a redirect, an encoding it did not
ask for - `request` returns None and the caller asks the DAVClient instead.
"""

from __future__ import annotations

import gzip
import http.client
import os
import ssl
import zlib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from sync.providers import deadline
from sync.providers.dav.http import (
    Overloaded,
    RetryPolicy,
    auth_failed,
    cut_short,
    forbidden,
    host_of,
    timed_out,
    tls_failed,
    unreachable,
    unreadable,
    usage_limited,
    with_retries,
)
from sync.providers.dav.multistatus import Found, parse_body, parse_propfind, preconditions
from sync.providers.dav.sync_reply import SyncResult, parse_sync_collection
from sync.providers.wire import parse_retry_after

#: the headers the adapter's DAVClient sends with every request
_BASE_HEADERS = {
    "User-Agent": "calsync",
    "Accept": "text/xml, text/calendar",
    "Accept-Encoding": "gzip",
}
#: characters left as they are in a request path (what requests' requote_uri keeps)
_PATH_SAFE = "!#$%&'()*+,/:;=?@[]~"


class Reply:
    """The probe's answer, with the parts of a DAVResponse the adapter reads."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self._raw = body  # as DAVResponse keeps it (`http.unreadable_body` reads it)
        #: the parsed body, None when empty or not XML (read like the DAVClient reads it)
        self.tree = parse_body(body, headers.get("Content-Type", ""))

    def parse_propfind(self) -> list[Found]:
        """The <response> elements: href and {property tag: value}, as caldav parses them."""
        return parse_propfind(self.tree)

    def parse_sync_collection(self) -> SyncResult:
        """A sync-collection reply, as caldav's DAVResponse.parse_sync_collection reads it."""
        return parse_sync_collection(self.tree)


def environment_allows(url: str, *, anonymous: bool) -> bool:
    """False where niquests would take something from the environment that this lacks."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return False
    proxies = {f"{scheme}_proxy", "all_proxy"}
    if any(value and key.lower() in proxies for key, value in os.environ.items()):
        return False
    if anonymous:  # the library reads ~/.netrc for a request without credentials
        netrc = os.environ.get("NETRC")
        names = [Path(netrc)] if netrc else [Path.home() / ".netrc", Path.home() / "_netrc"]
        if any(name.exists() for name in names):
            return False
    return True


def request(
    method: str,
    url: str,
    body: str,
    headers: Mapping[str, str],
    *,
    verify: bool | str,
    timeout: float,
    retry: RetryPolicy,
) -> Reply | None:
    """`method` on `url` with retries; None where the DAVClient must make the request."""
    if timeout <= 0 or not environment_allows(url, anonymous="Authorization" not in headers):
        return None  # (a socket timeout of 0 would mean non-blocking, not "no limit")
    return with_retries(
        url, lambda: _bounded(method, url, body, headers, verify, timeout), retry=retry
    )


def _bounded(
    method: str,
    url: str,
    body: str,
    headers: Mapping[str, str],
    verify: bool | str,
    timeout: float,
) -> Reply | None:
    """`_send` within the request deadline: `timeout` bounds each read, this the whole."""
    with deadline.request(host_of(url), f"{method} {urlsplit(url).path}"):
        return _send(method, url, body, headers, verify, timeout)


def _send(
    method: str,
    url: str,
    body: str,
    headers: Mapping[str, str],
    verify: bool | str,
    timeout: float,
) -> Reply | None:
    parts = urlsplit(url)
    host = host_of(url)
    sent = {**_BASE_HEADERS, **({"Content-Type": "text/xml"} if body else {}), **headers}
    name = parts.hostname or ""
    name = f"[{name}]" if ":" in name else name  # an IPv6 literal, not host:port
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            name, parts.port, timeout=timeout, context=_tls_context(host, verify)
        )
    else:
        connection = http.client.HTTPConnection(name, parts.port, timeout=timeout)
    try:
        connection.request(method, quote(parts.path or "/", safe=_PATH_SAFE), body.encode(), sent)
        response = connection.getresponse()
        data = response.read()
    except TimeoutError:
        raise timed_out(host, timeout, method, url) from None
    except http.client.IncompleteRead as exc:
        # the connection was fine; the reply ended before its declared length
        raise cut_short(host, method, len(exc.partial), exc.expected) from None
    except ssl.SSLError as exc:
        raise tls_failed(host, exc) from None
    except (OSError, http.client.HTTPException) as exc:
        raise unreachable(host, exc) from None
    finally:
        connection.close()
    status = response.status
    if 300 <= status < 400:
        return None  # a redirect: the DAVClient follows it as it always has
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
        return None  # not asked for; the library decodes what servers send anyway
    try:
        data = _decoded(data, encoding)
    except (OSError, EOFError, zlib.error) as exc:
        raise unreadable(host, method, exc) from None
    if status == 401:
        raise auth_failed(host)
    if status in (429, 503) or (status == 403 and usage_limited(data)):
        raise Overloaded(status, parse_retry_after(response.headers.get("Retry-After")))
    if status == 403:
        raise forbidden(host, url, preconditions(data))
    try:
        return Reply(status, response.headers, data)
    except (ValueError, SyntaxError) as exc:
        raise unreadable(host, method, exc) from None


def _decoded(data: bytes, encoding: str) -> bytes:
    if encoding == "identity" or not data:
        return data
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    try:  # "deflate" is a zlib stream by the RFC, raw deflate from some servers
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)


def _tls_context(host: str, verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    # as niquests does: with verify_tls = true the environment may name the CA bundle
    env = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    location = verify if isinstance(verify, str) else env
    if location is None:
        return ssl.create_default_context()
    path = Path(location)
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise unreachable(host, ValueError(f"cannot use the CA file {path}: {exc}")) from None
