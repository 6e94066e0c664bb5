""" "What if": two models run side by side in memory over the same seeds (common random
numbers: the same citizens arrive with the same needs), compared with 95 % intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from app.simulation.engine import Province
from app.simulation.figures import Counts, interval, points_766
from app.simulation.model import Model
from app.simulation.runs import Run, run_in_memory


@dataclass
class UnitLine:
    code: str
    name: str
    utilisation: tuple[float, float]
    wait_minutes: tuple[float, float]
    longest_queue: tuple[float, float]
    in_time: tuple[float, float]


@dataclass
class Side:
    model: Model
    runs: list[Run] = field(default_factory=list)

    def province(self, measure: Callable[[Counts], float | None]) -> tuple[float, float]:
        return interval([measure(r.tally.province) or 0.0 for r in self.runs])

    def points(self, code: str) -> tuple[float, float]:
        return interval([points_766(r.tally.province)[code] or 0.0 for r in self.runs])

    def unit(self, code: str, name: str) -> UnitLine:
        def pool_figure(measure) -> tuple[float, float]:
            values = []
            for r in self.runs:
                pools = [p for p in r.result.pools if p.unit == code]
                values.append(max((measure(p, r.result) for p in pools), default=0.0))
            return interval(values)

        return UnitLine(
            code,
            name,
            pool_figure(
                lambda p, res: p.busy_minutes / (p.size * res.working_minutes) if res.working_minutes else 0.0
            ),
            pool_figure(lambda p, res: p.waited_minutes / p.tasks if p.tasks else 0.0),
            pool_figure(lambda p, res: float(p.longest_queue)),
            interval(
                [
                    (r.tally.units[code].in_time_rate or 0.0) if code in r.tally.units else 1.0
                    for r in self.runs
                ]
            ),
        )


def compare(
    models: list[Model],
    province: Province,
    seeds: list[int],
    start: date,
    days: int,
    progress: Callable[[], None] | None = None,
) -> list[Side]:
    sides = [Side(m) for m in models]
    for seed in seeds:
        for side in sides:
            side.runs.append(run_in_memory(side.model, province, seed, start, days))
            if progress:
                progress()
    return sides


def busiest_units(sides: list[Side], province: Province, limit: int = 12) -> list[str]:
    """The units where the scenarios differ most in utilisation, then the busiest."""
    score: dict[str, float] = {}
    for side in sides:
        for r in side.runs:
            for p in r.result.pools:
                u = p.busy_minutes / (p.size * r.result.working_minutes) if r.result.working_minutes else 0.0
                score[p.unit] = max(score.get(p.unit, 0.0), u)
    return [code for code, _ in sorted(score.items(), key=lambda kv: -kv[1])[:limit]]
