from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz

ID = "2026-11-23T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dossier period indexes"

#: The statistics select a period's dossiers by reception (an index on received_at) and by
#: end; dossiers open at a moment are those ended after it (or not yet) and received before
#: it. One composite index on (finished_at, received_at) serves both end ranges and answers
#: the second without reading rows (Piccolo declares single-column indexes only; a separate
#: finished_at index would be redundant, and SQLite's planner would prefer it and read rows).
COMPOSITE = "CREATE INDEX IF NOT EXISTS dossier_finished_received ON dossier (finished_at, received_at)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Dossier",
        tablename="dossier",
        column_name="received_at",
        db_column_name="received_at",
        params={"index": True},
        old_params={"index": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    async def composite():
        from app.db.tables import Dossier

        await Dossier._meta.db.run_ddl(COMPOSITE)

    async def drop_composite():
        from app.db.tables import Dossier

        await Dossier._meta.db.run_ddl("DROP INDEX IF EXISTS dossier_finished_received")

    manager.add_raw(composite)
    manager.add_raw_backwards(drop_composite)

    return manager
