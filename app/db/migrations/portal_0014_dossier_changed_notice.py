from app.db.sql_migrations import change_notice, postgres_migration

ID = "2026-12-07T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notice of a dossier's public facts changing (PostgreSQL)"

#: Each server process keeps the public view of the dossiers looked up lately
#: (app/db/row_cache.py) and forgets one when told it changed. The database tells, so that
#: every writer counts (the server's processes, the CLI, psql): a changed code, procedure,
#: status or appointment notifies the dossier's code on channel dossier_changed when the
#: transaction commits (PostgreSQL folds duplicates within a transaction), a TRUNCATE an empty
#: code (forget them all). SQLite needs nothing: its data_version tells (one writer at a time).
CREATE, DROP = change_notice(
    "dossier", "dossier_changed", "code", ("code", "procedure_code", "status", "due_at")
)

forwards = postgres_migration(ID, DESCRIPTION, CREATE, DROP)
