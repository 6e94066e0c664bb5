from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T05:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dossier queue index for the dossiers without a due time"

#: The queue's second part, the dossiers without a due time (new submissions not yet received,
#: those waiting for a supplement), is paged by id. dossier_queue (0011) finds them, but
#: PostgreSQL does not take "step_due_at IS NULL" as fixing that column, so it read and sorted
#: all of a unit's undated dossiers for every page (368 of them: 1.5 ms of the server's time,
#: growing with the backlog). This partial index holds them in id order: a page is a range read.
#: SQLite takes IS NULL as an equality and reads dossier_queue in order already: PostgreSQL only.
UNDATED = (
    "CREATE INDEX IF NOT EXISTS dossier_queue_undated ON dossier (step_unit, step_role, id) "
    "WHERE step_due_at IS NULL"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def undated_index():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import Dossier

        if isinstance(Dossier._meta.db, PostgresEngine):
            await Dossier._meta.db.run_ddl(UNDATED)

    async def drop_undated_index():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import Dossier

        if isinstance(Dossier._meta.db, PostgresEngine):
            await Dossier._meta.db.run_ddl("DROP INDEX IF EXISTS dossier_queue_undated")

    manager.add_raw(undated_index)
    manager.add_raw_backwards(drop_undated_index)

    return manager
