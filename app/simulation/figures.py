"""A run's figures kept in memory (for "what if" comparisons that never touch a database),
by the dashboards' own definitions (app/services/stats.py): a dossier is late when it
finished after its appointment or the unit had to apologise; the 766 on-time rate counts
finished and still-open dossiers within time; waiting for the citizen is not overdue.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain import evaluation as ev

#: Student's t at 97.5 % for n − 1 degrees of freedom (a 95 % interval over a few seeds).
T975 = {1: 12.71, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


@dataclass
class Counts:
    received: int = 0
    online: int = 0
    resolved: int = 0
    late: int = 0
    ended: int = 0
    ended_in_time: int = 0
    open: int = 0
    open_overdue: int = 0
    rated: int = 0
    satisfied: int = 0
    dissatisfied: int = 0

    def add(self, other: Counts) -> None:
        for name in Counts.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def in_time_rate(self) -> float | None:
        """Decision 766, indicator 2.1."""
        total = self.ended + self.open
        return (self.ended_in_time + self.open - self.open_overdue) / total if total else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    @property
    def online_rate(self) -> float | None:
        return self.online / self.received if self.received else None

    @property
    def processing_satisfaction(self) -> float | None:
        """Decision 766, indicator 5.3: 100 % − (late share + dissatisfied share)."""
        if not self.ended:
            return None
        return max(0.0, 1 - (self.ended - self.ended_in_time) / self.ended - self.dissatisfied / self.ended)


@dataclass
class Tally:
    """A sink that keeps only counts: a year of the province fits in a few kilobytes."""

    end: datetime
    province: Counts = field(default_factory=Counts)
    units: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    audits: int = 0

    def audit(self, entry: dict[str, Any]) -> None:
        self.audits += 1

    def add(self, other: Tally) -> None:
        """Count another run's figures in (the shards of one run, app/simulation/shards.py)."""
        self.audits += other.audits
        self.province.add(other.province)
        for code, counts in other.units.items():
            self.units[code].add(counts)

    def dossier(
        self, row: dict[str, Any], steps: list[dict[str, Any]], rating: dict[str, Any] | None
    ) -> None:
        for c in (self.province, self.units[row["receiving_unit"]]):
            _count(c, row, rating, self.end)


def _count(c: Counts, row: dict[str, Any], rating: dict[str, Any] | None, end: datetime) -> None:
    late = row["apologized"] or row["supplements"] > 1 or row["timeliness"] == "late"
    if row["received_at"] is not None:
        c.received += 1
        c.online += row["channel"] == 2
    finished = row["finished_at"] is not None and row["finished_at"] < end
    if finished and row["outcome"] is not None:
        c.resolved += 1
        c.late += late
    if finished and row["received_at"] is not None:
        c.ended += 1
        c.ended_in_time += not late
        if rating is not None:
            c.rated += 1
            c.satisfied += rating["level"] >= ev.SATISFIED_FROM
            c.dissatisfied += rating["level"] == 1
    if row["received_at"] is not None and not finished and row["status"] not in (3, 8):
        c.open += 1
        c.open_overdue += row["due_at"] < end and row["status"] not in (5, 6)


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval over independent seeds."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    return mean, T975.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))


def points_766(counts: Counts) -> dict[str, float | None]:
    """The 766 indicators a staffing or channel scenario changes, with their points."""
    by_code = {i.code: i for g in ev.GROUPS_766 for i in g.indicators}
    return {
        "2.1": ev.indicator_points(by_code["2.1"], counts.in_time_rate),
        "3.3": ev.indicator_points(by_code["3.3"], counts.online_rate),
        "5.3": ev.indicator_points(by_code["5.3"], counts.processing_satisfaction),
    }
