from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T11:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "statistics rollup keys, and the figures of the history already there"

#: The rollup's keys: what its upserts conflict on (Piccolo declares single-column indexes
#: only; and a migration's raw steps run before its tables exist, hence this second one).
UNIQUE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS stats_month_key ON stats_month (month, unit_code, procedure_code)",
    "CREATE UNIQUE INDEX IF NOT EXISTS stats_officer_month_key"
    " ON stats_officer_month (month, actor, step_unit, unit_code, procedure_code)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def keys_and_figures():
        from app.db.tables import Dossier
        from app.services import rollup

        for ddl in UNIQUE:
            await Dossier._meta.db.run_ddl(ddl)
        await rollup.replace()  # a database with history gets its figures now

    async def drop_keys():
        from app.db.tables import Dossier

        for name in ("stats_month_key", "stats_officer_month_key"):
            await Dossier._meta.db.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(keys_and_figures)
    manager.add_raw_backwards(drop_keys)

    return manager
