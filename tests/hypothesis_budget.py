"""How many examples the slow property tests try.

Every run of the suite, CI's too, draws fresh examples (no example database, no fixed
seed) within a budget that keeps the whole suite under its ten minutes on two cores;
runs add up. A deeper search is one variable away:

    CALSYNC_EXAMPLES_SCALE=10 uv run pytest tests/test_ical_fast_read.py

multiplies every budget given through `examples()` by ten. (The fault machine has its
own knobs: CALSYNC_FAULT_EXAMPLES and CALSYNC_FAULT_STEPS, docs/lost-replies.md.)
"""

from __future__ import annotations

import os

_RAW = os.environ.get("CALSYNC_EXAMPLES_SCALE", "1")
try:
    SCALE = float(_RAW)
except ValueError:
    raise SystemExit(f"CALSYNC_EXAMPLES_SCALE must be a number, not {_RAW!r}") from None


def examples(budget: int) -> int:
    """`budget` examples times CALSYNC_EXAMPLES_SCALE, at least one."""
    return max(1, round(budget * SCALE))
