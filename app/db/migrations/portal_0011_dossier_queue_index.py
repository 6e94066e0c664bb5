from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dossier queue index"

#: An officer's queue is the dossiers waiting at their unit and role, most urgent first,
#: paged on (step_due_at, id) (DossierService.queue). With this index each page is one range
#: read in order, however many dossiers the unit holds; the single-column step_unit index
#: left a sort of all of them per page. (Piccolo declares single-column indexes only.)
QUEUE = "CREATE INDEX IF NOT EXISTS dossier_queue ON dossier (step_unit, step_role, step_due_at, id)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def queue_index():
        from app.db.tables import Dossier

        await Dossier._meta.db.run_ddl(QUEUE)

    async def drop_queue_index():
        from app.db.tables import Dossier

        await Dossier._meta.db.run_ddl("DROP INDEX IF EXISTS dossier_queue")

    manager.add_raw(queue_index)
    manager.add_raw_backwards(drop_queue_index)

    return manager
