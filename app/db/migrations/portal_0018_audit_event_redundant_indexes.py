from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-08T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the audit_event indexes no query needs"

#: Every audited act (each submission, status change and officer's reading of a dossier)
#: writes one event into all of the table's indexes, two of which serve nothing:
#: - audit_event_seq duplicates audit_event_seq_key, the unique index on the same column;
#: - audit_event_action: no query asks for events by action (a dossier's history is found
#:   by dossier_code, the chain by seq).
REDUNDANT = ("audit_event_seq", "audit_event_action")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def drop_indexes():
        from app.db.tables import AuditEvent

        for name in REDUNDANT:
            await AuditEvent._meta.db.run_ddl(f"DROP INDEX IF EXISTS {name}")

    async def create_indexes():
        from app.db.tables import AuditEvent

        await AuditEvent._meta.db.run_ddl("CREATE INDEX IF NOT EXISTS audit_event_seq ON audit_event (seq)")
        await AuditEvent._meta.db.run_ddl(
            "CREATE INDEX IF NOT EXISTS audit_event_action ON audit_event (action)"
        )

    manager.add_raw(drop_indexes)
    manager.add_raw_backwards(create_indexes)

    return manager
