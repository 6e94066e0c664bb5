from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notice of a dossier's public facts changing (PostgreSQL)"

#: Each server process keeps the public view of the dossiers looked up lately
#: (app/db/row_cache.py) and forgets one when told it changed. The database tells, so that
#: every writer counts (the server's processes, the CLI, psql): a changed code, procedure,
#: status or appointment notifies the dossier's code on channel dossier_changed when the
#: transaction commits (PostgreSQL folds duplicates within a transaction), a TRUNCATE an empty
#: code (forget them all). SQLite needs nothing: its data_version tells (one writer at a time).
FUNCTION = r"""
CREATE OR REPLACE FUNCTION dossier_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('dossier_changed', '');
    ELSIF TG_OP = 'DELETE' OR (OLD.code, OLD.procedure_code, OLD.status, OLD.due_at)
            IS DISTINCT FROM (NEW.code, NEW.procedure_code, NEW.status, NEW.due_at) THEN
        PERFORM pg_notify('dossier_changed', OLD.code);
    END IF;
    RETURN NULL;
END
$fn$
"""
#: One statement each (Piccolo's run_ddl prepares what it runs).
CREATE = (
    FUNCTION,
    "CREATE TRIGGER dossier_changed AFTER UPDATE OR DELETE ON dossier"
    " FOR EACH ROW EXECUTE FUNCTION dossier_changed()",
    "CREATE TRIGGER dossier_truncated AFTER TRUNCATE ON dossier"
    " FOR EACH STATEMENT EXECUTE FUNCTION dossier_changed()",
)
DROP = (
    "DROP TRIGGER IF EXISTS dossier_changed ON dossier",
    "DROP TRIGGER IF EXISTS dossier_truncated ON dossier",
    "DROP FUNCTION IF EXISTS dossier_changed()",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_trigger():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import Dossier

        if isinstance(Dossier._meta.db, PostgresEngine):
            for statement in CREATE:
                await Dossier._meta.db.run_ddl(statement)

    async def drop_trigger():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import Dossier

        if isinstance(Dossier._meta.db, PostgresEngine):
            for statement in DROP:
                await Dossier._meta.db.run_ddl(statement)

    manager.add_raw(create_trigger)
    manager.add_raw_backwards(drop_trigger)

    return manager
