"""Dossier histories written in bulk: the writer, and a generator of realistic histories.

``HistoryWriter`` takes whole histories held in memory — a dossier row, its workflow steps
(Form 05), its audit entries and its rating — and writes them in large batches, one
transaction per batch: SQLite through one connection with ``executemany``, PostgreSQL
with COPY through the engine's pool. It continues the audit chain exactly as
``audit.record`` would (same canonical form, same hash), allocates dossier ids after the
table's highest, and keeps ``dossier_counter`` ahead of every code it writes, so that
the portal goes on after a load as if the history had happened through it. It is the
``Sink`` of the province simulator (``app.simulation.engine``) too::

    writer = await HistoryWriter.open()
    simulation = Simulation(model, province, seed=1, start=start, days=365, sink=writer,
                            sequences=writer.last_sequence, first_id=writer.next_id)
    await writer.drive(simulation.run)      # runs in a thread, batches flushed as they fill

``synthesize`` makes histories without queues (faster than the simulator by an order of
magnitude, for filling a database with 10^5–10^6 dossiers): arrivals spread over the
working days of a period, procedures and receiving units drawn with the simulator's
model weights, and every transition made by ``app.domain.records.record`` — the state
machine, the working-day calendar and the workflow the live portal uses — with step
durations drawn against the appointment so that outcomes are mixed: mostly early or on
time, some late (most of those with an apology), supplements, refusals, withdrawals,
dossiers still open at the end and some of them overdue.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import math
import multiprocessing
import random
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import Any, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from app.db import engine as db
from app.db.tables import AuditEvent, Dossier, DossierStep, Rating
from app.domain.calendar import WorkingCalendar
from app.domain.clock import VN_TZ
from app.domain.directory import Directory, UnitRecord
from app.domain.dossier_code import DayNumbers
from app.domain.lifecycle import Action, Refusal
from app.domain.names import synthetic_applicant
from app.domain.rollup import Rollup, facts_from_rows
from app.domain.records import actor_at, apply_in_memory, audit_entry, rating_row, record, submitted_row
from app.services import rollup
from app.services.audit import _CHAIN_LOCK, GENESIS, event_hash
from app.services.seeding import officer_username
from app.simulation.engine import COUNTER_WINDOWS, REASONS, ROLES
from app.simulation.model import Model, load_model
from procedures.loader import Catalogue
from procedures.schema import Procedure

T = TypeVar("T")

#: Column order of the rows the writer sends (ids of steps, audit events and ratings are the
#: database's own; dossier ids are explicit because steps and ratings refer to them).
DOSSIER_COLUMNS = tuple(c._meta.db_column_name for c in Dossier._meta.columns)
STEP_COLUMNS = tuple(c._meta.db_column_name for c in DossierStep._meta.columns if c._meta.name != "id")
AUDIT_COLUMNS = tuple(c._meta.db_column_name for c in AuditEvent._meta.columns if c._meta.name != "id")
RATING_COLUMNS = tuple(c._meta.db_column_name for c in Rating._meta.columns if c._meta.name != "id")
#: Statuses in which the time limit runs: past the appointment in one of them is overdue.
RUNNING = frozenset({2, 4, 6, 7})
#: Where a unit may still apologise with a new date (before a result, not being withdrawn).
APOLOGY_STATUSES = frozenset({2, 4, 6})


#: ``json.dumps(details, ensure_ascii=False)``, the encoder made once.
_DETAILS = json.JSONEncoder(ensure_ascii=False)


class LoadError(RuntimeError):
    """The database moved under the load (another writer), or the history is inconsistent."""


@dataclass
class Batch:
    """Rows taken from the writer's buffers, written together in one transaction."""

    dossiers: list[tuple] = field(default_factory=list)
    steps: list[tuple] = field(default_factory=list)
    audits: list[tuple] = field(default_factory=list)
    ratings: list[tuple] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    #: What the batch's dossiers add to the statistics' rollup.
    rollup: Rollup = field(default_factory=Rollup)
    #: The chain's last (seq, hash) in the database before this batch, and after it.
    chain_before: tuple[int, str] = (0, GENESIS)
    chain_after: tuple[int, str] = (0, GENESIS)
    max_dossier_id: int = 0

    def __len__(self) -> int:
        return len(self.dossiers) + len(self.steps) + len(self.audits) + len(self.ratings)

    def tables(self) -> tuple[tuple[str, tuple[str, ...], list[tuple]], ...]:
        """Each table's name, columns and rows, in the order they are written."""
        return (
            ("dossier", DOSSIER_COLUMNS, self.dossiers),
            ("dossier_step", STEP_COLUMNS, self.steps),
            ("audit_event", AUDIT_COLUMNS, self.audits),
            ("rating", RATING_COLUMNS, self.ratings),
        )


class HistoryWriter:
    """Buffers histories (the simulator's ``Sink``) and writes them a batch at a time.

    Audit entries must arrive in the order they are to be chained (time order); each is
    hashed on arrival. Dossier rows carry their ``id`` (from ``next_id``) and ``code``.
    The load expects the portal to be idle: each batch checks, under the chain's lock,
    that nobody appended to the audit chain since the previous one, and fails otherwise.
    """

    def __init__(self, engine: Engine, *, batch_size: int = 50_000) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.postgres = isinstance(engine, PostgresEngine)
        self._buffer = Batch()
        self._seq, self._hash = 0, GENESIS
        self._written_chain = (0, GENESIS)
        self._counters: dict[str, int] = {}
        self._next_id = 1
        self._max_id = 0
        self._sqlite: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: Future | None = None
        self._dossier_values = itemgetter(*DOSSIER_COLUMNS)
        self._step_values = itemgetter(*STEP_COLUMNS)
        self._rating_values = itemgetter(*RATING_COLUMNS)
        self.written = {"dossiers": 0, "steps": 0, "audit": 0, "ratings": 0}

    # --- opening --------------------------------------------------------------------------

    @classmethod
    async def open(cls, engine: Engine | None = None, *, batch_size: int = 50_000) -> HistoryWriter:
        """A writer that continues the database as it stands: ids, chain, day counters."""
        engine = engine or db.current_engine()
        await db.start(engine)
        writer = cls(engine, batch_size=batch_size)
        [top] = await Dossier.raw("SELECT MAX(id) AS top FROM dossier")
        writer._next_id = (top["top"] or 0) + 1
        writer._max_id = writer._next_id - 1
        last = await (
            AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
            .order_by(AuditEvent.seq, ascending=False)
            .first()
        )
        if last:
            writer._seq, writer._hash = last["seq"], last["hash"]
        writer._written_chain = (writer._seq, writer._hash)
        writer._buffer.chain_before = writer._written_chain
        writer._counters = {
            r["key"]: r["last"] for r in await Dossier.raw("SELECT key, last FROM dossier_counter")
        }
        if isinstance(engine, SQLiteEngine):
            conn = sqlite3.connect(engine.path, isolation_level=None, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses the last batch, never the file
            conn.execute("PRAGMA cache_size=-262144")  # 256 MB of pages: the indexes of 10^6 rows
            writer._sqlite = conn
        return writer

    # --- what the generator or the simulator calls ----------------------------------------

    @property
    def next_id(self) -> int:
        """The first dossier id free for this load (ids are allocated upwards from it)."""
        return self._next_id

    #: The names the simulator's runner uses (app/simulation/runs.py).
    @property
    def next_dossier_id(self) -> int:
        return self._next_id

    def sequence(self, key: str) -> int:
        return self.last_sequence(key)

    async def finish(self, sequences: dict[str, int] | None = None) -> None:
        """Write the rest; ``sequences`` (the simulator's last numbers per unit and day) only
        confirm what the codes written already told the day counters."""
        for key, last in (sequences or {}).items():
            if last > self._counters.get(key, 0):
                self._counters[key] = self._buffer.counters[key] = last
        await self.close()

    def allocate_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    @property
    def known_sequences(self) -> dict[str, int]:
        """The day counters ``<unit code>|<YYMMDD>`` → last number, as they stand."""
        return self._counters

    def last_sequence(self, key: str) -> int:
        """The day counter ``<unit code>|<YYMMDD>`` as it stands (0 if unused)."""
        return self._counters.get(key, 0)

    def audit(self, entry: dict[str, Any]) -> None:
        """Chain one entry (``at``, ``actor`` … ``details``, ``ip``) after the previous one."""
        self._seq += 1
        row = {**entry, "seq": self._seq, "prev_hash": self._hash}
        row["hash"] = self._hash = event_hash(row)
        details = _DETAILS.encode(row["details"])
        self._buffer.audits.append(
            (
                row["seq"],
                row["at"],
                row["actor_id"],
                row["actor"],
                row["actor_role"],
                row["action"],
                row["object_type"],
                row["object_id"],
                row["dossier_code"],
                row["status_before"],
                row["status_after"],
                details,
                row["ip"],
                row["prev_hash"],
                row["hash"],
            )
        )
        self._maybe_flush()

    def dossier(
        self, row: dict[str, Any], steps: list[dict[str, Any]], rating: dict[str, Any] | None
    ) -> None:
        """One dossier as it stands (final, or still open at the end of the history)."""
        b = self._buffer
        b.dossiers.append(self._dossier_values(row))
        b.steps.extend(self._step_values(s) for s in steps)
        if rating is not None:
            b.ratings.append(self._rating_values(rating))
        b.rollup.add(facts_from_rows(row, steps, rating))
        unit, day, seq = row["code"].rsplit("-", 2)
        key = f"{unit}|{day}"
        if int(seq) > self._counters.get(key, 0):
            self._counters[key] = b.counters[key] = int(seq)
        if row["id"] >= self._next_id:
            self._next_id = row["id"] + 1
        self._max_id = max(self._max_id, row["id"])
        b.max_dossier_id = self._max_id
        self._maybe_flush()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    # --- writing --------------------------------------------------------------------------

    def take(self) -> Batch:
        """The buffered rows, detached (the next ones go to a fresh batch)."""
        batch, self._buffer = self._buffer, Batch()
        batch.chain_after = (self._seq, self._hash)
        self._buffer.chain_before = batch.chain_after
        self._buffer.max_dossier_id = self._max_id
        return batch

    async def write(self, batch: Batch) -> None:
        """One transaction; batches must be written in the order they were taken."""
        if not len(batch) and not batch.counters:
            return
        if batch.chain_before != self._written_chain:
            raise LoadError("batches written out of order")
        if self._sqlite is not None:
            await asyncio.to_thread(self._write_sqlite, batch)
        else:
            await self._write_postgres(batch)
        self._written_chain = batch.chain_after
        for name, rows in (
            ("dossiers", batch.dossiers),
            ("steps", batch.steps),
            ("audit", batch.audits),
            ("ratings", batch.ratings),
        ):
            self.written[name] += len(rows)

    async def flush(self) -> None:
        await self._settle()
        await self.write(self.take())

    def _write_sqlite(self, b: Batch) -> None:
        conn = self._sqlite
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_chain(conn.execute(_LAST_EVENT).fetchone(), b)
            for table, columns, rows in b.tables():
                if rows:
                    marks = ", ".join("?" * len(columns))
                    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            if b.counters:
                conn.executemany(
                    "INSERT INTO dossier_counter (key, last) VALUES (?, ?) ON CONFLICT (key)"
                    " DO UPDATE SET last = MAX(dossier_counter.last, excluded.last)",
                    list(b.counters.items()),
                )
            for statement, rows in rollup.upserts(b.rollup, "?"):
                conn.executemany(statement, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def _write_postgres(self, b: Batch) -> None:
        assert isinstance(self.engine, PostgresEngine) and self.engine.pool is not None
        async with self.engine.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
            self._check_chain(await conn.fetchrow(_LAST_EVENT), b)
            for table, columns, rows in b.tables():
                if rows:
                    await conn.copy_records_to_table(table, records=rows, columns=list(columns))
            if b.counters:
                await conn.executemany(
                    "INSERT INTO dossier_counter (key, last) VALUES ($1, $2) ON CONFLICT (key)"
                    " DO UPDATE SET last = GREATEST(dossier_counter.last, excluded.last)",
                    list(b.counters.items()),
                )
            for statement, rows in rollup.upserts(b.rollup, "$"):
                await conn.executemany(statement, rows)
            if b.dossiers:  # explicit ids: move the serial past them for later submissions
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence('dossier', 'id'),"
                    " GREATEST($1, (SELECT last_value FROM dossier_id_seq)))",
                    b.max_dossier_id,
                )

    @staticmethod
    def _check_chain(last, b: Batch) -> None:
        found = (last[0], last[1]) if last else (0, GENESIS)
        if found != b.chain_before:
            raise LoadError(
                f"the audit chain moved during the load (expected seq {b.chain_before[0]}, found"
                f" {found[0]}): load while the portal is idle"
            )

    # --- driving from a thread ------------------------------------------------------------

    def _maybe_flush(self) -> None:
        """Called on every row: from a driven thread, hand a full batch to the event loop
        and keep going (one batch generated while the previous one is written)."""
        if self._loop is None or len(self._buffer) < self.batch_size:
            return
        batch = self.take()
        if self._inflight is not None:
            self._inflight.result()
        self._inflight = asyncio.run_coroutine_threadsafe(self.write(batch), self._loop)

    async def _settle(self) -> None:
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await asyncio.wrap_future(inflight)

    async def drive(self, work: Callable[[], T]) -> T:
        """Run ``work`` (a synthesis, a simulation) in a thread that feeds this writer;
        full batches are written here meanwhile, the rest at the end."""
        self._loop = asyncio.get_running_loop()
        try:
            result = await asyncio.to_thread(work)
        finally:
            self._loop = None
            await self._settle()
        await self.flush()
        return result

    async def close(self, *, analyze: bool = True) -> None:
        """Write what is left; refresh the planner's statistics (the tables grew a lot)."""
        await self.flush()
        if analyze:
            if self._sqlite is not None:
                await asyncio.to_thread(self._sqlite.execute, "ANALYZE")
            elif self.postgres:
                for table in (
                    "dossier",
                    "dossier_step",
                    "audit_event",
                    "rating",
                    "dossier_counter",
                    "stats_month",
                ):
                    await self.engine.run_ddl(f"ANALYZE {table}")
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None


_LAST_EVENT = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"


# --- histories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthesisSpec:
    """What to make: how many dossiers, over which days, with which mix of outcomes."""

    dossiers: int
    seed: int = 1
    start: date = date(2021, 1, 1)
    days: int = 365
    #: The simulator's model (fixtures/simulation): arrivals, citizens' behaviour, ratings.
    model: str = "base"
    #: Share of received dossiers whose processing overruns the appointment.
    late: float = 0.03
    #: Of those, the share where the unit apologises in time with a new date (Form 04).
    apologized: float = 0.7

    @property
    def until(self) -> datetime:
        """The end of the history: nothing happens at or after it; what is open stays open."""
        return datetime.combine(self.start + timedelta(days=self.days), time(0), VN_TZ)


@dataclass(frozen=True)
class ProvinceView:
    """What the generator needs of the province: its units, catalogue and calendar."""

    directory: Directory
    catalogue: Catalogue
    calendar: WorkingCalendar
    cccd_prefix: str = "015"


@dataclass
class SynthesisResult:
    dossiers: int = 0
    audits: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _shares(weights: list[float], total: int) -> list[int]:
    """``total`` split in proportion to ``weights``, exactly (largest remainders)."""
    whole = sum(weights)
    raw = [w * total / whole for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class Synthesizer:
    """Makes the histories; ``synthesize`` is the function to call."""

    def __init__(self, spec: SynthesisSpec, province: ProvinceView, model: Model) -> None:
        self.spec, self.model = spec, model
        self.directory, self.calendar = province.directory, province.calendar
        self.cccd_prefix = province.cccd_prefix
        self.until = spec.until
        self.officers: dict[tuple[str, str], str] = {}
        weights = model.arrivals.weights
        offers: dict[str, list[tuple[Procedure, list[UnitRecord], list[UnitRecord]]]] = {}
        level_of = self.directory.level_map
        for p in province.catalogue:
            if not p.at_counter:
                continue
            receivers = self.directory.receiving_units(p.receiving)
            if not receivers:
                continue
            level = level_of.get(p.level, p.level)
            # Where a procedure of one level is also received at another (a district one at
            # the commune), most people still go to the level it belongs to.
            home = [u for u in receivers if u.level == level] or receivers
            away = [u for u in receivers if u.level != level]
            offers.setdefault(level, []).append((p, home, away))
        self.levels = [(lv, share) for lv, share in model.arrivals.level.items() if offers.get(lv)]
        self.offers = offers
        self.offer_weights = {lv: [weights.get(p.code, 1.0) for p, _, _ in ps] for lv, ps in offers.items()}

    # --- arrivals ---------------------------------------------------------------------------

    def day_weights(self) -> list[float]:
        a = self.model.arrivals
        out = []
        for n in range(self.spec.days):
            d = self.spec.start + timedelta(days=n)
            w = a.month[d.month - 1]
            w *= a.weekday[d.weekday()] if self.calendar.is_working_day(d) else a.day_off_online
            out.append(w)
        return out

    def online_share(self, d: date) -> float:
        lo, hi = self.model.arrivals.online_share
        return lo + (hi - lo) * (d.timetuple().tm_yday - 1) / 364

    def officer(self, role: str, unit_code: str | None) -> str:
        key = (role, unit_code or "")
        name = self.officers.get(key)
        if name is None:
            unit = self.directory.get(unit_code) if unit_code else None
            where = unit.key if unit else "he-thong"
            name = self.officers[key] = officer_username(role, where) if role in ROLES else f"{role}.{where}"
        return name

    def day(self, n: int, count: int, first_id: int, sequences: Callable[[str], int] | None) -> list[tuple]:
        """The ``count`` histories submitted on day ``n`` (ids from ``first_id``), in order of
        submission. Depends on nothing but the day: days can be made in any process."""
        d = self.spec.start + timedelta(days=n)
        rng = random.Random(f"{self.spec.seed}:day:{d.isoformat()}")
        working = self.calendar.is_working_day(d)
        online_share = self.online_share(d)
        midnight = datetime.combine(d, time(0), VN_TZ)
        arrivals = []
        for _ in range(count):
            if working and rng.random() < 0.85:  # office hours, at the counter or online
                lo, hi = COUNTER_WINDOWS[0] if rng.random() < 0.55 else COUNTER_WINDOWS[1]
                minute, in_hours = rng.uniform(lo, hi), True
            else:
                minute, in_hours = rng.uniform(6 * 60, 23 * 60), False
            arrivals.append((round(minute * 60), in_hours))
        arrivals.sort()
        level_names = [lv for lv, _ in self.levels]
        level_shares = [s for _, s in self.levels]
        numbers = DayNumbers(sequences)
        out = []
        for i, (second, in_hours) in enumerate(arrivals):
            t0 = midnight + timedelta(seconds=second)
            level = rng.choices(level_names, weights=level_shares)[0]
            p, home, away = rng.choices(self.offers[level], weights=self.offer_weights[level])[0]
            unit = rng.choice(away if away and rng.random() < 0.15 else home)
            if not in_hours or rng.random() < online_share:
                channel = 2
            else:
                channel = 3 if rng.random() < self.model.arrivals.post_share else 1
            code = numbers.next_code(unit.code, t0)
            out.append(self.life(rng, first_id + i, code, t0, p, unit, channel))
        return out

    def run(
        self,
        sink,
        *,
        first_id: int = 1,
        sequences: Callable[[str], int] | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int = 1,
    ) -> SynthesisResult:
        result = SynthesisResult()
        pending: list[tuple[datetime, int, dict[str, Any]]] = []  # audit entries not yet due
        order = 0
        per_day = _shares(self.day_weights(), self.spec.dossiers)
        firsts = [first_id + sum(per_day[:n]) for n in range(len(per_day))]
        for n, histories in enumerate(self._days(per_day, firsts, sequences, workers)):
            for row, steps, rating, entries in histories:
                for entry in entries:
                    order += 1
                    heapq.heappush(pending, (entry["at"], order, entry))
                sink.dossier(row, steps, rating)
                result.dossiers += 1
                result.by_status[row["status"]] = result.by_status.get(row["status"], 0) + 1
            # Nothing made later happens before tomorrow: the entries before it can be chained.
            tomorrow = datetime.combine(self.spec.start + timedelta(days=n + 1), time(0), VN_TZ)
            while pending and pending[0][0] < tomorrow:
                sink.audit(heapq.heappop(pending)[2])
                result.audits += 1
            if progress:
                progress(result.dossiers)
        while pending:
            sink.audit(heapq.heappop(pending)[2])
            result.audits += 1
        return result

    def _days(self, per_day: list[int], firsts: list[int], sequences, workers: int):
        """Each day's histories in order; made here, or by ``workers`` forked processes (the
        same histories either way: a day depends only on the seed and its date)."""
        if workers <= 1:
            for n, count in enumerate(per_day):
                yield self.day(n, count, firsts[n], sequences)
            return
        global _FORKED
        _FORKED = (self, sequences)  # inherited by the forked workers
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            ahead: deque = deque()
            days = iter(range(len(per_day)))
            for n in days:
                ahead.append(pool.submit(_day_in_worker, n, per_day[n], firsts[n]))
                if len(ahead) >= 2 * workers:
                    break
            while ahead:
                histories = ahead.popleft().result()
                for n in days:  # keep the workers busy, a few days ahead at most
                    ahead.append(pool.submit(_day_in_worker, n, per_day[n], firsts[n]))
                    break
                yield histories
        _FORKED = None

    # --- one dossier ------------------------------------------------------------------------

    def life(
        self,
        rng: random.Random,
        dossier_id: int,
        code: str,
        t0: datetime,
        p: Procedure,
        unit: UnitRecord,
        channel: int,
    ) -> tuple[dict, list[dict], dict | None, list[dict]]:
        """One dossier's history from submission to the end (or to ``until``)."""
        m, c, cal, until = self.model, self.model.citizens, self.calendar, self.until
        directory = self.directory
        row = submitted_row(
            dossier_id, code, p, unit.code, channel, synthetic_applicant(rng, self.cccd_prefix), t0
        )
        cccd, fee = row["applicant_cccd"], row["fee_total"]
        steps: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        reception = self.officer("reception", unit.code)

        def entry(at: datetime, action: str, who: str, role: str, before, after, details) -> None:
            entries.append(audit_entry(at, action, who, role, code, before, after, details))

        entry(
            t0,
            "dossier.submit",
            cccd if channel == 2 else reception,
            "citizen" if channel == 2 else "reception",
            None,
            1,
            {"procedure": p.code, "channel": channel, "files": len(p.documents), "fee": fee},
        )
        plan = _Plan(rng, self.spec, m)
        state = {"last": t0}

        def due_events(at: datetime) -> None:
            """What happens on its own before ``at``: the apology, the overdue flag."""
            due = row["due_at"]
            if due is None or row["status"] not in RUNNING:
                return
            if plan.apologize and not row["apologized"] and row["status"] in APOLOGY_STATUSES:
                day = due.astimezone(VN_TZ).date() - timedelta(days=1)
                while not cal.is_working_day(day):
                    day -= timedelta(days=1)
                check_at = datetime.combine(day, time(16, 0), VN_TZ)
                if state["last"] < check_at < at and check_at < until:
                    new_due = datetime.combine(
                        cal.add_working_days(due.astimezone(VN_TZ).date(), m.apology.extra_working_days),
                        due.astimezone(VN_TZ).timetz(),
                    )
                    act(check_at, Action.APOLOGIZE, "reception", unit.code, new_due_at=new_due)
                    due = row["due_at"]
            # The housekeeping loop flags it within a minute of the appointment (or of the
            # moment the clock runs again past it).
            flag_at = max(due + timedelta(minutes=1), state["last"] + timedelta(seconds=30))
            if not row["overdue"] and flag_at < at and flag_at < until:
                row["overdue"] = True
                status = row["status"]
                entry(flag_at, "dossier.overdue", "system", "system", status, status, {})

        def act(
            at: datetime,
            action: Action,
            role: str,
            unit_code: str | None,
            *,
            owner: bool = False,
            new_due_at: datetime | None = None,
        ) -> bool:
            """Take ``action`` at ``at`` unless the history ends first; False if it does."""
            # Two actions on one dossier are never simultaneous: the next waits half a minute.
            at = max(at, state["last"] + timedelta(seconds=30))
            if at >= until:
                return False
            if action is not Action.APOLOGIZE:
                due_events(at)
            who = cccd if owner else ("system" if role == "system" else self.officer(role, unit_code))
            actor = actor_at(row, role, unit_code, is_owner=owner)
            done = record(
                row,
                p,
                action,
                actor,
                at,
                cal,
                directory,
                reasons=REASONS.get(action, ()),
                new_due_at=new_due_at,
            )
            if isinstance(done, Refusal):  # the generator must take allowed actions only
                raise LoadError(f"{code}: {action.value} by {role} refused: {done.reason}")
            before = apply_in_memory(row, steps, done, at, who)
            entry(
                at,
                f"dossier.{action.value}",
                who,
                "citizen" if owner else role,
                before,
                row["status"],
                done.audit_details,
            )
            state["last"] = at
            return True

        rating = None
        self._run(rng, row, p, unit, channel, plan, act, due_events, t0)
        if row["status"] in (3, 10) and rng.random() < c.rates:
            rating = self._rating(rng, row, entry)
        elif row["status"] not in (3, 8, 10):
            due_events(until)
        return row, steps, rating, entries

    def _run(self, rng, row, p: Procedure, unit: UnitRecord, channel: int, plan: _Plan, act, due_events, t0):
        cal, c = self.calendar, self.model.citizens
        if row["fee_due"] and channel == 2 and plan.pays_online:  # the gateway's confirmed callback
            if not act(t0 + timedelta(minutes=rng.uniform(1, 15)), Action.PAY, "system", None):
                return
        # Intake: at the counter while the citizen waits; online, within office hours.
        if channel == 1:
            t = t0 + timedelta(minutes=rng.uniform(3, 20))
        else:
            t = cal.add_working_hours(t0, _lognormal(rng, 2.0 if channel == 2 else 4.0, 0.8))
        if plan.rejected:
            act(t, Action.REJECT, "reception", unit.code)
            return
        if plan.incomplete:
            if not act(t, Action.REQUEST_SUPPLEMENT, "reception", unit.code):
                return
            t += timedelta(days=_lognormal(rng, c.supplement_days.median, c.supplement_days.sigma))
            if not act(t, Action.SUPPLEMENT, "citizen", None, owner=True):
                return
            t = cal.add_working_hours(t, _lognormal(rng, 1.0, 0.8))
        if not act(t, Action.RECEIVE, "reception", unit.code):
            return
        if row["fee_due"] and not row["paid"]:
            if not act(t + timedelta(minutes=2), Action.PAY, "reception", unit.code):
                return
        last = len(p.workflow) - 1
        ends = plan.step_ends(cal, p, 0, t, row["due_at"])
        position = 0
        while position < last:
            t = ends[position]
            if position == plan.withdraw_at:
                t_withdraw = row["step_started_at"] + (t - row["step_started_at"]) / 2
                if act(t_withdraw, Action.WITHDRAW, "citizen", None, owner=True):
                    act(
                        cal.add_working_hours(t_withdraw, rng.uniform(0.5, 8)),
                        Action.STOP,
                        "reception",
                        unit.code,
                    )
                return
            if position == plan.supplement_at and row["step_role"] == "specialist" and not row["supplements"]:
                t_ask = row["step_started_at"] + (t - row["step_started_at"]) / 2
                if not act(t_ask, Action.REQUEST_SUPPLEMENT, "specialist", row["step_unit"]):
                    return
                back = t_ask + timedelta(
                    days=_lognormal(rng, c.supplement_days.median, c.supplement_days.sigma)
                )
                if not act(back, Action.SUPPLEMENT, "citizen", None, owner=True):
                    return
                # The time limit restarted (Art. 19.4): the rest is planned against the new date.
                ends = plan.step_ends(cal, p, position, back, row["due_at"], restart=True)
                plan.supplement_at = -1
                continue
            if position == last - 1:
                action = Action.REFUSE if plan.refused else Action.APPROVE
            else:
                action = Action.FORWARD
            if not act(t, action, row["step_role"], row["step_unit"]):
                return
            position += 1
        # The result waits at the one-stop unit until it is handed over.
        t = cal.add_working_hours(t, _lognormal(rng, 3.0, 1.0))
        act(t, Action.RETURN_RESULT, row["step_role"], row["step_unit"])

    def _rating(self, rng: random.Random, row: dict, entry) -> dict | None:
        r = self.model.ratings
        ended = row["returned_at"] or row["finished_at"]
        rated_at = ended + timedelta(minutes=rng.uniform(5, 2 * 24 * 60))
        if rated_at >= self.until:
            return None
        level = r.draw(rng, row)
        harassment = level == 1 and rng.random() < 0.2
        source = "online" if row["channel"] == 2 else "paper"
        details = {
            "level": level,
            "reception_contacts": row["supplements"],
            "agencies_contacted": 1,
            "harassment": harassment,
            "source": source,
        }
        who = (
            row["applicant_cccd"] if source == "online" else self.officer("reception", row["receiving_unit"])
        )
        entry(
            rated_at,
            "rating.create",
            who,
            "citizen" if source == "online" else "reception",
            None,
            None,
            details,
        )
        return rating_row(row, level, rated_at, source, harassment)


#: The synthesizer and the counters' reader, as the forked workers inherit them.
_FORKED: tuple[Synthesizer, Callable[[str], int] | None] | None = None


def _day_in_worker(n: int, count: int, first_id: int) -> list[tuple]:
    assert _FORKED is not None
    synthesizer, sequences = _FORKED
    return synthesizer.day(n, count, first_id, sequences)


class _Plan:
    """A dossier's fate, drawn once: what goes wrong, and how much of its time it uses."""

    __slots__ = (
        "rng",
        "rejected",
        "incomplete",
        "supplement_at",
        "refused",
        "withdraw_at",
        "late",
        "apologize",
        "pays_online",
    )

    def __init__(self, rng: random.Random, spec: SynthesisSpec, m: Model) -> None:
        c = m.citizens
        self.rng = rng
        self.rejected = rng.random() < c.rejected_at_intake
        self.incomplete = rng.random() < c.incomplete
        self.supplement_at = 1 if rng.random() < c.supplement_in_processing else -1
        self.refused = rng.random() < c.refused
        self.withdraw_at = rng.randrange(1, 3) if rng.random() < c.withdrawn else -1
        self.late = rng.random() < spec.late
        self.apologize = self.late and rng.random() < spec.apologized
        self.pays_online = rng.random() < c.pays_online

    def step_ends(
        self,
        cal: WorkingCalendar,
        p: Procedure,
        position: int,
        start: datetime,
        due: datetime,
        restart: bool = False,
    ) -> dict[int, datetime]:
        """When each step from ``position`` to the decision ends, from ``start``: the work
        shared by the steps' budgets, its total a fraction of the time to the appointment
        (more than all of it when the dossier is to be late)."""
        rng = self.rng
        last = len(p.workflow) - 1
        available = cal.working_hours_between(start, due)
        if self.late:
            # Late: past the appointment; with an apology mostly within the new date (a few
            # working days later), without one by up to a third of the time limit more.
            overrun = rng.uniform(0.5, 20.0) if self.apologize else rng.uniform(1.0, 8.0 + available / 3)
            total = available + overrun
        else:
            share = min(rng.betavariate(2.0, 3.0) * 1.1, 0.97) if not restart else rng.uniform(0.2, 0.9)
            total = max(available * share, 0.05)
        weights = [p.workflow[i].hours * rng.uniform(0.5, 1.5) for i in range(position, last)]
        whole = sum(weights) or 1.0
        ends, done = {}, 0.0
        for i, w in zip(range(position, last), weights, strict=True):
            done += total * w / whole
            ends[i] = cal.add_working_hours(start, max(done, 0.02 * (i - position + 1)))
        return ends


def synthesize(
    spec: SynthesisSpec,
    province: ProvinceView,
    sink,
    *,
    first_id: int = 1,
    sequences: Callable[[str], int] | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> SynthesisResult:
    """Make ``spec.dossiers`` histories and hand them to ``sink`` (a ``HistoryWriter`` or any
    object with ``audit(entry)`` and ``dossier(row, steps, rating)``): dossiers in order of
    submission, audit entries in time order. Deterministic for a seed, whatever the number
    of ``workers`` (processes making days in parallel; the chain is hashed here)."""
    return Synthesizer(spec, province, load_model(spec.model)).run(
        sink, first_id=first_id, sequences=sequences, progress=progress, workers=workers
    )


async def province_view() -> ProvinceView:
    """The province in the database (seeded), with the catalogue and the calendar."""
    from app.db.tables import Setting
    from app.services.calendar import default_calendar
    from app.services.directory import load_directory
    from app.services.seeding import load_province
    from procedures.loader import default_catalogue

    directory = await load_directory()
    if not len(directory):
        raise LoadError("no province in the database: run `portal seed` first")
    key = await Setting.select(Setting.value).where(Setting.key == "province").first()
    prefix = load_province(key["value"])[0].cccd_prefix if key else "015"
    return ProvinceView(directory, default_catalogue(), default_calendar(), prefix)


async def load(
    spec: SynthesisSpec,
    *,
    batch_size: int = 50_000,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    sink_wrapper: Callable[[HistoryWriter], Any] | None = None,
) -> tuple[SynthesisResult, HistoryWriter]:
    """Synthesize ``spec`` into the current database; returns what was made and the writer
    (its ``written`` counts). ``sink_wrapper`` may wrap the writer (tests keep a copy)."""
    province = await province_view()
    writer = await HistoryWriter.open(batch_size=batch_size)
    sink = sink_wrapper(writer) if sink_wrapper else writer
    result = await writer.drive(
        lambda: synthesize(
            spec,
            province,
            sink,
            first_id=writer.next_id,
            sequences=writer.last_sequence,
            progress=progress,
            workers=workers,
        )
    )
    await writer.close()
    return result, writer


__all__ = [
    "Batch",
    "HistoryWriter",
    "LoadError",
    "ProvinceView",
    "SynthesisResult",
    "SynthesisSpec",
    "load",
    "province_view",
    "synthesize",
]
