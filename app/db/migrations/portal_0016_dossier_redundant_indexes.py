from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the dossier indexes another index already serves"

#: Every dossier written (a submission, and every status change that moves its step: those
#: columns are indexed, so no update of them is HOT) wrote into all fifteen of the table's
#: indexes, two of which serve nothing another one does not:
#: - dossier_code duplicates dossier_code_key, the unique index on the same column;
#: - dossier_step_unit is the first column of dossier_queue (step_unit, step_role, step_due_at, id),
#:   which answers anything asked by step_unit alone.
REDUNDANT = ("dossier_code", "dossier_step_unit")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def drop_indexes():
        from app.db.tables import Dossier

        for name in REDUNDANT:
            await Dossier._meta.db.run_ddl(f"DROP INDEX IF EXISTS {name}")

    async def create_indexes():
        from app.db.tables import Dossier

        await Dossier._meta.db.run_ddl("CREATE INDEX IF NOT EXISTS dossier_code ON dossier (code)")
        await Dossier._meta.db.run_ddl("CREATE INDEX IF NOT EXISTS dossier_step_unit ON dossier (step_unit)")

    manager.add_raw(drop_indexes)
    manager.add_raw_backwards(create_indexes)

    return manager
