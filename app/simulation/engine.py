"""The province played forward: a discrete-event simulation (SimPy) of citizens submitting
dossiers and officers resolving them, through the portal's own rules.

Every change to a dossier goes through ``app.domain.records.record`` — the function the
live portal's DossierService applies in its transactions — so the simulated history has
the same states, deadlines (working days, the 15:00 cut-off, Tết), workflow steps, forms
and audit entries as one made by hand. Officers are SimPy resources: each unit's officers
of a role serve one task at a time, in office hours only, first come first served; an
overloaded unit makes dossiers late, a late dossier gets an apology (Form 04) and a worse
rating.

Randomness is split into streams so that two scenarios see the same citizens (common
random numbers): the arrivals of a day — when, which procedure, which unit — depend only on
(seed, day), and everything else about a dossier — its channel, completeness, the officers'
effort on it, the citizen's delays and rating — only on (seed, its number). Only queueing
differs.

No dossier crosses between a district's units and another district's (or the province's):
the units fall into independent ``shards()``, which separate processes can simulate at once
(app/simulation/shards.py) with exactly the history of one run holding them all.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import simpy

from app.domain.calendar import WorkingCalendar
from app.domain.clock import VN_TZ
from app.domain.directory import Directory, UnitRecord
from app.domain.dossier_code import DayNumbers
from app.domain.geography import UnitSpec
from app.domain.lifecycle import OPEN, Action, Refusal, Status
from app.domain.names import synthetic_applicant
from app.domain.records import actor_at, apply_in_memory, audit_entry, rating_row, record, submitted_row
from app.heap import fewer_collections
from app.services.seeding import officer_username
from app.simulation.model import LogNormal, Model
from procedures.loader import Catalogue
from procedures.schema import Procedure

ROLES = ("reception", "specialist", "leader", "clerk")
DAY = 24 * 60
#: Audit action names by lifecycle action (an enum's ``.value`` is slow in a hot loop).
_AUDIT_ACTION = {a: f"dossier.{a.value}" for a in Action}
#: Office hours (the calendar's), in minutes after midnight: counter arrivals fall inside.
COUNTER_WINDOWS = ((7 * 60 + 30, 11 * 60 + 30), (13 * 60, 17 * 60))
REASONS = {
    Action.REQUEST_SUPPLEMENT: ("Bản sao giấy tờ chưa được chứng thực", "Tờ khai thiếu chữ ký"),
    Action.REJECT: ("Thủ tục không thuộc thẩm quyền tiếp nhận của đơn vị",),
    Action.REFUSE: ("Không đủ điều kiện theo quy định",),
    Action.APOLOGIZE: ("Hồ sơ phải xác minh thêm với cơ quan liên quan",),
}


class Sink(Protocol):
    """Where the history goes: a database writer, or a tally kept in memory."""

    def audit(self, entry: dict[str, Any]) -> None: ...

    def dossier(
        self, row: dict[str, Any], steps: list[dict[str, Any]], rating: dict[str, Any] | None
    ) -> None: ...


def lognormal(rng: random.Random, d: LogNormal) -> float:
    return d.median * math.exp(rng.gauss(0.0, d.sigma)) if d.sigma else d.median


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (normal approximation above 50, where it is indistinguishable here)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, k, p = math.exp(-mean), 0, rng.random()
    while p > threshold:
        k += 1
        p *= rng.random()
    return k


@dataclass
class PoolFigures:
    """What one pool of officers did: the part of a run's result that outlives the run."""

    unit: str
    role: str
    size: int
    busy_minutes: float = 0.0
    tasks: int = 0
    waited_minutes: float = 0.0
    longest_queue: int = 0


@dataclass
class Pool(PoolFigures):
    """The officers of one role at one unit: a queue served one task per officer at a time."""

    officers: simpy.Store | None = None

    def figures(self) -> PoolFigures:
        return PoolFigures(
            self.unit,
            self.role,
            self.size,
            self.busy_minutes,
            self.tasks,
            self.waited_minutes,
            self.longest_queue,
        )


@dataclass
class Province:
    """The simulated province: its units, officers, procedures and calendar."""

    directory: Directory
    units: list[UnitSpec]
    catalogue: Catalogue
    calendar: WorkingCalendar
    level_map: dict[str, str] = field(default_factory=dict)
    cccd_prefix: str = "015"

    @classmethod
    def from_fixtures(cls, key: str, calendar: WorkingCalendar, catalogue: Catalogue) -> Province:
        from app.services.seeding import load_province

        pf, units = load_province(key)
        directory = Directory(
            (
                UnitRecord(
                    u.code, u.key, u.name, u.kind, u.level, u.parent_code, u.one_stop_name, u.synthetic
                )
                for u in units
            ),
            pf.level_map,
            pf.place,
        )
        return cls(directory, units, catalogue, calendar, pf.level_map, pf.cccd_prefix)


@dataclass(frozen=True)
class Signed:
    """A result the simulation signed: the PDF is made and signed for real after the run."""

    code: str
    leader: str
    signed_at: datetime
    sealed_at: datetime


@dataclass
class Offer:
    """A procedure and where it can be submitted, with its weight among its level's."""

    procedure: Procedure
    receivers: list[UnitRecord]
    weight: float


@dataclass
class Level:
    """One level's offers, with their cumulative weights (drawn ~10^5 times a year)."""

    offers: list[Offer]
    cumulative: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.cumulative = list(itertools.accumulate(o.weight for o in self.offers))


@dataclass
class Result:
    """What a run did: counts, queues and officers' utilisation, for the report."""

    start: date
    days: int
    seed: int
    generated: int = 0
    ended: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    pools: list[PoolFigures] = field(default_factory=list)
    working_minutes: float = 0.0


class Simulation:
    def __init__(
        self,
        model: Model,
        province: Province,
        *,
        seed: int,
        start: date,
        days: int,
        sink: Sink,
        sequences: Callable[[str], int] | None = None,
        first_id: int = 1,
        sign: bool = False,
        units: frozenset[str] | None = None,
    ) -> None:
        """``units``: simulate only the dossiers received at these units (a union of
        ``shards()``; the others are drawn all the same, so every dossier keeps its number,
        id, randomness and history whichever units a run holds)."""
        self.model, self.province, self.seed = model, province, seed
        #: Sign approved results (leader, then seal); which were signed, by whom and when.
        self.sign, self.signed = sign, []
        self.start, self.days, self.sink = start, days, sink
        self.calendar = province.calendar
        self.origin = datetime.combine(start, time(0), VN_TZ)
        self.env = simpy.Environment()
        self._at_minutes, self._at_moment = 0.0, self.origin
        self.first_id = first_id
        self.units = units
        self._numbers = DayNumbers(sequences)
        self._online_share: dict[int, float] = {}
        self._open: dict[str, tuple[dict, list, dict]] = {}
        self.result = Result(start, days, seed)
        self.pools = self._pools()
        self.offers = self._offers()

    # --- set-up ---------------------------------------------------------------------------

    def _pools(self) -> dict[tuple[str, str], Pool]:
        staffing = self.model.staffing
        pools = {}
        for unit in self.province.units:
            if self.units is not None and unit.code not in self.units:
                continue
            for role in ROLES:
                count = getattr(unit.staffing, role)
                for override in (staffing.kind.get(unit.kind), staffing.unit.get(unit.key)):
                    if override is not None and getattr(override, role) is not None:
                        count = getattr(override, role)
                if count <= 0:
                    continue
                store = simpy.Store(self.env)
                store.items.extend(officer_username(role, unit.key, i) for i in range(1, count + 1))
                pools[(unit.code, role)] = Pool(unit.code, role, count, officers=store)
        return pools

    def _offers(self) -> dict[str, list[Offer]]:
        weights = self.model.arrivals.weights
        by_level: dict[str, list[Offer]] = defaultdict(list)
        for p in self.province.catalogue:
            if not p.at_counter:
                continue
            receivers = self.province.directory.receiving_units(p.receiving)
            if receivers:
                level = self.province.level_map.get(p.level, p.level)
                by_level[level].append(Offer(p, receivers, weights.get(p.code, 1.0)))
        return by_level

    def shards(self) -> list[frozenset[str]]:
        """The units in groups that no dossier crosses: the receiving unit, the units its
        workflow resolves to and the officers it falls back on (a unit without a role uses
        its parent's) of every offer are joined; a unit nothing reaches joins the first
        group. Ordered by their smallest unit code."""
        parent: dict[str, str] = {}

        def root(code: str) -> str:
            while parent.setdefault(code, code) != code:
                parent[code] = parent[parent[code]]
                code = parent[code]
            return code

        def pool(unit_code: str, role: str) -> str:
            key = (unit_code, role)
            return (key if key in self.pools else self._fallback(key))[0]

        directory = self.province.directory
        for level in self.offers.values():
            for offer in level:
                p = offer.procedure
                for receiver in offer.receivers:
                    reached = {receiver.code, pool(receiver.code, "reception")}
                    for position, step in enumerate(p.workflow):
                        unit = directory.resolve(step.unit, receiver.code)
                        if unit is None:
                            continue
                        reached |= {unit.code, pool(unit.code, step.role)}
                        if position == len(p.workflow) - 2:  # the approver signs and seals
                            reached |= {pool(unit.code, "leader"), pool(unit.code, "clerk")}
                    first = root(receiver.code)
                    for code in reached:
                        parent[root(code)] = first
        groups: dict[str, set[str]] = defaultdict(set)
        for code in list(parent):
            groups[root(code)].add(code)
        shards = sorted((frozenset(g) for g in groups.values()), key=min)
        alone = {u.code for u in self.province.units} - set(parent)
        if alone:
            shards = [shards[0] | alone, *shards[1:]] if shards else [frozenset(alone)]
        return shards

    # --- time -----------------------------------------------------------------------------

    def at(self, minutes: float | None = None) -> datetime:
        minutes = self.env.now if minutes is None else minutes
        if minutes != self._at_minutes:  # many calls share one instant
            self._at_minutes, self._at_moment = minutes, self.origin + timedelta(minutes=minutes)
        return self._at_moment

    def minutes(self, moment: datetime) -> float:
        return (moment - self.origin).total_seconds() / 60

    # --- running --------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> Result:
        for day in self.day_by_day():
            if progress:
                progress(day, self.days)
        return self.finish()

    def day_by_day(self) -> Iterator[int]:
        """Simulate one day at a time (the caller may write what the day produced)."""
        self.env.process(self._arrivals())
        # A run allocates millions of short-lived dicts, tuples and SimPy events: the
        # collector's default pace took ~7 % of a run, ~2.5 % like this.
        with fewer_collections(20_000, 20, 50):
            for day in range(1, self.days + 1):
                self.env.run(until=day * DAY)
                yield day

    def finish(self) -> Result:
        for row, steps, rating in self._open.values():  # still open at the end: as they stand
            self.sink.dossier(row, steps, rating)
        self._open.clear()
        self.result.pools = [p.figures() for p in sorted(self.pools.values(), key=lambda p: (p.unit, p.role))]
        first, last = self.origin, self.at(self.days * DAY)
        self.result.working_minutes = self.calendar.working_hours_between(first, last) * 60
        return self.result

    @property
    def sequences_used(self) -> dict[str, int]:
        """The last dossier number given per unit and day (``unit code|yymmdd``)."""
        return dict(self._numbers.used)

    def _arrivals(self) -> Iterator[simpy.Event]:
        a = self.model.arrivals
        shares = [(level, share) for level, share in a.level.items() if self.offers.get(level)]
        levels = [Level(self.offers[level]) for level, _ in shares]
        level_weights = list(itertools.accumulate(share for _, share in shares))
        number = 0
        for day in range(self.days):
            d = self.start + timedelta(days=day)
            rng = random.Random(f"{self.seed}:day:{d.isoformat()}")
            working = self.calendar.is_working_day(d)
            mean = a.per_working_day * a.month[d.month - 1]
            mean *= a.weekday[d.weekday()] if working else a.day_off_online * self.online_share(day)
            times = sorted(self._arrival_minute(rng, working) for _ in range(poisson(rng, mean)))
            for minute in times:
                # Where the citizen goes is drawn from the day's stream: a run holding only some
                # units skips the others' dossiers without drawing their own streams.
                level = levels[bisect(level_weights, rng.random() * level_weights[-1])]
                offer = level.offers[bisect(level.cumulative, rng.random() * level.cumulative[-1])]
                unit = rng.choice(offer.receivers)
                number += 1
                # Waited for also when skipped: the arrivals' own events stay the same in every
                # run, so events at the same instant keep their order whichever units run.
                yield self.env.timeout(max(0.0, day * DAY + minute - self.env.now))
                if self.units is not None and unit.code not in self.units:
                    continue
                self.result.generated += 1
                self.env.process(self._dossier(number, offer.procedure, unit, working))
            yield self.env.timeout(max(0.0, (day + 1) * DAY - self.env.now))

    @staticmethod
    def _arrival_minute(rng: random.Random, working: bool) -> float:
        if working and rng.random() < 0.85:  # most people come, or click, in office hours
            lo, hi = COUNTER_WINDOWS[0] if rng.random() < 0.55 else COUNTER_WINDOWS[1]
            return rng.uniform(lo, hi)
        return rng.uniform(6 * 60, 23 * 60)

    def online_share(self, day: int) -> float:
        """The share grows through each calendar year, from the model's start to its end value."""
        share = self._online_share.get(day)
        if share is None:
            lo, hi = self.model.arrivals.online_share
            d = self.start + timedelta(days=day)
            share = self._online_share[day] = lo + (hi - lo) * (d.timetuple().tm_yday - 1) / 364
        return share

    # --- one dossier ----------------------------------------------------------------------

    def _dossier(
        self, number: int, p: Procedure, unit: UnitRecord, working_day: bool
    ) -> Iterator[simpy.Event]:
        rng = random.Random(f"{self.seed}:dossier:{number}")
        m, c = self.model, self.model.citizens
        minute_of_day = self.env.now % DAY
        in_hours = working_day and any(lo <= minute_of_day < hi for lo, hi in COUNTER_WINDOWS)
        online = not in_hours or rng.random() < self.online_share(int(self.env.now // DAY))
        channel = 2 if online else (3 if rng.random() < m.arrivals.post_share else 1)
        # Decided now, so that a scenario changes nothing about the citizen.
        fate = {
            "rejected": rng.random() < c.rejected_at_intake,
            "incomplete": rng.random() < c.incomplete,
            "supplement_later": rng.random() < c.supplement_in_processing,
            "refused": rng.random() < c.refused,
            "withdrawn": rng.random() < c.withdrawn,
            "pays_online": rng.random() < c.pays_online,
            "rates": rng.random() < c.rates,
        }
        row = self._submit(rng, p, unit, channel, self.first_id + number - 1)
        code = row["code"]
        steps: list[dict[str, Any]] = []
        rating: dict[str, Any] | None = None
        self._open[code] = (row, steps, rating)
        waited = 0.0

        def act(
            action: Action, role: str, unit_code: str | None, who: str, *, owner: bool = False, reasons=()
        ) -> None:
            self._act(row, steps, p, action, role, unit_code, who, owner=owner, reasons=reasons)

        if row["fee_due"] and channel == 2 and fate["pays_online"]:  # the gateway's confirmed callback
            act(Action.PAY, "system", None, "system")
        reception = (unit.code, "reception")
        # Intake at the one-stop unit: the counter, or the online queue.
        officer, queued = yield from self._work(reception, rng, m.service.reception)
        waited += queued
        if fate["rejected"]:
            act(Action.REJECT, "reception", unit.code, officer, reasons=REASONS[Action.REJECT])
            self._release(reception, officer)
            return self._finish(code, rng, fate, p, waited)
        if fate["incomplete"]:
            act(
                Action.REQUEST_SUPPLEMENT,
                "reception",
                unit.code,
                officer,
                reasons=REASONS[Action.REQUEST_SUPPLEMENT],
            )
            self._release(reception, officer)
            yield self.env.timeout(lognormal(rng, c.supplement_days) * DAY)
            act(Action.SUPPLEMENT, "citizen", None, row["applicant_cccd"], owner=True)
            officer, queued = yield from self._work(reception, rng, m.service.reception)
            waited += queued
        act(Action.RECEIVE, "reception", unit.code, officer)
        if row["fee_due"] and not row["paid"] and (channel != 2 or not fate["pays_online"]):
            act(Action.PAY, "reception", unit.code, officer)
        self._watch(row, steps, p, unit.code)
        withdraw_at = rng.randrange(1, max(2, len(p.workflow) - 1)) if fate["withdrawn"] else None
        holder, holder_pool = officer, reception
        last = len(p.workflow) - 1
        position = 0
        while position < last:
            # The holder of this step finishes it: forwards, approves or refuses.
            nxt = position + 1
            if position == last - 1:
                refuse = fate["refused"] and row["step_role"] in ("specialist", "leader")
                act(
                    Action.REFUSE if refuse else Action.APPROVE,
                    row["step_role"],
                    row["step_unit"],
                    holder,
                    reasons=REASONS[Action.REFUSE] if refuse else (),
                )
            else:
                act(Action.FORWARD, row["step_role"], row["step_unit"], holder)
            self._release(holder_pool, holder)
            position = nxt
            if position == last:
                break
            if withdraw_at == position:
                yield self.env.timeout(rng.uniform(60, 3 * DAY))
                act(Action.WITHDRAW, "citizen", None, row["applicant_cccd"], owner=True)
                who, queued = yield from self._work(reception, rng, m.service.reception)
                act(Action.STOP, "reception", unit.code, who)
                self._release(reception, who)
                return self._finish(code, rng, fate, p, waited)
            pool_key = (row["step_unit"], row["step_role"])
            if pool_key not in self.pools:  # a unit without officers of that role: its parent's
                pool_key = self._fallback(pool_key)
            effort = self._effort(rng, p, position)
            if row["step_role"] == "specialist" and rng.random() < m.external.probability:
                yield self.env.timeout(lognormal(rng, m.external.days) * DAY)
            holder, queued = yield from self._work(pool_key, rng, None, minutes=effort)
            holder_pool = pool_key
            if fate["supplement_later"] and row["step_role"] == "specialist" and not row["supplements"]:
                act(
                    Action.REQUEST_SUPPLEMENT,
                    "specialist",
                    row["step_unit"],
                    holder,
                    reasons=REASONS[Action.REQUEST_SUPPLEMENT],
                )
                self._release(holder_pool, holder)
                yield self.env.timeout(lognormal(rng, c.supplement_days) * DAY)
                act(Action.SUPPLEMENT, "citizen", None, row["applicant_cccd"], owner=True)
                holder, queued = yield from self._work(pool_key, rng, None, minutes=effort / 2)
        if self.sign and row["outcome"] == "approved":
            yield from self._sign(row, steps, p, rng)
        # The last step: the result is returned at the one-stop unit.
        return_key = (row["step_unit"], row["step_role"]) if row["step_unit"] else reception
        if return_key not in self.pools:
            return_key = self._fallback(return_key)
        service = m.service.clerk if return_key[1] == "clerk" else m.service.reception
        who, queued = yield from self._work(return_key, rng, service)
        act(Action.RETURN_RESULT, return_key[1], return_key[0], who)
        self._release(return_key, who)
        return self._finish(code, rng, fate, p, waited)

    def _sign(self, row: dict, steps: list, p: Procedure, rng: random.Random) -> Iterator[simpy.Event]:
        """The approving unit's leader signs the result, then its clerk (or its parent's)
        applies the seal; the documents themselves are signed for real after the run."""
        m = self.model.service
        approver = next(s["unit_code"] for s in reversed(steps) if s["position"] == len(p.workflow) - 2)
        times = []
        for role, service in (("leader", m.leader), ("clerk", m.clerk)):
            key = (approver, role) if (approver, role) in self.pools else self._fallback((approver, role))
            who, _ = yield from self._work(key, rng, service)
            self._act(row, steps, p, Action.SIGN, role, key[0], who)
            self._release(key, who)
            times.append((who, self.at()))
        self.signed.append(
            Signed(row["code"], leader=times[0][0], signed_at=times[0][1], sealed_at=times[1][1])
        )

    def _fallback(self, key: tuple[str, str]) -> tuple[str, str]:
        for ancestor in self.province.directory.ancestors(key[0]):
            if (ancestor.code, key[1]) in self.pools:
                return (ancestor.code, key[1])
        raise LookupError(f"no officer of role {key[1]} for unit {key[0]} or above")

    def _effort(self, rng: random.Random, p: Procedure, position: int) -> float:
        s, step = self.model.service, p.workflow[position]
        base = {"specialist": s.specialist, "leader": s.leader, "clerk": s.clerk}.get(step.role, s.reception)
        minutes = lognormal(rng, base)
        if step.role == "specialist":  # bigger files take longer
            minutes *= (max(step.hours, 1.0) / 8) ** s.specialist_budget_scale
        return minutes

    def _work(
        self, key: tuple[str, str], rng: random.Random, service: LogNormal | None, minutes: float = 0.0
    ) -> Iterator[simpy.Event]:
        """Queue for an officer of the pool, then work ``minutes`` of office time; the
        officer stays held until released by the caller."""
        pool = self.pools[key]
        store = pool.officers
        asked = self.env.now
        if store.items and not store.get_queue:  # an officer is free: no need to queue
            officer = store.items.pop(0)
        else:
            pool.longest_queue = max(pool.longest_queue, len(store.get_queue) + 1)
            officer = yield store.get()
        begun = self.env.now
        effort = lognormal(rng, service) if service is not None else minutes
        done = self.calendar.office_minutes_after(self.start, begun, effort)
        yield self.env.timeout(max(0.0, done - begun))
        pool.busy_minutes += effort
        pool.tasks += 1
        pool.waited_minutes += begun - asked
        return officer, begun - asked

    def _release(self, key: tuple[str, str], officer: str) -> None:
        store = self.pools[key].officers
        if store.get_queue:  # someone waits: SimPy hands the officer over
            store.put(officer)
        else:
            store.items.append(officer)

    def _watch(self, row: dict, steps: list, p: Procedure, receiving: str) -> None:
        """The one-stop unit's watch on a dossier's appointment: at 16:00 on the last working
        day before it, a dossier still far from its result gets an apology and a new date
        (Form 04, once); an appointment missed all the same is flagged overdue.

        A chain of timeouts with callbacks rather than a SimPy process: a process costs a
        start and an end event and a generator for each of the year's ~200,000 dossiers."""

        def later(minutes: float, then: Callable[[simpy.Event], None]) -> None:
            self.env.timeout(minutes).callbacks.append(then)

        def look(_: simpy.Event | None = None) -> None:
            while row["status"] in OPEN and row["due_at"] is not None:  # IntEnum: ints match
                due = row["due_at"]
                if row["status"] == Status.SUPPLEMENT_REQUESTED:  # the clock is paused
                    return later(DAY, look)
                day = due.astimezone(VN_TZ).date() - timedelta(days=1)
                while not self.calendar.is_working_day(day):
                    day -= timedelta(days=1)
                check_at = self.minutes(datetime.combine(day, time(16, 0), VN_TZ))
                if not row["apologized"] and check_at > self.env.now:
                    return later(check_at - self.env.now, look)  # the appointment may move meanwhile
                if not row["apologized"] and self.at().date() <= day and self._behind(row, p, due):
                    self._apologize(row, steps, p, receiving, due)
                    continue
                wait = self.minutes(due) - self.env.now
                if wait > 0:
                    return later(wait + 1, lambda _, due=due: settle(due))
                return settle(due)

        def settle(due: datetime) -> None:
            if row["due_at"] != due:
                return look()
            if row["status"] in OPEN and row["status"] != Status.SUPPLEMENT_REQUESTED:
                row["overdue"] = True
                self._audit(row, "dossier.overdue", "system", "system", row["status"], row["status"], {})

        look()

    def _apologize(self, row: dict, steps: list, p: Procedure, receiving: str, due: datetime) -> None:
        local = due.astimezone(VN_TZ)
        later = self.calendar.add_working_days(local.date(), self.model.apology.extra_working_days)
        new_due = datetime.combine(later, local.timetz())
        officer = officer_username("reception", self.province.directory.get(receiving).key)
        self._act(
            row,
            steps,
            p,
            Action.APOLOGIZE,
            "reception",
            receiving,
            officer,
            reasons=REASONS[Action.APOLOGIZE],
            new_due_at=new_due,
        )

    def _behind(self, row: dict, p: Procedure, due: datetime) -> bool:
        """Whether the steps left, at their budgets, need more office time than remains."""
        now, cal = self.at(), self.calendar
        left = sum(s.hours for s in p.workflow[row["step"] + 1 :])
        if row["step_due_at"] is not None:
            left += cal.working_hours_between(now, row["step_due_at"])
        return left > cal.working_hours_between(now, due)

    # --- recording ------------------------------------------------------------------------

    def _submit(
        self, rng: random.Random, p: Procedure, unit: UnitRecord, channel: int, dossier_id: int
    ) -> dict[str, Any]:
        now = self.at()
        code = self._numbers.next_code(unit.code, now)
        applicant = synthetic_applicant(rng, self.province.cccd_prefix)
        row = submitted_row(dossier_id, code, p, unit.code, channel, applicant, now)
        cccd, fee = row["applicant_cccd"], row["fee_total"]
        who = cccd if channel == 2 else officer_username("reception", unit.key)
        self._audit(
            row,
            "dossier.submit",
            who,
            "citizen" if channel == 2 else "reception",
            None,
            1,
            {"procedure": p.code, "channel": channel, "files": len(p.documents), "fee": fee},
        )
        return row

    def _act(
        self,
        row,
        steps,
        p,
        action: Action,
        role: str,
        unit_code,
        who: str,
        *,
        owner: bool = False,
        reasons=(),
        new_due_at=None,
    ) -> None:
        now = self.at()
        actor = actor_at(row, role, unit_code, is_owner=owner)
        done = record(
            row,
            p,
            action,
            actor,
            now,
            self.calendar,
            self.province.directory,
            reasons=reasons,
            new_due_at=new_due_at,
        )
        if isinstance(done, Refusal):  # the simulator must only take allowed actions
            raise RuntimeError(f"{row['code']}: {action.value} by {role} refused: {done.reason}")
        before = apply_in_memory(row, steps, done, now, who)
        role = "citizen" if owner else role
        self._audit(row, _AUDIT_ACTION[action], who, role, before, row["status"], done.audit_details)

    def _audit(self, row, action: str, who: str, role: str, before, after, details: dict) -> None:
        self.sink.audit(audit_entry(self.at(), action, who, role, row["code"], before, after, details))

    def _finish(self, code: str, rng: random.Random, fate: dict, p: Procedure, waited: float) -> None:
        row, steps, _ = self._open.pop(code)
        rating = self._rating(row, rng, waited) if fate["rates"] and row["status"] in (3, 10) else None
        if rating is not None:
            self._audit(
                row,
                "rating.create",
                row["applicant_cccd"],
                "citizen",
                row["status"],
                row["status"],
                {"level": rating["level"], "source": "online"},
            )
        self.result.ended += 1
        self.result.by_status[row["status"]] = self.result.by_status.get(row["status"], 0) + 1
        self.sink.dossier(row, steps, rating)

    def _rating(self, row: dict, rng: random.Random, waited: float) -> dict[str, Any]:
        level = self.model.ratings.draw(rng, row, waited)
        return rating_row(row, level, self.at(), "online" if row["channel"] == 2 else "paper")
