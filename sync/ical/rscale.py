"""RFC 7529 recurrence rules (RSCALE, SKIP) as far as calsync expands them.

RSCALE=GREGORIAN with SKIP=OMIT (its default) is exactly an RFC 5545 rule, and
Apple and Google write it so; it expands once those parts are dropped. Any other
calendar scale (HEBREW, CHINESE, ...) or SKIP=BACKWARD/FORWARD needs a calendar
library the expansion does not have: such a series is refused with that reason
instead of the expansion library's misleading "UNTIL parameter is missing".
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import icalendar

from sync.ical.load import vevents
from sync.providers.base import MalformedItem

__all__ = ["plain_rules"]


def _gregorian_rule(comp: icalendar.cal.Component, item_id: str) -> bool:
    """Whether the component's RRULE has RFC 7529 parts: True when they are the plain
    Gregorian defaults, MalformedItem naming them otherwise."""
    rules = comp.get("RRULE")
    found = False
    for rule in rules if isinstance(rules, list) else [rules]:
        if not isinstance(rule, Mapping):
            continue
        scale = [str(getattr(v, "value", v)).upper() for v in rule.get("RSCALE", [])]
        skip = [str(getattr(v, "value", v)).upper() for v in rule.get("SKIP", [])]
        if not scale and not skip:
            continue
        if any(v != "GREGORIAN" for v in scale):
            raise MalformedItem(
                item_id,
                f"its rule uses the {', '.join(scale)} calendar scale (RSCALE, RFC 7529), "
                "which calsync cannot expand",
            )
        if any(v != "OMIT" for v in skip):
            raise MalformedItem(
                item_id,
                f"its rule moves skipped dates (SKIP={', '.join(skip)}, RFC 7529), "
                "which calsync cannot expand",
            )
        found = True
    return found


def plain_rules(cal: icalendar.Calendar, item_id: str) -> icalendar.Calendar:
    """`cal` itself when its rules are RFC 5545 rules; else a copy with the Gregorian
    RFC 7529 parts dropped (MalformedItem for the parts calsync cannot expand)."""
    if not any(_gregorian_rule(c, item_id) for c in vevents(cal)):
        return cal
    copy = icalendar.Calendar.from_ical(cal.to_ical())
    for comp in vevents(copy):
        rules = comp.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules]:
            if isinstance(rule, MutableMapping):
                rule.pop("RSCALE", None)
                rule.pop("SKIP", None)
    return copy
