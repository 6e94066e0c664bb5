"""The few SQL pieces that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone


class Dialect:
    def __init__(self, name: str) -> None:
        self.name = name

    def ts(self, moment: datetime) -> str:
        # Literals from datetimes we made (never user text). SQLite keeps Timestamptz as
        # UTC text in this very format, so comparisons are textual and index-friendly.
        text = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00")
        return f"'{text}'" if self.name == "sqlite" else f"'{text}'::timestamptz"

    def unindexed(self, column: str) -> str:
        """``column`` in a term that must not pick its own index (SQLite's unary plus)."""
        return f"+{column}" if self.name == "sqlite" else column

    def local_iso(self, column: str) -> str:
        """A Timestamptz column as ``app.domain.clock.local_iso`` shows an instant: ISO 8601 at
        +07:00, whole seconds (truncated), NULL kept. The database's C does in a page of rows
        what took Python ~1 µs a value (bench/README.md, stop 16)."""
        if self.name == "sqlite":
            # Kept as UTC text, "2021-03-15 01:30:59.999999+00:00": cut to the second first,
            # as SQLite's date functions round to the millisecond (that one gives :31:00).
            return f"strftime('%Y-%m-%dT%H:%M:%S+07:00', substr({column}, 1, 19), '+7 hours')"
        return f"""to_char({column} AT TIME ZONE INTERVAL '+07:00', 'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')"""

    def skip_locked(self) -> str:
        """What ends a SELECT whose rows its transaction takes for itself: PostgreSQL locks them
        until the transaction ends and skips those another transaction holds; SQLite, one
        writer at a time, needs nothing."""
        return "" if self.name == "sqlite" else " FOR UPDATE SKIP LOCKED"
