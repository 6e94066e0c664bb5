"""Statements written once for the busiest reads and writes.

Reading one row by its key — a dossier by code for every look-up, detail page and action, the
caller's account for every request with a bearer token — is the commonest query there is.
Piccolo building the same SELECT again for each request took a quarter of an anonymous
look-up's time, so these statements are written once from the table's own column metadata and
run as Piccolo's ``raw()`` queries would run them (on PostgreSQL straight to asyncpg; on SQLite
a read by key on the calling thread, ``KeptConnectionsSQLiteEngine.read_here``), which give
the same dicts as ``select()`` (compared in tests/integration/test_dossier_journey.py and
test_access.py on both databases). The same goes
for the INSERTs of a submission or an action (``insert_rows``).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from piccolo.columns import JSON, JSONB, Column
from piccolo.columns.defaults.base import Default
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.methods.raw import Raw
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from app.db.engine import KeptConnectionsSQLiteEngine, write_transaction


def quoted(names) -> str:
    """``"a", "b"``: column names for a statement."""
    return ", ".join(f'"{name}"' for name in names)


@functools.cache
def _numbered(template: str, engine_type: str) -> str:
    return QueryString(template, *range(template.count("{}"))).compile_string(engine_type)[0]


class _Written(QueryString):
    """A statement written once, with its values: its ``{}`` placeholders are numbered once
    per engine type. (``QueryString`` parses its template into fragments at every run — for a
    dossier's 36-column INSERT a tenth of a submission's time.) The values are plain values,
    never columns or nested QueryStrings, so ``QueryString.__init__``'s pass over them is
    skipped too."""

    def __init__(self, template: str, args: tuple[Any, ...]) -> None:
        self.template, self.args, self.columns = template, args, []
        self.query_type, self.table, self._alias = "generic", None, None
        self._frozen_compiled_strings = None

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list[Any]]:
        return _numbered(self.template, engine_type), list(self.args)


async def run(table: type[Table], sql: str, *values: Any) -> list[dict[str, Any]]:
    """Run a statement written once (``{}`` for each value) as a raw query on ``table``. Its
    text is kept, numbered, per engine: it must not vary with the values."""
    engine = table._meta.db
    if type(engine) is PostgresEngine and engine.pool is not None:
        return [dict(record) for record in await _fetch(engine, _numbered(sql, "postgres"), values)]
    return await Raw(table=table, querystring=_Written(sql, values))


async def read(table: type[Table], sql: str, *values: Any) -> Sequence[Mapping[str, Any]]:
    """``run`` for a caller that only reads the rows by column name: on PostgreSQL they are
    asyncpg's read-only Records, not copied into dicts (a tenth of an officer's queue page,
    stop 17)."""
    engine = table._meta.db
    if type(engine) is PostgresEngine and engine.pool is not None:
        return await _fetch(engine, _numbered(sql, "postgres"), values)
    return await Raw(table=table, querystring=_Written(sql, values))


async def _fetch(engine: PostgresEngine, text: str, values: tuple[Any, ...]) -> list[Any]:
    """What Piccolo's ``raw()`` does on PostgreSQL — on the transaction's connection if one is
    under way, else on one from the pool — without the query object, its engine look-up and
    its pass over the results: the look-up's query 35 -> 30 µs (bench/README.md, stop 17)."""
    transaction = engine.current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(text, *values)
    async with engine.pool.acquire() as connection:
        return await connection.fetch(text, *values)


def select_by(table: type[Table], key: Column, columns: tuple[Column, ...] = (), tail: str = "") -> str:
    """``SELECT <columns, or all> FROM <table> WHERE <key> = {}<tail>``, for ``run(table, sql, value)``."""
    names = tuple(c._meta.db_column_name for c in columns or table._meta.columns)
    return _select_sql(table._meta.tablename, key._meta.db_column_name, names, tail)


# Written once per shape, from names (Columns cannot be cache keys: their == builds SQL).
@functools.cache
def _select_sql(tablename: str, key: str, names: tuple[str, ...], tail: str) -> str:
    return f'SELECT {quoted(names)} FROM "{tablename}" WHERE "{key}" = {{}}{tail}'


async def one_by(
    table: type[Table], key: Column, value: Any, columns: tuple[Column, ...] = ()
) -> dict | None:
    """The row whose ``key`` is ``value`` (a unique key), or None."""
    rows = await read_short(table, select_by(table, key, columns), value)
    return dict(rows[0]) if rows else None


async def read_short(table: type[Table], sql: str, *values: Any) -> Sequence[Mapping[str, Any]]:
    """``read`` for a short read — a row by a unique key, a page along an index — which on
    SQLite runs on the calling thread (``KeptConnectionsSQLiteEngine.read_here``) instead of
    hopping to a reader thread and back: under load that hop, the GIL handed between the event
    loop and the readers, was three quarters of the CPU of an officer's queue page on SQLite
    (bench/README.md, stop 23). Never for a read whose size grows with the tables."""
    engine = table._meta.db
    if isinstance(engine, KeptConnectionsSQLiteEngine):
        rows = engine.read_here(_numbered(sql, "sqlite"), values)
        if rows is not None:
            return rows
    return await read(table, sql, *values)


# --- inserts ---------------------------------------------------------------------------------
# Piccolo's insert builds a nested QueryString per column of every row (Table.__init__ for the
# defaults, then Insert.default_querystrings): a third of a submission's CPU time went to
# writing its four INSERTs. These are written once per table and row count, with the same
# values Piccolo would send: a column not given takes its default as ``Table(...)`` would, a
# JSON column given a non-string is dumped, an Enum gives its value.

_PER_ROW = object()  # a default computed per row (TimestamptzNow, a callable)
_REQUIRED = object()  # no default: NOT NULL without one


@dataclass(frozen=True)
class _InsertPlan:
    columns: tuple[Column, ...]
    names: frozenset[str]
    #: Per column: its name, the column, its default as sent (or _PER_ROW, _REQUIRED) and
    #: whether it holds JSON.
    each: tuple[tuple[str, Column, Any, bool], ...]
    by_db_name: Mapping[str, Column]


@functools.cache
def _plan(table: type[Table]) -> _InsertPlan:
    columns = tuple(c for c in table._meta.columns if not c._meta.primary_key)
    return _InsertPlan(
        columns,
        frozenset(c._meta.name for c in columns),
        tuple((c._meta.name, c, _default(c), isinstance(c, (JSON, JSONB))) for c in columns),
        {c._meta.db_column_name: c for c in table._meta.columns},
    )


def _default(column: Column) -> Any:
    default = getattr(column, "default", None)
    if isinstance(default, Default) or callable(default):
        return _PER_ROW
    value = column.get_default_value()
    return _REQUIRED if value is None and not column._meta.null else _sql_value(value, column)


def _per_row(column: Column) -> Any:
    value = column.get_default_value()  # as Table.__init__ computes it
    return _sql_value(value.python() if isinstance(value, Default) else value, column)


def _sql_value(value: Any, column: Column) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(column, (JSON, JSONB)) and value is not None and not isinstance(value, str):
        return dump_json(value)
    return value


@functools.cache
def insert_sql(table: type[Table], rows: int, returning: tuple[str, ...] = ()) -> str:
    """``INSERT INTO <table> (<every column but the key>) VALUES (…)×rows [RETURNING …]``."""
    names = [c._meta.db_column_name for c in _plan(table).columns]
    values = ", ".join(["(" + ", ".join(["{}"] * len(names)) + ")"] * rows)
    sql = f'INSERT INTO "{table._meta.tablename}" ({quoted(names)}) VALUES {values}'
    return sql + (f" RETURNING {quoted(returning)}" if returning else "")


async def insert_rows(
    table: type[Table], *rows: dict[str, Any], returning: tuple[Column, ...] = ()
) -> list[dict[str, Any]]:
    """Insert ``rows`` (column name → value); returns the ``returning`` columns of each."""
    if not rows:
        return []
    names = tuple(c._meta.db_column_name for c in returning)
    return await run(table, insert_sql(table, len(rows), names), *_insert_args(table, rows))


def _insert_args(table: type[Table], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """The values of ``insert_sql(table, len(rows))``, in its order (``_sql_value`` of each,
    written out: this loop runs for every column of every row written)."""
    plan = _plan(table)
    args: list[Any] = []
    for row in rows:
        if unknown := row.keys() - plan.names:
            raise TypeError(f"{table.__name__} has no column {', '.join(sorted(unknown))}")
        for name, column, default, holds_json in plan.each:
            if name in row:
                value = row[name]
                if isinstance(value, Enum):
                    value = value.value
                elif holds_json and value is not None and not isinstance(value, str):
                    value = dump_json(value)
                args.append(value)
            elif default is _PER_ROW:
                args.append(_per_row(column))
            elif default is _REQUIRED:
                raise ValueError(f"{table.__name__}.{name} wasn't provided")
            else:
                args.append(default)
    return args


# --- writes committed together ----------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value an earlier write of the same ``Writes`` returns: ``column`` of its one row."""

    step: int
    column: str


@dataclass(frozen=True)
class Splice:
    """Text standing in later writes' text values for a value an earlier write returns (a
    dossier's number of the day, taken in the same statement): wherever ``mark`` occurs, the
    value of ``ref`` takes its place as the statement runs. The mark is random, so no text a
    person typed holds it."""

    mark: str
    ref: Ref


class Step(Protocol):
    """One write of a ``Writes``. ``returning``: the columns of the one row it gives back
    (none: it gives nothing back)."""

    returning: tuple[str, ...]

    def clause(self) -> tuple[str, list[Any]]:
        """PostgreSQL: the statement of its WITH clause (``{}`` per value, the same text for
        the same shape of write) and its values."""

    async def run(self, earlier: list[dict[str, Any] | None]) -> dict[str, Any] | None:
        """SQLite, inside the write transaction: do it; ``earlier`` holds each earlier step's row."""

    def replacing(self, mark: str, text: str) -> Step:
        """SQLite: the same write with ``text`` wherever ``mark`` occurs in a text value."""


@dataclass(frozen=True)
class _Insert:
    table: type[Table]
    rows: tuple[dict[str, Any], ...]
    returning: tuple[str, ...]

    def clause(self) -> tuple[str, list[Any]]:
        args = _insert_args(self.table, self.rows)
        refs = tuple((i, value) for i, value in enumerate(args) if isinstance(value, Ref))
        if not refs:
            return insert_sql(self.table, len(self.rows), self.returning), args
        text = _insert_referring(self.table, len(self.rows), self.returning, refs)
        return text, [value for value in args if not isinstance(value, Ref)]

    async def run(self, earlier: list[dict[str, Any] | None]) -> dict[str, Any] | None:
        rows = [
            {k: earlier[v.step][v.column] if isinstance(v, Ref) else v for k, v in row.items()}
            for row in self.rows
        ]
        returning = tuple(_plan(self.table).by_db_name[name] for name in self.returning)
        inserted = await insert_rows(self.table, *rows, returning=returning)
        return inserted[0] if returning else None

    def replacing(self, mark: str, text: str) -> _Insert:
        return _Insert(self.table, tuple(replaced(row, mark, text) for row in self.rows), self.returning)


def replaced(row: Mapping[str, Any], mark: str, text: str) -> dict[str, Any]:
    """``row`` with ``text`` for ``mark`` in its text values (a ``Splice``'s mark stands in text)."""
    return {k: v.replace(mark, text) if isinstance(v, str) else v for k, v in row.items()}


@functools.cache
def _with_places(text: str, places: tuple[tuple[int, str], ...]) -> str:
    """``text`` with its ``{}`` at the given places (counted from 0) written as given."""
    parts, taken = text.split("{}"), dict(places)
    return "".join(part + (taken.get(i, "{}") if i < len(parts) - 1 else "") for i, part in enumerate(parts))


def _insert_referring(
    table: type[Table], rows: int, returning: tuple[str, ...], refs: tuple[tuple[int, Ref], ...]
) -> str:
    """``insert_sql`` with the values at the given places taken from earlier WITH clauses."""
    taken = tuple((i, f'(SELECT "{r.column}" FROM w{r.step})') for i, r in refs)
    return _with_places(insert_sql(table, rows, returning), taken)


def _spliced(text: str, values: list[Any], splice: Splice) -> tuple[str, list[Any]]:
    """A clause whose text values holding the splice's mark have it replaced as it runs."""
    mark, marked, args = splice.mark, [], []
    for i, value in enumerate(values):  # one pass: it runs over every value of a submission
        args.append(value)
        if isinstance(value, str) and mark in value:
            marked.append(i)
            args.append(mark)  # each marked value and the mark are the next two values of replace()
    if not marked:
        return text, values
    by = f'replace({{}}, {{}}, (SELECT "{splice.ref.column}" FROM w{splice.ref.step}))'
    return _with_places(text, tuple((i, by) for i in marked)), args


@functools.cache
def _with_statement(clauses: tuple[str, ...], returning: tuple[tuple[str, ...], ...]) -> str:
    """The one statement of ``Writes``: its clauses, then a row of every wanted column.

    A WITH clause that reads but does not write runs only when the statement reads it: every
    step whose row is wanted is read here (steps that only write always run)."""
    wanted = [n for n, names in enumerate(returning) if names]
    columns = ", ".join(f'w{n}."{c}"' for n in wanted for c in returning[n]) or "1"
    sql = "WITH " + ", ".join(f"w{n} AS ({text})" for n, text in enumerate(clauses)) + f" SELECT {columns}"
    return sql + (" FROM " + ", ".join(f"w{n}" for n in wanted) if wanted else "")


class Writes:
    """Writes that commit together, in as few round trips as the database allows.

    PostgreSQL: one statement, each write a data-modifying WITH clause, committed by the server
    as soon as it ends. A submission's four INSERTs in a transaction were six round trips; and
    the audit chain's lock, taken by its last write, stayed held until the application's event
    loop got round to sending COMMIT — under load the wait every write of the province queued
    behind (bench/README.md, stop 20). SQLite (in-process, one writer at a time): one write
    transaction running them in order.

    A write whose row is wanted (``returning``) gives exactly one row; a later write may use
    its values (``ref``), also inside its text (``splice``). Inside a transaction already under
    way, they join it."""

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._splice: Splice | None = None

    def insert(self, table: type[Table], *rows: dict[str, Any], returning: tuple[Column, ...] = ()) -> int:
        """Insert ``rows`` (column name → value, or a ``Ref``); returns the step's number."""
        if returning and len(rows) != 1:
            raise ValueError("a write whose row is wanted inserts one row")
        return self.add(_Insert(table, rows, tuple(c._meta.db_column_name for c in returning)))

    def add(self, step: Step) -> int:
        self._steps.append(step)
        return len(self._steps) - 1

    def ref(self, step: int, column: Column) -> Ref:
        return Ref(step, column._meta.db_column_name)

    def splice(self, step: int, column: str) -> str:
        """A mark to write in later writes' text where ``step``'s ``column`` will stand (text
        values only: not inside JSON). One splice per ``Writes``."""
        if self._splice is not None:
            raise ValueError("one splice per Writes")
        self._splice = Splice("#" + secrets.token_hex(8) + "#", Ref(step, column))
        return self._splice.mark

    async def commit(self, table: type[Table]) -> list[dict[str, Any] | None]:
        """Run them (as raw queries on ``table``'s engine); each step's row, or None."""
        engine, splice = table._meta.db, self._splice
        if type(engine) is not PostgresEngine:
            rows: list[dict[str, Any] | None] = []
            async with write_transaction():
                for n, step in enumerate(self._steps):
                    if splice and n > splice.ref.step:
                        step = step.replacing(splice.mark, rows[splice.ref.step][splice.ref.column])  # type: ignore[index]
                    rows.append(await step.run(rows))
            return rows
        clauses, args = [], []
        for n, step in enumerate(self._steps):
            text, values = step.clause()
            if splice and n > splice.ref.step:
                text, values = _spliced(text, values, splice)
            clauses.append(text)
            args.extend(values)
        returning = tuple(step.returning for step in self._steps)
        (row,) = await read(table, _with_statement(tuple(clauses), returning), *args)
        values = iter(row.values())  # one iterator: each step's zip takes its columns in turn
        return [dict(zip(names, values)) if names else None for names in returning]  # noqa: B905
