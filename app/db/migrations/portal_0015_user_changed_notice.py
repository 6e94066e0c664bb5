from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notice of an account changing (PostgreSQL)"

#: Each server process keeps the accounts that signed-in requests resolve to
#: (app/db/row_cache.py) and forgets one when told it changed, as it does dossiers (migration
#: 0014). A change to what a request's user is made of (AccountService.get: name, role, unit,
#: contact, whether active) or the row going notifies the account's id on channel user_changed
#: when the transaction commits, a TRUNCATE an empty id (forget them all); a sign-in's
#: last_login_at does not. SQLite needs nothing: its data_version tells.
FUNCTION = r"""
CREATE OR REPLACE FUNCTION user_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('user_changed', '');
    ELSIF TG_OP = 'DELETE'
            OR (OLD.username, OLD.role, OLD.unit_code, OLD.full_name, OLD.email, OLD.phone, OLD.active)
            IS DISTINCT FROM
               (NEW.username, NEW.role, NEW.unit_code, NEW.full_name, NEW.email, NEW.phone, NEW.active) THEN
        PERFORM pg_notify('user_changed', OLD.id::text);
    END IF;
    RETURN NULL;
END
$fn$
"""
#: One statement each (Piccolo's run_ddl prepares what it runs).
CREATE = (
    FUNCTION,
    "CREATE TRIGGER user_changed AFTER UPDATE OR DELETE ON portal_user"
    " FOR EACH ROW EXECUTE FUNCTION user_changed()",
    "CREATE TRIGGER user_truncated AFTER TRUNCATE ON portal_user"
    " FOR EACH STATEMENT EXECUTE FUNCTION user_changed()",
)
DROP = (
    "DROP TRIGGER IF EXISTS user_changed ON portal_user",
    "DROP TRIGGER IF EXISTS user_truncated ON portal_user",
    "DROP FUNCTION IF EXISTS user_changed()",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_trigger():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import User

        if isinstance(User._meta.db, PostgresEngine):
            for statement in CREATE:
                await User._meta.db.run_ddl(statement)

    async def drop_trigger():
        from piccolo.engine.postgres import PostgresEngine

        from app.db.tables import User

        if isinstance(User._meta.db, PostgresEngine):
            for statement in DROP:
                await User._meta.db.run_ddl(statement)

    manager.add_raw(create_trigger)
    manager.add_raw_backwards(drop_trigger)

    return manager
