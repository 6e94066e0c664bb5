"""A province simulated by several processes at once, with exactly the history of one.

No dossier crosses between shards (a district with its communes, the province's own units;
``Simulation.shards``), so each process simulates some shards — the dossiers received there,
their officers' queues — while every process draws all the arrivals, so that each dossier
keeps its number, id and random streams. What the processes produce is merged back into the
one order a single process gives: per day, audit entries by time, ties in shard order, and
dossiers shard by shard. The history (and the audit chain over it) is the same whatever the
number of processes; only the wall time changes.
"""

from __future__ import annotations

import heapq
import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from app.simulation.engine import Province, Result, Signed, Simulation
from app.simulation.figures import Tally
from app.simulation.model import Model

_AT = itemgetter("at")


@dataclass(frozen=True)
class Plan:
    """The shards, and which of them each process simulates."""

    shards: list[frozenset[str]]
    #: Per process, the indexes of its shards.
    groups: list[list[int]]
    shard_of: dict[str, int] = field(repr=False)

    def units(self, group: int) -> frozenset[str]:
        return frozenset().union(*(self.shards[i] for i in self.groups[group]))


def plan(simulation: Simulation, processes: int) -> Plan:
    """Shards dealt to ``processes`` groups by their expected arrivals (largest first, each
    to the least loaded group)."""
    shards = simulation.shards()
    shard_of = {code: i for i, shard in enumerate(shards) for code in shard}
    load = [0.0] * len(shards)
    level_share = simulation.model.arrivals.level
    for level, offers in simulation.offers.items():
        total = sum(o.weight for o in offers) or 1.0
        for offer in offers:
            each = level_share.get(level, 0.0) * offer.weight / total / len(offer.receivers)
            for unit in offer.receivers:
                load[shard_of[unit.code]] += each
    processes = max(1, min(processes, len(shards)))
    groups: list[list[int]] = [[] for _ in range(processes)]
    weight = [0.0] * processes
    for i in sorted(range(len(shards)), key=lambda i: (-load[i], i)):
        g = min(range(processes), key=lambda g: (weight[g], g))
        groups[g].append(i)
        weight[g] += load[i]
    return Plan(shards, [sorted(g) for g in groups], shard_of)


def merge_results(results: list[Result]) -> Result:
    first = results[0]
    merged = Result(first.start, first.days, first.seed, working_minutes=first.working_minutes)
    for r in results:
        merged.generated += r.generated
        merged.ended += r.ended
        for status, n in r.by_status.items():
            merged.by_status[status] = merged.by_status.get(status, 0) + n
        merged.pools.extend(r.pools)
    merged.pools.sort(key=lambda p: (p.unit, p.role))
    return merged


@dataclass
class Outcome:
    """What a sharded run did, besides the history it handed to its sink."""

    result: Result
    sequences_used: dict[str, int]
    signed: list[Signed]


def _outcome(results: list[Result], sequences: list[dict[str, int]], signed: list[list[Signed]]) -> Outcome:
    return Outcome(
        merge_results(results),
        {k: v for s in sequences for k, v in s.items()},
        sorted((s for part in signed for s in part), key=lambda s: (s.sealed_at, s.signed_at, s.code)),
    )


# --- in memory: each process keeps its own figures ------------------------------------------


@dataclass(frozen=True)
class Job:
    model: Model
    province: Province
    seed: int
    start: date
    days: int
    first_id: int = 1
    sequences: Callable[[str], int] | None = None
    sign: bool = False

    def simulation(self, sink: Any, units: frozenset[str] | None = None) -> Simulation:
        return Simulation(
            self.model,
            self.province,
            seed=self.seed,
            start=self.start,
            days=self.days,
            sink=sink,
            sequences=self.sequences,
            first_id=self.first_id,
            sign=self.sign,
            units=units,
        )


#: What forked processes inherit (a Province does not pickle cheaply).
_FORKED: dict[str, Any] = {}


def _tally_group(group: int) -> tuple[Result, Tally]:
    job, p, end = _FORKED["job"], _FORKED["plan"], _FORKED["end"]
    tally = Tally(end)
    result = job.simulation(tally, p.units(group)).run()
    return result, tally


def tally_in_parallel(job: Job, end, processes: int) -> tuple[Result, Tally]:
    """The run's figures, its shards simulated by ``processes`` forked processes."""
    p = plan(job.simulation(None), processes)
    if len(p.groups) == 1:
        tally = Tally(end)
        return job.simulation(tally).run(), tally
    _FORKED.update(job=job, plan=p, end=end)
    try:
        with multiprocessing.get_context("fork").Pool(len(p.groups)) as pool:
            parts = pool.map(_tally_group, range(len(p.groups)))
    finally:
        _FORKED.clear()
    tally = Tally(end)
    for _, t in parts:
        tally.add(t)
    return merge_results([r for r, _ in parts]), tally


# --- into a sink in one order: each process streams its days ---------------------------------


class _ShardSink:
    """Collects a day's history by shard (a dossier's shard is its receiving unit's)."""

    def __init__(self, shard_of: dict[str, int]) -> None:
        self.shard_of = shard_of
        self.audits: dict[int, list[dict]] = {}
        self.dossiers: list[tuple[int, dict, list, dict | None]] = []

    def _shard(self, code: str) -> int:
        return self.shard_of[code.rsplit("-", 2)[0]]

    def audit(self, entry: dict[str, Any]) -> None:
        self.audits.setdefault(self._shard(entry["dossier_code"]), []).append(entry)

    def dossier(self, row: dict, steps: list, rating: dict | None) -> None:
        self.dossiers.append((self.shard_of[row["receiving_unit"]], row, steps, rating))

    def take(self) -> tuple[dict[int, list[dict]], list[tuple[int, dict, list, dict | None]]]:
        day, self.audits, self.dossiers = (self.audits, self.dossiers), {}, []
        return day


def _stream_group(job: Job, p: Plan, group: int | None) -> Iterator[tuple]:
    """("day", audits by shard, dossiers) per simulated day, then ("end", …, result,
    sequences used, signed); ``group`` None: every shard."""
    sink = _ShardSink(p.shard_of)
    simulation = job.simulation(sink, None if group is None else p.units(group))
    for _ in simulation.day_by_day():
        yield ("day", *sink.take())
    result = simulation.finish()  # the dossiers still open, as they stand
    yield ("end", *sink.take(), result, simulation.sequences_used, simulation.signed)


def _stream_in_child(job: Job, p: Plan, group: int, conn) -> None:
    try:
        for message in _stream_group(job, p, group):
            conn.send(message)
    except BaseException as error:  # the parent raises it
        conn.send(("error", repr(error)))
    finally:
        conn.close()


def _merge(parts: list[tuple]) -> Iterator[tuple[str, tuple]]:
    """One day of every group, in the order of one process."""
    audits: dict[int, list[dict]] = {}
    dossiers: list[tuple[int, dict, list, dict | None]] = []
    for _, by_shard, done, *_ in parts:
        audits.update(by_shard)
        dossiers.extend(done)
    for entry in heapq.merge(*(audits[i] for i in sorted(audits)), key=_AT):
        yield "audit", (entry,)
    dossiers.sort(key=itemgetter(0))  # stable: each shard's own order
    for _, row, steps, rating in dossiers:
        yield "dossier", (row, steps, rating)


def run_sharded(
    job: Job,
    sink: Any,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Simulate ``job`` and hand its history to ``sink`` in the order one process gives,
    with its shards simulated by ``processes`` forked processes."""
    p = plan(job.simulation(None), processes)
    if len(p.groups) == 1:
        streams: list[Iterator[tuple]] = [_stream_group(job, p, None)]
        children: list = []
    else:
        context = multiprocessing.get_context("fork")
        streams, children = [], []
        for group in range(len(p.groups)):
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=_stream_in_child, args=(job, p, group, sender), daemon=True)
            child.start()
            sender.close()
            children.append(child)
            streams.append(_received(receiver))
    try:
        day = 0
        while True:
            parts = [next(s) for s in streams]
            for kind, args in _merge(parts):
                getattr(sink, kind)(*args)
            if parts[0][0] == "end":
                break
            day += 1
            if progress:
                progress(day)
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()
    return _outcome([m[3] for m in parts], [m[4] for m in parts], [m[5] for m in parts])


def _received(conn) -> Iterator[tuple]:
    while True:
        message = conn.recv()
        if message[0] == "error":
            raise RuntimeError(f"a simulation process failed: {message[1]}")
        yield message
        if message[0] == "end":
            conn.close()
            return
