"""Reporting periods: a year, a quarter, a month, or explicit dates (Vietnam time)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.domain.clock import VN_TZ

_PATTERN = re.compile(r"^(\d{4})(?:-(Q[1-4]|\d{2}))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """[start, end) in Vietnam time; ``key`` is how it was asked for (2021, 2021-Q3, 2021-07)."""

    key: str
    start: datetime
    end: datetime

    @property
    def whole_months(self) -> bool:
        local = [moment.astimezone(VN_TZ) for moment in (self.start, self.end)]
        return all(t.day == 1 and t.time() == time(0) for t in local)

    @property
    def label(self) -> str:
        year = self.start.year
        if ".." in self.key:
            last = self.months()[-1].start
            return f"Từ tháng {self.start:%m/%Y} đến tháng {last:%m/%Y}"
        if re.fullmatch(r"\d{4}", self.key):
            return f"Năm {year}"
        if "Q" in self.key.upper():
            return f"Quý {self.key[-1]} năm {year}"
        return f"Tháng {self.start.month:02d}/{year}"

    def months(self) -> list["Period"]:
        """The calendar months of the period, for trends."""
        out, y, m = [], self.start.year, self.start.month
        while _at(y, m) < self.end:
            out.append(parse_period(f"{y}-{m:02d}"))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def previous(self) -> "Period":
        length = {4: 12, 7: 3 if "Q" in self.key.upper() else 1}[len(self.key)]
        y, m = self.start.year, self.start.month - length
        while m < 1:
            y, m = y - 1, m + 12
        if length == 12:
            return parse_period(str(y))
        if length == 3:
            return parse_period(f"{y}-Q{(m - 1) // 3 + 1}")
        return parse_period(f"{y}-{m:02d}")


def _at(year: int, month: int) -> datetime:
    return datetime.combine(date(year, month, 1), time(0), VN_TZ)


def parse_period(text: str) -> Period:
    """``2021``, ``2021-Q3`` or ``2021-07``; ValueError otherwise."""
    match = _PATTERN.match(text.strip())
    if not match:
        raise ValueError("Kỳ báo cáo có dạng 2021, 2021-Q3 hoặc 2021-07.")
    year, part = int(match.group(1)), (match.group(2) or "").upper()
    if not part:
        return Period(str(year), _at(year, 1), _at(year + 1, 1))
    if part.startswith("Q"):
        q = int(part[1])
        start_month = 3 * (q - 1) + 1
        end = _at(year + 1, 1) if q == 4 else _at(year, start_month + 3)
        return Period(f"{year}-Q{q}", _at(year, start_month), end)
    month = int(part)
    if not 1 <= month <= 12:
        raise ValueError("Tháng phải từ 01 đến 12.")
    end = _at(year + 1, 1) if month == 12 else _at(year, month + 1)
    return Period(f"{year}-{month:02d}", _at(year, month), end)


def covering(start: datetime, end: datetime) -> Period:
    """The whole months that hold [start, end) — what the statistics can be asked for
    (they are kept per month)."""
    first, last = start.astimezone(VN_TZ), (end - timedelta(microseconds=1)).astimezone(VN_TZ)
    if (first.year, first.month) == (last.year, last.month):
        return parse_period(f"{first:%Y-%m}")
    until = parse_period(f"{last:%Y-%m}").end
    return Period(f"{first:%Y-%m}..{last:%Y-%m}", _at(first.year, first.month), until)


def period_of(moment: datetime, kind: str = "quarter") -> Period:
    local = moment.astimezone(VN_TZ)
    if kind == "year":
        return parse_period(str(local.year))
    if kind == "month":
        return parse_period(f"{local.year}-{local.month:02d}")
    return parse_period(f"{local.year}-Q{(local.month - 1) // 3 + 1}")
