from app.db.sql_migrations import postgres_migration

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

forwards = postgres_migration(ID, DESCRIPTION, (UNDATED,), ("DROP INDEX IF EXISTS dossier_queue_undated",))
