from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a day counter gives four digits at most (PostgreSQL)"

#: A dossier's code has four digits for its unit's number of the day (Circular 01/2018 Art. 19;
#: app/domain/dossier_code.MAX_PER_DAY), and so has a feedback's. A submission takes its number
#: in the same statement as its writes (DossierService.submit): PostgreSQL refuses the
#: 10,000th here, so that the statement fails whole and the number is not used up. NOT VALID:
#: rows already there are not checked (none can be past it: the application refused them).
#: SQLite cannot add a constraint to a table; there the application checks the number inside
#: the write transaction before anything is written.
CONSTRAINT = "dossier_counter_four_digits"
ADD = f"ALTER TABLE dossier_counter ADD CONSTRAINT {CONSTRAINT} CHECK (last <= 9999) NOT VALID"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def add_check():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import DossierCounter

        if isinstance(DossierCounter._meta.db, PostgresEngine):
            await DossierCounter._meta.db.run_ddl(ADD)

    async def drop_check():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import DossierCounter

        if isinstance(DossierCounter._meta.db, PostgresEngine):
            await DossierCounter._meta.db.run_ddl(
                f"ALTER TABLE dossier_counter DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
            )

    manager.add_raw(add_check)
    manager.add_raw_backwards(drop_check)

    return manager
