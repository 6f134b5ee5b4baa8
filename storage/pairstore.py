"""The pairings' own file (pairs.json), and the digest that lets a quiet run skip it.

state.json holds what every run reads — provider caches, identity, meta — and, in its
`pairs_index` table, the number of pairings and a digest of their synced ids and
etags on both sides. pairs.json holds the pairings themselves: both sides' ids, etags,
content hashes and last-synced events, ~1.5 KB each (issue 17: decoding them was the
largest cost of a run with nothing to do, 2.5 ms of a 200-item user and a quarter of
a no-change run of 50 year-long series, issue 21.10).

A run whose two listings hash to the stored digest has nothing to do — the same
answer `sync.engine.views.nothing_changed` gives from the decoded pairings — and
never opens pairs.json. The digest covers, per side, the set of (id, etag) of the
pairings; a listing is a mapping id → etag, so equal digests mean each listing holds
exactly the pairings' items with the etags they were synced with.

Writes: pairs.json first (its bytes and the rename fsynced), then state.json with the
new digest. A crash in between leaves the new pairings beside the old digest and
caches: the old digest can only match listings that show none of the new pairings'
items, where the old pairings are the right ones; any other listing reads
pairs.json, which is the truth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from storage.errors import StoreCorrupt
from storage.tinystore import check_tables, read_json_file, write_json_file

PAIRS_TABLE = "pairs"
INDEX_TABLE = "pairs_index"
#: why a pairs.json that state.json counts pairings in cannot be read as "none"
MISSING = "missing, but state.json counts pairings in it"
#: schema of pairs.json (its own `_meta` table, as every store file)
PAIRS_SCHEMA = 1


def listings_digest(crm: Mapping[str, str], remote: Mapping[str, str]) -> str:
    """A digest of both listings (id → etag), independent of their order.

    Per side: the sorted ids, then their etags, each list as its length, its byte
    length and its strings joined with NUL; a list in which some string holds a NUL
    itself is hashed with its strings' lengths too, so no id or etag can pass for a
    separator or for two. Sorting is most of the cost
    (~4 ms for 18,300 ids in hash order; JSON-encoding the lists cost ~20 ms more).
    """
    digest = hashlib.sha256()
    for etags in (crm, remote):
        ids = sorted(etags)
        for strings in (ids, list(map(etags.__getitem__, ids))):
            joined = "\0".join(strings)
            if joined.count("\0") != max(len(strings) - 1, 0):
                digest.update(b"L%s|" % ",".join(map(str, map(len, strings))).encode())
            blob = joined.encode("utf-8", "surrogatepass")
            digest.update(b"%d:%d;" % (len(strings), len(blob)))
            digest.update(blob)
    return digest.hexdigest()


def pairs_digest(pairs: Iterable[Mapping[str, Any]]) -> str | None:
    """`listings_digest` of the listings that show exactly these pairings, unchanged;
    None where no listing can (one id synced with two etags) or a pairing lacks a side."""
    sides: tuple[dict[str, str], dict[str, str]] = ({}, {})
    try:
        for pair in pairs:
            for seen, side in zip(sides, (pair["crm"], pair["remote"]), strict=True):
                item_id, etag = str(side["id"]), str(side["etag"])
                if seen.setdefault(item_id, etag) != etag:
                    return None
    except (KeyError, TypeError):
        return None
    return listings_digest(*sides)


def read_pairs(path: Path) -> dict[str, dict[str, Any]]:
    """The pairings in pairs.json by key; StoreCorrupt (or StoreTooNew) if unreadable."""
    data = read_json_file(path)
    if data is None:
        raise StoreCorrupt(path, MISSING)
    check_tables(path, data, newest=PAIRS_SCHEMA)
    return {str(p["key"]): p for p in data.get(PAIRS_TABLE, {}).values() if "key" in p}


def write_pairs(path: Path, pairs: Iterable[dict[str, Any]]) -> None:
    """Replace pairs.json durably (bytes and rename) before state.json names its digest."""
    data = {
        "_meta": {"1": {"schema": PAIRS_SCHEMA}},
        PAIRS_TABLE: {str(i): p for i, p in enumerate(pairs, 1)},
    }
    write_json_file(path, data, sync_dir=True)
