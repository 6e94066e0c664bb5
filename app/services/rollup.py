"""Keeping the statistics' rollup (app/domain/rollup.py) in step with the dossiers.

Every service that changes what a dossier counts for — a transition, a rating, a
complaint, a payment — wraps its write transaction's work in ``tracked(code)``: the
dossier's facts are read before and after, and the difference is added to the rollup in
the same transaction. The bulk writer adds its rows' facts itself; ``rebuild`` recomputes
the whole rollup from the tables (after a migration, or to check the kept one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from app.db.engine import write_transaction
from app.db.queries import run
from app.db.tables import Dossier
from app.domain.rollup import (
    OFFICER_FIGURES,
    UNIT_FIGURES,
    DossierFacts,
    Rollup,
    change,
    facts_from_rows,
)

UNIT_KEY = ("month", "unit_code", "procedure_code")
OFFICER_KEY = ("month", "actor", "step_unit", "unit_code", "procedure_code")

_FACTS = """
    SELECT d.id, d.receiving_unit, d.procedure_code, d.channel, d.status, d.received_at,
      d.finished_at, d.due_at, d.outcome, d.timeliness, d.apologized, d.supplements, d.fee_total,
      d.signatures, r.level, r.reception_contacts, r.agencies_contacted, r.harassment,
      EXISTS (SELECT 1 FROM payment p WHERE p.dossier_code = d.code AND p.state = 'succeeded')
        AS paid_online,
      EXISTS (SELECT 1 FROM dossier_document dd WHERE dd.dossier_id = d.id
        AND dd.kind IN ('upload', 'supplement')) AS digitised,
      EXISTS (SELECT 1 FROM feedback f WHERE f.dossier_code = d.code) AS complained
    FROM dossier d LEFT JOIN rating r ON r.dossier_id = d.id
"""
_STEPS = """
    SELECT dossier_id, actor, unit_code, timeliness, handoff, finished_at FROM dossier_step
    WHERE finished_at IS NOT NULL AND dossier_id {}
    ORDER BY dossier_id, position, id
"""


def _moment(value: Any) -> datetime | None:
    # Columns come back as datetimes; SQLite returns text where it cannot see the column type.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _facts(row: dict[str, Any], steps: list[dict[str, Any]]) -> DossierFacts:
    for column in ("received_at", "finished_at", "due_at"):
        row[column] = _moment(row[column])
    return facts_from_rows(
        row,
        steps,
        row,  # the rating's columns are in the row (NULL when there is none)
        paid_online=bool(row["paid_online"]),
        digitised=bool(row["digitised"]),
        complained=bool(row["complained"]),
    )


async def facts(code: str) -> DossierFacts | None:
    """The facts of one dossier as the current transaction sees it."""
    rows = await run(Dossier, _FACTS + " WHERE d.code = {}", code)
    if not rows:
        return None
    row = rows[0]
    steps = []
    if row["finished_at"] is not None:  # steps count once the dossier has finished
        steps = await run(Dossier, _STEPS.format("= {}"), row["id"])
    return _facts(row, steps)


@asynccontextmanager
async def tracked(code: str) -> AsyncIterator[None]:
    """Inside a write transaction: whatever the block changes about dossier ``code`` is
    carried into the rollup before the transaction commits (and rolled back with it)."""
    before = await facts(code)
    yield
    await write(change(before, await facts(code)))


async def write(delta: Rollup) -> None:
    """Add ``delta`` to the rollup tables (in the caller's transaction)."""
    for table, key, names, rows in _tables(delta):
        for row in rows:
            await run(Dossier, upsert(table, key, names, "{}"), *row)


def _tables(delta: Rollup) -> Iterable[tuple[str, tuple[str, ...], tuple[str, ...], list[tuple]]]:
    yield "stats_month", UNIT_KEY, UNIT_FIGURES, delta.unit_rows()
    yield "stats_officer_month", OFFICER_KEY, OFFICER_FIGURES, delta.officer_rows()


def upsert(table: str, key: tuple[str, ...], names: tuple[str, ...], mark: str) -> str:
    """INSERT … ON CONFLICT that adds to the existing sums (SQLite and PostgreSQL alike).
    ``mark`` is the placeholder: ``{}`` (Piccolo), ``?`` (sqlite3) or ``$`` (asyncpg, numbered)."""
    columns = key + names
    marks = [f"${i}" for i in range(1, len(columns) + 1)] if mark == "$" else [mark] * len(columns)
    sums = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in names)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sums}"
    )


def upserts(delta: Rollup, mark: str) -> list[tuple[str, list[tuple]]]:
    """The statements and rows that add ``delta`` (for the bulk writer's own connections)."""
    return [(upsert(table, key, names, mark), rows) for table, key, names, rows in _tables(delta) if rows]


async def computed(chunk: int = 20_000) -> Rollup:
    """The rollup as the tables say it should be: every dossier's facts added up."""
    total = Rollup()
    [top] = await Dossier.raw("SELECT MIN(id) AS low, MAX(id) AS high FROM dossier")
    if top["low"] is None:
        return total
    for low in range(top["low"], top["high"] + 1, chunk):
        high = low + chunk - 1
        rows = await Dossier.raw(_FACTS + " WHERE d.id BETWEEN {} AND {}", low, high)
        steps: dict[int, list[dict[str, Any]]] = {}
        for s in await Dossier.raw(_STEPS.format("BETWEEN {} AND {}"), low, high):
            steps.setdefault(s["dossier_id"], []).append(s)
        for row in rows:
            total.add(_facts(row, steps.get(row["id"], [])))
    return total


async def rebuild() -> dict[str, int]:
    """Replace the rollup by one recomputed from every dossier (one transaction); returns
    the number of rows of each table."""
    async with write_transaction():
        return await replace()


async def replace() -> dict[str, int]:
    """``rebuild`` inside the caller's transaction (a migration's)."""
    total = await computed()
    for table, *_ in _tables(total):
        await Dossier.raw(f"DELETE FROM {table}")
    await _insert_all(total)
    return {table: len(rows) for table, _, _, rows in _tables(total)}


async def _insert_all(total: Rollup) -> None:
    for table, key, names, rows in _tables(total):
        columns = key + names
        width = len(columns)
        # Multi-row VALUES, under SQLite's limit of 32,766 host parameters per statement.
        per = max(1, 30_000 // width)
        for i in range(0, len(rows), per):
            part = rows[i : i + per]
            values = ", ".join("(" + ", ".join(["{}"] * width) + ")" for _ in part)
            await Dossier.raw(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}",
                *[v for row in part for v in row],
            )


async def differences() -> dict[str, int]:
    """How many rollup rows differ from what the tables say (per table; all 0 when the
    rollup kept change by change is right). For tests and ``portal rollup --check``."""
    out = {}
    for table, key, names, rows in _tables(await computed()):
        columns = key + names
        kept = {
            tuple(r[c] for c in columns)
            for r in await Dossier.raw(f"SELECT {', '.join(columns)} FROM {table}")
            if any(r[n] for n in names)
        }
        out[table] = len(kept ^ set(rows))
    return out
