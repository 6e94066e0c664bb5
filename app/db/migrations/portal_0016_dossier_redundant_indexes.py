from app.db.sql_migrations import dropped_indexes

ID = "2026-12-07T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the dossier indexes another index already serves"

#: Every dossier written (a submission, and every status change that moves its step: those
#: columns are indexed, so no update of them is HOT) wrote into all fifteen of the table's
#: indexes, two of which serve nothing another one does not:
#: - dossier_code duplicates dossier_code_key, the unique index on the same column;
#: - dossier_step_unit is the first column of dossier_queue (step_unit, step_role, step_due_at, id),
#:   which answers anything asked by step_unit alone.
REDUNDANT = {"dossier_code": "dossier (code)", "dossier_step_unit": "dossier (step_unit)"}

forwards = dropped_indexes(ID, DESCRIPTION, REDUNDANT)
