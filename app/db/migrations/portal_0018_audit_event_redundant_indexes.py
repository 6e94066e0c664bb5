from app.db.sql_migrations import dropped_indexes

ID = "2026-12-08T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the audit_event indexes no query needs"

#: Every audited act (each submission, status change and officer's reading of a dossier)
#: writes one event into all of the table's indexes, two of which serve nothing:
#: - audit_event_seq duplicates audit_event_seq_key, the unique index on the same column;
#: - audit_event_action: no query asks for events by action (a dossier's history is found
#:   by dossier_code, the chain by seq).
REDUNDANT = {"audit_event_seq": "audit_event (seq)", "audit_event_action": "audit_event (action)"}

forwards = dropped_indexes(ID, DESCRIPTION, REDUNDANT)
