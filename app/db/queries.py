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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from piccolo.columns import JSON, JSONB, Column
from piccolo.columns.defaults.base import Default
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.methods.raw import Raw
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from app.db.engine import KeptConnectionsSQLiteEngine


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
    sql = select_by(table, key, columns)
    engine = table._meta.db
    rows = None
    if isinstance(engine, KeptConnectionsSQLiteEngine):
        rows = engine.read_here(_numbered(sql, "sqlite"), (value,))
    if rows is None:
        rows = await run(table, sql, value)
    return rows[0] if rows else None


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
    #: Per column: its default as sent, _PER_ROW or _REQUIRED.
    defaults: tuple[Any, ...]


@functools.cache
def _plan(table: type[Table]) -> _InsertPlan:
    columns = tuple(c for c in table._meta.columns if not c._meta.primary_key)
    return _InsertPlan(columns, frozenset(c._meta.name for c in columns), tuple(_default(c) for c in columns))


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
    plan = _plan(table)
    args: list[Any] = []
    for row in rows:
        if unknown := row.keys() - plan.names:
            raise TypeError(f"{table.__name__} has no column {', '.join(sorted(unknown))}")
        for column, default in zip(plan.columns, plan.defaults, strict=True):
            if (name := column._meta.name) in row:
                args.append(_sql_value(row[name], column))
            elif default is _PER_ROW:
                args.append(_per_row(column))
            elif default is _REQUIRED:
                raise ValueError(f"{table.__name__}.{name} wasn't provided")
            else:
                args.append(default)
    names = tuple(c._meta.db_column_name for c in returning)
    return await run(table, insert_sql(table, len(rows), names), *args)
