from app.db.sql_migrations import postgres_migration

ID = "2026-12-07T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a day counter gives four digits at most (PostgreSQL)"

#: A dossier's code has four digits for its unit's number of the day (Circular 01/2018 Art. 19;
#: app/domain/dossier_code.MAX_PER_DAY), and so has a feedback's. A submission takes its number
#: in the same statement as its writes (DossierService.submit): PostgreSQL refuses the
#: 10,000th here, so that the statement fails whole and the number is not used up. NOT VALID:
#: rows already there are not checked (none can be past it: the application refused them).
#: SQLite cannot add a constraint to a table; there the application checks the number inside
#: the write transaction before anything is written.
CONSTRAINT = "dossier_counter_four_digits"
ADD = f"ALTER TABLE dossier_counter ADD CONSTRAINT {CONSTRAINT} CHECK (last <= 9999) NOT VALID"
DROP = f"ALTER TABLE dossier_counter DROP CONSTRAINT IF EXISTS {CONSTRAINT}"

forwards = postgres_migration(ID, DESCRIPTION, (ADD,), (DROP,))
