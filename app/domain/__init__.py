"""Pure rules of the law: no I/O, no database, no HTTP."""
