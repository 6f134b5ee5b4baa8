"""Files that hold events of several UIDs: which UIDs, found without a full parse.

One calendar item is one resource with one UID (RFC 4791 §4.1 says so for CalDAV,
and the vdir layout khal and vdirsyncer use says the same for a folder), and
calsync reads such a file as the event (or series) of its first UID. A file
written by hand or exported whole from another program can hold several; the
others would be left out silently, so the folder provider warns about the file
on every run until it is split (README, "Syncing").
"""

from __future__ import annotations

__all__ = ["event_uids", "several_uids_warning"]


def event_uids(data: bytes | str) -> list[str]:
    """The distinct UIDs of the file's VEVENTs, in file order (unfolded, unescaped enough
    to compare)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if text.upper().count("BEGIN:VEVENT") < 2:
        return []  # the common case: one event, nothing to look at
    lines = text.replace("\r\n", "\n").replace("\n ", "").replace("\n\t", "").split("\n")
    uids: list[str] = []
    depth = 0
    for line in lines:
        upper = line.upper()
        if upper.startswith("BEGIN:"):
            depth += 1 if upper == "BEGIN:VEVENT" or depth else 0
        elif upper.startswith("END:") and depth:
            depth -= 1
        elif depth == 1 and (upper.startswith("UID:") or upper.startswith("UID;")):
            uid = line.split(":", 1)[1].strip() if ":" in line else ""
            if uid not in uids:
                uids.append(uid)
    return uids


def several_uids_warning(name: str, uids: list[str]) -> str | None:
    """The operator's warning for a file holding events of several UIDs, else None."""
    if len(uids) < 2:
        return None
    others = ", ".join(repr(u) for u in uids[1:4]) + (", …" if len(uids) > 4 else "")
    return (
        f"file {name} holds events with {len(uids)} different UIDs; only {uids[0]!r} is "
        f"synced, not {others}: put each event in a file of its own"
    )
