"""Figures, medians and the printed table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    benchmark: str
    measure: str
    calsync: str
    other: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: str, **kwargs: str) -> None:
        self.rows.append(Row(*args, **kwargs))

    def table(self) -> str:
        head = ("benchmark", "measure", "calsync", "vdirsyncer / other", "ratio", "target", "met")
        cells = [head] + [
            (r.benchmark, r.measure, r.calsync, r.other, r.ratio, r.target, r.verdict)
            for r in self.rows
        ]
        widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
        lines = [
            "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
            for row in cells
        ]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines + [f"\n{n}" for n in self.notes])


def secs(value: float) -> str:
    return f"{value:.2f} s"


def verdict(ok: bool, margin: str = "") -> str:
    return ("yes" if ok else "NO") + (f" ({margin})" if margin else "")
