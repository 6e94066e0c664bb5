from app.db.sql_migrations import sql_migration

ID = "2026-12-08T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial index of the outbox's waiting messages"

#: The outbox's sender looks for the oldest messages still pending (app/services/notifications.py).
#: Without an index that was a scan of every message ever written, on every tick of every server
#: process; this one holds only the pending ones, in id order, and stays small however many
#: have gone out. Both databases take a partial index (SQLite uses it when the query repeats its
#: WHERE term, which the sender's does).
OUTBOX = "CREATE INDEX IF NOT EXISTS notification_outbox ON notification (id) WHERE status = 'pending'"

forwards = sql_migration(ID, DESCRIPTION, (OUTBOX,), ("DROP INDEX IF EXISTS notification_outbox",))
