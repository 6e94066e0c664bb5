"""Migrations that drop indexes another index or no query needs, on both databases."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence

from piccolo.apps.migrations.auto.migration_manager import MigrationManager


async def _run(statements: Sequence[str]) -> None:
    from app.db.tables import Dossier  # every table shares the one engine

    for statement in statements:
        await Dossier._meta.db.run_ddl(statement)


def dropped_indexes(
    migration_id: str, description: str, indexes: Mapping[str, str]
) -> Callable[[], Awaitable[MigrationManager]]:
    """A migration module's ``forwards`` dropping ``indexes`` (name → ``table (columns)``, what
    undoing it creates again)."""

    async def migration() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name="portal", description=description)
        drop = tuple(f"DROP INDEX IF EXISTS {name}" for name in indexes)
        create = tuple(f"CREATE INDEX IF NOT EXISTS {name} ON {on}" for name, on in indexes.items())
        # partial keeps them coroutine functions, which Piccolo awaits (a lambda it would not)
        manager.add_raw(functools.partial(_run, drop))
        manager.add_raw_backwards(functools.partial(_run, create))
        return manager

    return migration
