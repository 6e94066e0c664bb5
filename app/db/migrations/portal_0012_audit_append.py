from app.db.sql_migrations import postgres_migration

ID = "2026-12-07T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain append in one statement (PostgreSQL)"

#: An audit event appended to the chain in one round trip: the chain's lock (the same
#: transaction-scoped advisory lock, 761018, that app/services/audit.py and the bulk loader
#: take), its head, the event's SHA-256 and the row. The lock is held until the transaction
#: ends; taking it, reading the head and inserting in three statements from the application
#: kept it held across three waits for the application's event loop, which under load was what
#: every write of the province queued behind. The canonical text is the application's
#: (audit._canonical): it sends the parts before and after "prev_hash" and "seq", adjacent in
#: its sorted keys, and the function joins them around the head's hash and the next number.
#: In READ COMMITTED each statement of a VOLATILE function sees what committed before it
#: started, so the head read after the lock is granted is the true head.
APPEND = r"""
CREATE OR REPLACE FUNCTION audit_append(
    _head text, _tail text, _at timestamptz, _actor_id integer, _actor text, _actor_role text,
    _action text, _object_type text, _object_id text, _dossier_code text,
    _status_before smallint, _status_after smallint, _details json, _ip text
) RETURNS TABLE (seq bigint, prev_hash text, hash text)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(761018);
    SELECT e.seq, e.hash INTO last_seq, last_hash FROM audit_event e ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    seq := last_seq + 1;
    prev_hash := last_hash;
    hash := encode(sha256(convert_to(
        _head || ',"prev_hash":"' || last_hash || '","seq":' || seq || ',' || _tail, 'UTF8'
    )), 'hex');
    INSERT INTO audit_event (seq, at, actor_id, actor, actor_role, action, object_type, object_id,
                             dossier_code, status_before, status_after, details, ip, prev_hash, hash)
    VALUES (seq, _at, _actor_id, _actor, _actor_role, _action, _object_type, _object_id,
            _dossier_code, _status_before, _status_after, _details, _ip, prev_hash, hash);
    RETURN NEXT;
END
$fn$
"""

forwards = postgres_migration(ID, DESCRIPTION, (APPEND,), ("DROP FUNCTION IF EXISTS audit_append",))
