"""Which users one process of a sharded fleet syncs: `sync --all --shard K/N`.

A user belongs to shard `K` of `N` when the first 8 bytes of SHA-256 of the user's name,
as an unsigned big-endian number, leave `K` when divided by `N` — the same on every
machine, process and Python version (Python's own `hash` is salted per process). So N
processes started with 0/N … (N-1)/N together sync every enabled user exactly once, and
two of them never touch the same user.

`--shard auto` is for a Kubernetes Indexed Job: the shard number is the pod's completion
index, which Kubernetes sets in `JOB_COMPLETION_INDEX` (0 … completions-1; "Indexed Job
for Parallel Processing with Static Work Assignment", kubernetes.io), and the count comes
from `CALSYNC_SHARDS`, which the manifest sets to the Job's `completions` (Kubernetes
exposes no variable for it). See docs/kubernetes.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

INDEX_ENV = "JOB_COMPLETION_INDEX"
COUNT_ENV = "CALSYNC_SHARDS"
MAX_SHARDS = 100_000  # Kubernetes' own limit on an Indexed Job's parallelism
_SPEC = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{1,6})\s*$")


class ShardError(ValueError):
    """A `--shard` value that cannot be used; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 0 … count-1
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, name: str) -> bool:
        return shard_of(name, self.count) == self.index


def shard_of(name: str, count: int) -> int:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def _checked(index: int, count: int, source: str) -> Shard:
    if not 1 <= count <= MAX_SHARDS:
        raise ShardError(f"{source}: the number of shards must be 1 to {MAX_SHARDS} (got {count})")
    if not 0 <= index < count:
        raise ShardError(
            f"{source}: shard {index} does not exist; with {count} shard(s) K is 0 to {count - 1}"
        )
    return Shard(index, count)


def parse_shard(text: str, environ: Mapping[str, str]) -> Shard:
    """`K/N` (K counted from 0) or `auto` (from a Kubernetes Indexed Job's environment)."""
    if text.strip().lower() == "auto":
        raw_index, raw_count = environ.get(INDEX_ENV), environ.get(COUNT_ENV)
        if raw_index is None or raw_count is None:
            missing = " and ".join(
                n for n, v in ((INDEX_ENV, raw_index), (COUNT_ENV, raw_count)) if v is None
            )
            raise ShardError(
                f"--shard auto needs {missing} in the environment "
                "(a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX; set CALSYNC_SHARDS "
                "to the Job's completions)"
            )
        if not raw_index.strip().isdigit() or not raw_count.strip().isdigit():
            raise ShardError(
                f"--shard auto: {INDEX_ENV}={raw_index!r} and {COUNT_ENV}={raw_count!r} "
                "must be whole numbers"
            )
        return _checked(int(raw_index), int(raw_count), "--shard auto")
    match = _SPEC.match(text)
    if match is None:
        raise ShardError(f"--shard {text!r} is not K/N (e.g. 0/4 … 3/4) or auto")
    return _checked(int(match.group(1)), int(match.group(2)), f"--shard {text.strip()}")
