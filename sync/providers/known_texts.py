"""Send an item's text back only when the CRM really changed it.

Outlook keeps an event's body as HTML: formatting, inline images, the Teams join
block. calsync reads bodies as plain text (Graph's `Prefer: outlook.body-content-type
="text"`, EWS's TextBody), so writing the text back on every update would flatten
that HTML even when the CRM never touched the text. The Graph and EWS adapters
remember the text each item had when they read it, and an update leaves the body
out when the new text is the same.
"""

from __future__ import annotations


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


class KnownTexts:
    """The text of each item as an adapter last read it, by (id, etag)."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[str, str]] = {}

    def remember(self, item_id: str, etag: str, text: str) -> None:
        self._texts[item_id] = (etag, _normal(text))

    def same(self, item_id: str, etag: str, text: str) -> bool | None:
        """Whether `text` is what the item held at `etag`; None when not known."""
        known = self._texts.get(item_id)
        if known is None or known[0] != etag:
            return None
        return known[1] == _normal(text)
