"""The one source of "now" (DESIGN.md, "Time"). Every caller is handed a clock.

Instants are timezone-aware; Vietnam time is UTC+07:00 all year (no DST).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

VN_TZ = timezone(timedelta(hours=7), "ICT")


def local_iso(value: datetime | None) -> str | None:
    """An instant as the API shows it: ISO 8601 at +07:00, whole seconds (truncated); None
    kept. (A page of rows has the database do the same: app.db.dialect.Dialect.local_iso.)"""
    return value.astimezone(VN_TZ).isoformat(timespec="seconds") if value else None


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(VN_TZ)


@dataclass
class StartedClock:
    """Starts at ``start`` and runs on at real speed (PORTAL_CLOCK_START)."""

    start: datetime
    _origin: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=VN_TZ)
        return (start + timedelta(seconds=time.monotonic() - self._origin)).astimezone(VN_TZ)


@dataclass
class ManualClock:
    """A clock that moves only when told to: tests and the simulator."""

    current: datetime

    def now(self) -> datetime:
        return self.current.astimezone(VN_TZ)

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta

    def set(self, instant: datetime) -> None:
        self.current = instant


def clock_from(start: datetime | None) -> Clock:
    """The server's clock: real time, or starting at ``start`` (PORTAL_CLOCK_START)."""
    return StartedClock(start) if start else SystemClock()


def to_vn(instant: datetime) -> datetime:
    return instant.astimezone(VN_TZ)


def format_vn_date(instant: datetime) -> str:
    """dd/mm/yyyy in Vietnam time."""
    return to_vn(instant).strftime("%d/%m/%Y")


def format_vn_datetime(instant: datetime) -> str:
    """dd/mm/yyyy HH:MM (+07:00)."""
    return to_vn(instant).strftime("%d/%m/%Y %H:%M (+07:00)")
