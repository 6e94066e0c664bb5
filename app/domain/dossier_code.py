"""The dossier code of Circular 01/2018/TT-VPCP Art. 19: ``<unit code>-<YYMMDD>-<NNNN>``.

The unit is the receiving one-stop unit (its QCVN 102 code), the date is the date of
reception in Vietnam time, and NNNN the sequence of dossiers that unit received that day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.clock import VN_TZ
from app.domain.geography import UNIT_CODE

DOSSIER_CODE = re.compile(rf"^(?P<unit>{UNIT_CODE[1:-1]})-(?P<day>\d{{6}})-(?P<seq>\d{{4}})$")
MAX_PER_DAY = 9999


@dataclass(frozen=True)
class DossierCode:
    unit_code: str
    day: date
    sequence: int

    def __str__(self) -> str:
        return _written(self.unit_code, self.day, f"{self.sequence:04d}")


def code_of_day(unit_code: str, received_at: datetime, number: str) -> str:
    """The code with ``number`` written as given (four digits, or what stands for them until
    the database gives the number: DossierService.submit)."""
    return _written(unit_code, received_at.astimezone(VN_TZ).date(), number)


def _written(unit_code: str, day: date, number: str) -> str:
    return f"{unit_code}-{_yymmdd(day)}-{number}"


def _yymmdd(d: date) -> str:
    return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"  # not strftime: ~10^6 codes a simulated year


def make_code(unit_code: str, received_at: datetime, sequence: int) -> DossierCode:
    if not 1 <= sequence <= MAX_PER_DAY:
        raise ValueError(f"sequence {sequence} outside 1..{MAX_PER_DAY}")
    return DossierCode(unit_code, received_at.astimezone(VN_TZ).date(), sequence)


def counter_key(unit_code: str, received_at: datetime) -> str:
    """The day counter a dossier's number comes from: ``<unit code>|<YYMMDD>`` (Vietnam time)."""
    return f"{unit_code}|{_yymmdd(received_at.astimezone(VN_TZ).date())}"


class DayNumbers:
    """Codes for histories made in memory (the simulator, the bulk loader): each unit's
    numbers per day, continuing the database's day counters (``last(key)``: the counter as
    it stands, 0 when unused); ``used`` holds the last number given per counter."""

    def __init__(self, last: Callable[[str], int] | None = None) -> None:
        self._last = last
        self.used: dict[str, int] = {}

    def next_code(self, unit_code: str, received_at: datetime) -> str:
        key = counter_key(unit_code, received_at)
        number = self.used.get(key)
        if number is None:
            number = self._last(key) if self._last else 0
        self.used[key] = number + 1
        return str(make_code(unit_code, received_at, number + 1))


def parse_code(text: str) -> DossierCode | None:
    match = DOSSIER_CODE.match(text.strip())
    if not match:
        return None
    digits = match["day"]
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    try:  # strptime's %y pivot (69-99: 1900s), without strptime's ~10 µs on the busiest path
        day = date(yy + (1900 if yy >= 69 else 2000), mm, dd)
    except ValueError:
        return None
    return DossierCode(match["unit"], day, int(match["seq"]))
