from app.db.sql_migrations import change_notice, postgres_migration

ID = "2026-12-07T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notice of an account changing (PostgreSQL)"

#: Each server process keeps the accounts that signed-in requests resolve to
#: (app/db/row_cache.py) and forgets one when told it changed, as it does dossiers (migration
#: 0014). A change to what a request's user is made of (AccountService.get: name, role, unit,
#: contact, whether active) or the row going notifies the account's id on channel user_changed
#: when the transaction commits, a TRUNCATE an empty id (forget them all); a sign-in's
#: last_login_at does not. SQLite needs nothing: its data_version tells.
CREATE, DROP = change_notice(
    "portal_user",
    "user_changed",
    "id",
    ("username", "role", "unit_code", "full_name", "email", "phone", "active"),
)

forwards = postgres_migration(ID, DESCRIPTION, CREATE, DROP)
