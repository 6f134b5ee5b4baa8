"""Short ids for what an operator types: log entries and trash entries.

A full log id ("20261130T053100Z-4f2a1c-17") is too long to read off a screen of
80 columns and type back, and its start (a timestamp) is shared by every entry of
a run, so a prefix of it distinguishes nothing. The short id is instead a hash of
the full id in Crockford's base-32 alphabet (no i, l, o or u: nothing to misread),
8 characters as shown, longer only where two ids of one user would collide. It
needs no storage and works for every id ever written, old formats included.

`resolve` takes what an operator typed: a full id, a short id, or any prefix of at
least MIN_TYPED characters of the hash, and names the one entry it means or says
why not (no such entry, or which entries an ambiguous prefix matches).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from storage.errors import StoreError

#: Crockford's base-32: digits and letters without i, l, o and u
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
#: what the screens and the CLI show (40 bits: a clash needs ~a million entries)
SHORT_LENGTH = 8
#: the shortest prefix `resolve` accepts
MIN_TYPED = 4
#: characters of the hash there are to type (a short id never grows past this)
FULL_HASH = 26
#: Crockford's decoding of look-alikes, so a misread character still finds its entry
_LOOK_ALIKES = str.maketrans({"i": "1", "l": "1", "o": "0"})


class UnknownId(StoreError):
    def __init__(self, what: str, given: str, name: str, hint: str = "") -> None:
        super().__init__(f"no {what} {given!r} for user {name}{hint}")


class AmbiguousId(StoreError):
    def __init__(self, what: str, given: str, name: str, matches: list[str]) -> None:
        shown = ", ".join(list(short_ids(matches, SHORT_LENGTH + 2).values())[:5])
        more = ", …" if len(matches) > 5 else ""
        super().__init__(
            f"{what} {given!r} of user {name} is ambiguous: it matches {len(matches)} entries "
            f"({shown}{more}); type more characters or the full id"
        )
        self.matches = matches


#: RFC 4648 base-32 (what the standard library encodes fast) to Crockford's alphabet
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def _hash(full_id: str) -> str:
    digest = hashlib.sha256(full_id.encode()).digest()[:20]
    return base64.b32encode(digest).decode()[:FULL_HASH].translate(_TO_CROCKFORD)


def short_id(full_id: str, length: int = SHORT_LENGTH) -> str:
    """The first `length` characters of `full_id`'s hash."""
    return _hash(full_id)[:length]


def short_ids(full_ids: Iterable[str], length: int = SHORT_LENGTH) -> dict[str, str]:
    """Each id's short id, lengthened where two would otherwise be the same.

    Give every id the operator may want to tell apart (all of a user's entries),
    not only those on screen: "unambiguous" holds within what is given here.
    """
    hashes = {full: _hash(full) for full in dict.fromkeys(full_ids)}
    width = {full: length for full in hashes}
    pending = set(hashes)
    while pending:
        seen: dict[str, list[str]] = {}
        for full in pending:
            seen.setdefault(hashes[full][: width[full]], []).append(full)
        pending = set()
        for group in seen.values():
            if len(group) > 1:
                for full in group:
                    if width[full] < FULL_HASH:
                        width[full] += 1
                        pending.add(full)
        # ids that differ no more, even over the whole hash, are the same string
    return {full: hashes[full][: width[full]] for full in hashes}


def normalize(given: str) -> str:
    return given.strip().lower().translate(_LOOK_ALIKES)


def resolve(given: str, full_ids: Iterable[str], *, what: str, name: str) -> str:
    """The full id `given` means: itself, or the one id whose hash starts with it."""
    ids = list(dict.fromkeys(full_ids))
    text = given.strip()
    if text in ids:
        return text
    typed = normalize(text)
    if len(typed) < MIN_TYPED:
        raise UnknownId(what, given, name, f" (type at least {MIN_TYPED} characters of its id)")
    if any(c not in ALPHABET for c in typed):
        raise UnknownId(what, given, name)
    matches = [full for full in ids if _hash(full).startswith(typed)]
    if not matches:
        raise UnknownId(what, given, name)
    if len(matches) > 1:
        raise AmbiguousId(what, given, name, matches)
    return matches[0]
