"""The dossier code of Circular 01/2018/TT-VPCP Art. 19: ``<unit code>-<YYMMDD>-<NNNN>``.

The unit is the receiving one-stop unit (its QCVN 102 code), the date is the date of
reception in Vietnam time, and NNNN the sequence of dossiers that unit received that day.
"""

from __future__ import annotations

import re
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
        d = self.day  # not strftime: codes are made for every simulated dossier
        return f"{self.unit_code}-{d.year % 100:02d}{d.month:02d}{d.day:02d}-{self.sequence:04d}"


def make_code(unit_code: str, received_at: datetime, sequence: int) -> DossierCode:
    if not 1 <= sequence <= MAX_PER_DAY:
        raise ValueError(f"sequence {sequence} outside 1..{MAX_PER_DAY}")
    return DossierCode(unit_code, received_at.astimezone(VN_TZ).date(), sequence)


def parse_code(text: str) -> DossierCode | None:
    match = DOSSIER_CODE.match(text.strip())
    if not match:
        return None
    try:
        day = datetime.strptime(match["day"], "%y%m%d").date()
    except ValueError:
        return None
    return DossierCode(match["unit"], day, int(match["seq"]))
