"""Migrations of SQL written by hand: what only PostgreSQL needs (functions, triggers, partial
indexes, constraints; SQLite needs none of them, as it has one writer at a time and
``data_version`` tells of changes, or cannot take them, as a CHECK added to an existing table),
and indexes dropped on both databases."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

Migration = Callable[[], Awaitable[MigrationManager]]


async def _run(statements: Sequence[str], postgres_only: bool) -> None:
    from app.db.tables import Dossier  # every table shares the one engine

    engine = Dossier._meta.db
    if isinstance(engine, PostgresEngine) or not postgres_only:
        for statement in statements:  # one each: Piccolo's run_ddl prepares what it runs
            await engine.run_ddl(statement)


def _migration(
    migration_id: str,
    description: str,
    forwards: Sequence[str],
    backwards: Sequence[str],
    postgres_only: bool,
) -> Migration:
    async def migration() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name="portal", description=description)
        # partial keeps them coroutine functions, which Piccolo awaits (a lambda it would not)
        manager.add_raw(functools.partial(_run, tuple(forwards), postgres_only))
        manager.add_raw_backwards(functools.partial(_run, tuple(backwards), postgres_only))
        return manager

    return migration


def postgres_migration(
    migration_id: str, description: str, forwards: Sequence[str], backwards: Sequence[str]
) -> Migration:
    """A migration module's ``forwards``: on PostgreSQL it runs ``forwards`` in order, and
    ``backwards`` to undo them; on SQLite it is recorded and does nothing."""
    return _migration(migration_id, description, forwards, backwards, postgres_only=True)


def sql_migration(
    migration_id: str, description: str, forwards: Sequence[str], backwards: Sequence[str]
) -> Migration:
    """``postgres_migration`` for SQL both databases take alike: run on either."""
    return _migration(migration_id, description, forwards, backwards, postgres_only=False)


def dropped_indexes(migration_id: str, description: str, indexes: Mapping[str, str]) -> Migration:
    """A migration module's ``forwards`` dropping ``indexes`` on both databases (name →
    ``table (columns)``, what undoing it creates again)."""
    drop = [f"DROP INDEX IF EXISTS {name}" for name in indexes]
    create = [f"CREATE INDEX IF NOT EXISTS {name} ON {on}" for name, on in indexes.items()]
    return sql_migration(migration_id, description, drop, create)


def change_notice(
    table: str, channel: str, key: str, watched: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The statements that make, and those that drop, the trigger telling each server process
    that a row it may keep in memory changed (app/db/row_cache.py): when one of the ``watched``
    columns changes or the row goes, ``NOTIFY <channel>, <key of the old row>`` as the
    transaction commits (PostgreSQL folds duplicates within a transaction); a TRUNCATE tells an
    empty key (forget them all). The trigger and its function are named after the channel."""
    old = ", ".join(f"OLD.{c}" for c in watched)
    new = ", ".join(f"NEW.{c}" for c in watched)
    function = f"""
CREATE OR REPLACE FUNCTION {channel}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('{channel}', '');
    ELSIF TG_OP = 'DELETE' OR ({old}) IS DISTINCT FROM ({new}) THEN
        PERFORM pg_notify('{channel}', OLD.{key}::text);
    END IF;
    RETURN NULL;
END
$fn$
"""
    truncated = channel.removesuffix("_changed") + "_truncated"
    run = f"EXECUTE FUNCTION {channel}()"
    create = (
        function,
        f"CREATE TRIGGER {channel} AFTER UPDATE OR DELETE ON {table} FOR EACH ROW {run}",
        f"CREATE TRIGGER {truncated} AFTER TRUNCATE ON {table} FOR EACH STATEMENT {run}",
    )
    drop = (
        f"DROP TRIGGER IF EXISTS {channel} ON {table}",
        f"DROP TRIGGER IF EXISTS {truncated} ON {table}",
        f"DROP FUNCTION IF EXISTS {channel}()",
    )
    return create, drop
