""" "What if": two models run side by side in memory over the same seeds (common random
numbers: the same citizens arrive with the same needs), compared with 95 % intervals."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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


#: What forked workers read (set before the pool forks: a Province does not pickle cheaply).
_shared: dict[str, object] = {}


def _run_forked(index: int, seed: int) -> tuple[int, Run]:
    models, province, start, days = (_shared[k] for k in ("models", "province", "start", "days"))
    return index, run_in_memory(models[index], province, seed, start, days)


def compare(
    models: list[Model],
    province: Province,
    seeds: list[int],
    start: date,
    days: int,
    progress: Callable[[], None] | None = None,
    workers: int = 0,
) -> list[Side]:
    """Every (model, seed) run, on ``workers`` processes (default: one per core); the runs
    are independent, so where they run changes nothing in what they produce."""
    sides = [Side(m) for m in models]
    jobs = [(i, seed) for seed in seeds for i in range(len(models))]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        done = (_run_here(models, province, start, days, i, seed) for i, seed in jobs)
        for index, run in done:
            sides[index].runs.append(run)
            if progress:
                progress()
    else:
        _shared.update(models=models, province=province, start=start, days=days)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for index, run in pool.map(_run_forked, *zip(*jobs, strict=True)):
                sides[index].runs.append(run)
                if progress:
                    progress()
    for side in sides:
        side.runs.sort(key=lambda r: r.seed)
    return sides


def _run_here(models, province, start, days, index: int, seed: int) -> tuple[int, Run]:
    return index, run_in_memory(models[index], province, seed, start, days)


def busiest_units(sides: list[Side], province: Province, limit: int = 12) -> list[str]:
    """The units where the scenarios differ most in utilisation, then the busiest."""
    score: dict[str, float] = {}
    for side in sides:
        for r in side.runs:
            for p in r.result.pools:
                u = p.busy_minutes / (p.size * r.result.working_minutes) if r.result.working_minutes else 0.0
                score[p.unit] = max(score.get(p.unit, 0.0), u)
    return [code for code, _ in sorted(score.items(), key=lambda kv: -kv[1])[:limit]]
