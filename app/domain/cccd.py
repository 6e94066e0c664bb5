"""Shape check of the 12-digit citizen identity number (căn cước công dân).

Layout (Circular 07/2016/TT-BCA, Art. 7) [S]: digits 1–3 the province of birth
registration, digit 4 the gender-and-century code, digits 5–6 the last two digits
of the birth year, digits 7–12 a random number. The gender/century code is
0/1 for men/women born 1900–1999, 2/3 for 2000–2099, 4/5 for 2100–2199,
6/7 for 2200–2299, 8/9 for 1800–1899 (the last pair is our reading [U]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: Province codes used in CCCD numbers (63 provinces, before the 2025 mergers).
PROVINCE_CODES: frozenset[str] = frozenset(
    """001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031
    033 034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064
    066 067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095
    096""".split()
)

CENTURIES = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200, 8: 1800, 9: 1800}


@dataclass(frozen=True)
class CccdInfo:
    province_code: str
    female: bool
    birth_year: int


class CccdError(ValueError):
    """Raised with a Vietnamese message a citizen can act on."""


def parse_cccd(number: str, *, today: date) -> CccdInfo:
    number = number.strip()
    if not re.fullmatch(r"\d{12}", number):
        raise CccdError("Số căn cước công dân phải gồm đúng 12 chữ số.")
    province = number[:3]
    if province not in PROVINCE_CODES:
        raise CccdError(f"Ba chữ số đầu ({province}) không phải mã tỉnh, thành phố hợp lệ.")
    code = int(number[3])
    year = CENTURIES[code] + int(number[4:6])
    if year > today.year:
        raise CccdError("Năm sinh mã hóa trong số căn cước công dân nằm ở tương lai.")
    if today.year - year > 130:
        raise CccdError("Năm sinh mã hóa trong số căn cước công dân không hợp lệ.")
    return CccdInfo(province, bool(code % 2), year)


def check_matches(info: CccdInfo, *, birth_year: int, female: bool) -> None:
    if info.birth_year != birth_year:
        raise CccdError(
            f"Năm sinh {birth_year} không khớp với số căn cước công dân (mã hóa năm {info.birth_year})."
        )
    if info.female != female:
        raise CccdError("Giới tính không khớp với chữ số thứ tư của số căn cước công dân.")
