"""Use cases: every query and transaction of the portal lives here."""
