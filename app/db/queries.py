"""Statements written once for the busiest reads.

Reading one row by its key — a dossier by code for every look-up, detail page and action, the
caller's account for every request with a bearer token — is the commonest query there is.
Piccolo building the same SELECT again for each request took a quarter of an anonymous
look-up's time, so these statements are written once from the table's own column metadata and
run through Piccolo's ``raw()``, which gives the same dicts as ``select()`` (compared in
tests/integration/test_dossier_journey.py and test_access.py on both databases).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

_WRITTEN: dict[tuple[str, str, tuple[str, ...]], str] = {}


def select_by(table: type[Table], key: Column, columns: tuple[Column, ...] = ()) -> str:
    """``SELECT <columns, or all> FROM <table> WHERE <key> = {}``, for ``table.raw(sql, value)``."""
    names = tuple(c._meta.db_column_name for c in columns or table._meta.columns)
    cache_key = (table._meta.tablename, key._meta.db_column_name, names)
    sql = _WRITTEN.get(cache_key)
    if sql is None:
        listed = ", ".join(f'"{name}"' for name in names)
        sql = f'SELECT {listed} FROM "{cache_key[0]}" WHERE "{cache_key[1]}" = {{}}'
        _WRITTEN[cache_key] = sql
    return sql


async def one_by(
    table: type[Table], key: Column, value: Any, columns: tuple[Column, ...] = ()
) -> dict | None:
    """The row whose ``key`` is ``value`` (a unique key), or None."""
    rows = await table.raw(select_by(table, key, columns), value)
    return rows[0] if rows else None
