"""Vietnamese working days and the deadlines counted on them. Pure.

- Weekends are off (Decision 188/1999/QĐ-TTg); public holidays of the Labour Code 2019
  Art. 112, including the 5 days of lunar Tết and Giỗ Tổ Hùng Vương (10/3 lunar), come
  from the ``holidays`` library, which computes the lunar dates and the compensatory
  days of Art. 111.3.
- Each year the Government swaps days to lengthen breaks: extra days off and make-up
  working days (often Saturdays). Those are an override table handed in by the caller
  (``fixtures/calendar/overrides.toml``), because they are decided year by year.
- Counting (Civil Code 2015 Art. 147–148): the first day is not counted; a period in
  calendar days that ends on a day off ends on the next working day. A dossier received
  after the cut-off hour (15:00, Decree 61/2018 Art. 18) counts as received on the next
  working day [U: our reading; configurable].
- Office hours are 07:30–11:30 and 13:00–17:00: 8 working hours a day; a deadline falls
  at 17:00 of its day [U].
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays

from app.domain.clock import VN_TZ

MORNING = (time(7, 30), time(11, 30))
AFTERNOON = (time(13, 0), time(17, 0))
END_OF_DAY = AFTERNOON[1]


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 10**6 + t.microsecond


_US = timedelta(microseconds=1)
_M0, _M1, _A0, _A1 = (_us(t) for t in (*MORNING, *AFTERNOON))
_MORNING_US = _M1 - _M0
_M0_MIN, _M1_MIN, _A0_MIN, _A1_MIN = (x / 60_000_000 for x in (_M0, _M1, _A0, _A1))
_MORNING_MIN = _M1_MIN - _M0_MIN
#: Office time in a working day, in microseconds.
_DAY_US = _MORNING_US + _A1 - _A0
_DAY_MINUTES = _DAY_US / 60_000_000
#: Office-time positions are counted from here (earlier moments take the day-by-day walk).
_EPOCH = date(1990, 1, 1)
_EPOCH_MOMENT = datetime.combine(_EPOCH, time(0), VN_TZ)


class TimeUnit(str, enum.Enum):
    WORKING_DAYS = "working_days"
    DAYS = "days"
    SAME_DAY = "same_day"


_TIME_UNITS = {u.value: u for u in TimeUnit}


@dataclass(frozen=True)
class YearOverrides:
    """Swapped days of one year, as the Government announced them."""

    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()


@functools.lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: Mapping[int, YearOverrides] = field(default_factory=dict)
    cutoff: time = time(15, 0)
    #: Some commune units count Saturday mornings; off by default [U].
    saturday_is_working: bool = False
    #: Answers already worked out (the calendar is immutable; the simulator asks millions of times).
    _known: dict[date, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    _day_periods: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: The working days from _EPOCH in order; per date, how many of them came before it and
    #: whether it is one.
    _working: list[date] = field(default_factory=list, init=False, repr=False, compare=False)
    _before: dict[date, tuple[int, bool]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def is_working_day(self, d: date) -> bool:
        known = self._known.get(d)
        if known is None:
            known = self._known[d] = self._is_working_day(d)
        return known

    def _is_working_day(self, d: date) -> bool:
        year = self.overrides.get(d.year, YearOverrides())
        if d in year.working_days:
            return True
        if d in year.days_off or d in _statutory_holidays(d.year):
            return False
        return d.weekday() < 5 or (self.saturday_is_working and d.weekday() == 5)

    def next_working_day(self, d: date) -> date:
        d += timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def working_days_in(self, start: date, end: date) -> list[date]:
        out, d = [], start
        while d <= end:
            if self.is_working_day(d):
                out.append(d)
            d += timedelta(days=1)
        return out

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after ``d`` (``d`` itself not counted)."""
        if n > 0 and d >= _EPOCH:
            before, working = self._day(d)
            return self._working_day(before + working + n - 1)  # those after d start at before + working
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def counting_date(self, received_at: datetime) -> date:
        """The day a receipt counts from: itself, or the next working day if it came
        after the cut-off or on a day off."""
        local = received_at.astimezone(VN_TZ)
        d = local.date()
        if not self.is_working_day(d) or local.time() >= self.cutoff:
            return self.next_working_day(d)
        return d

    def due_at(self, received_at: datetime, value: int, unit: TimeUnit | str) -> datetime:
        """The appointment (hẹn trả) for a statutory time limit."""
        unit = _TIME_UNITS.get(unit) or TimeUnit(unit)  # TimeUnit(…) is slow; unknown ones raise
        start = self.counting_date(received_at)
        if unit is TimeUnit.SAME_DAY:
            last = start if value <= 0 else self.add_working_days(start, value)
        elif unit is TimeUnit.WORKING_DAYS:
            last = self.add_working_days(start, value)
        else:
            last = start + timedelta(days=value)
            while not self.is_working_day(last):
                last += timedelta(days=1)
        return datetime.combine(last, END_OF_DAY, VN_TZ)

    # --- working hours (step budgets) -------------------------------------------------

    # Office time is counted as a position — microseconds of office time since _EPOCH — so
    # that moving forward by a budget or measuring between two moments is arithmetic and a
    # look-up, not a walk day by day (the simulator asks millions of times). The walks
    # below stay as the definition, for zero budgets and moments before _EPOCH, and the
    # tests check both give the same microsecond.

    def _extend_to(self, d: date) -> None:
        cursor = _EPOCH + timedelta(days=len(self._before))  # _before holds the days from _EPOCH
        end = max(d, cursor + timedelta(days=366))  # a year at a time
        while cursor <= end:
            working = self.is_working_day(cursor)
            self._before[cursor] = (len(self._working), working)
            if working:
                self._working.append(cursor)
            cursor += timedelta(days=1)

    def _working_day(self, k: int) -> date:
        """The k-th working day from _EPOCH (counting from 0)."""
        while len(self._working) <= k:
            self._extend_to(_EPOCH + timedelta(days=len(self._before) + 366))
        return self._working[k]

    def _day(self, d: date) -> tuple[int, bool]:
        """How many working days from _EPOCH come before ``d``, and whether it is one."""
        known = self._before.get(d)
        if known is None:
            self._extend_to(d)
            known = self._before[d]
        return known

    def _position(self, moment: datetime) -> int:
        local = moment.astimezone(VN_TZ)
        before, working = self._day(local.date())
        if not working:
            return before * _DAY_US
        s = ((local.hour * 60 + local.minute) * 60 + local.second) * 10**6 + local.microsecond
        return before * _DAY_US + min(max(s, _M0), _M1) - _M0 + min(max(s, _A0), _A1) - _A0

    def _moment(self, position: int) -> datetime:
        """The moment at an office-time position; a position at a day's boundary is the
        end of the day before (work that ends there ends at 17:00, not at 07:30 next)."""
        k, offset = divmod(position, _DAY_US)
        if offset == 0 and k > 0:
            return datetime.combine(self._working[k - 1], AFTERNOON[1], VN_TZ)
        day = self._working_day(k)
        if offset <= _MORNING_US:
            return datetime.combine(day, MORNING[0], VN_TZ) + offset * _US
        return datetime.combine(day, AFTERNOON[0], VN_TZ) + (offset - _MORNING_US) * _US

    def office_minutes_after(self, origin: date, start: float, minutes: float) -> float:
        """``add_working_hours`` in minutes after midnight (Vietnam time) of ``origin``, as a
        simulation keeps its clock: the same office periods and boundaries, in floats (no
        datetime made and unmade for each of the ~10^6 tasks of a simulated year)."""
        day = int(start // 1440)
        d = origin + timedelta(days=day)
        if minutes <= 0 or d < _EPOCH:
            moment = datetime.combine(origin, time(0), VN_TZ) + timedelta(minutes=start)
            done = self.add_working_hours(moment, minutes / 60)
            return (done - datetime.combine(origin, time(0), VN_TZ)).total_seconds() / 60
        before, working = self._day(d)
        position = before * _DAY_MINUTES
        if working:
            s = start - day * 1440
            position += min(max(s, _M0_MIN), _M1_MIN) - _M0_MIN + min(max(s, _A0_MIN), _A1_MIN) - _A0_MIN
        k, offset = divmod(position + minutes, _DAY_MINUTES)
        k = int(k)
        if offset == 0 and k > 0:
            return (self._working[k - 1] - origin).days * 1440 + _A1_MIN
        base = (self._working_day(k) - origin).days * 1440
        if offset <= _MORNING_MIN:
            return base + _M0_MIN + offset
        return base + _A0_MIN + offset - _MORNING_MIN

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``start`` moved forward by ``hours`` of office time."""
        if hours > 0 and start >= _EPOCH_MOMENT:
            microseconds = timedelta(hours=hours) // _US
            if microseconds:
                return self._moment(self._position(start) + microseconds)
        return self._add_working_hours_day_by_day(start, hours)

    def _add_working_hours_day_by_day(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(VN_TZ)
        while True:
            for lo, hi in self._periods(cursor.date()):
                begin = max(cursor, lo)
                if begin >= hi:
                    continue
                available = hi - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = hi
            cursor = datetime.combine(self.next_working_day(cursor.date()), MORNING[0], VN_TZ)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        if start >= _EPOCH_MOMENT:
            return (self._position(end) - self._position(start)) / 10**6 / 3600
        return self._working_hours_between_day_by_day(start, end)

    def _working_hours_between_day_by_day(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        start, end = start.astimezone(VN_TZ), end.astimezone(VN_TZ)
        total = timedelta()
        d = start.date()
        while d <= end.date():
            for lo, hi in self._periods(d):
                overlap = min(hi, end) - max(lo, start)
                if overlap > timedelta():
                    total += overlap
            d += timedelta(days=1)
        return total.total_seconds() / 3600

    def _periods(self, d: date) -> list[tuple[datetime, datetime]]:
        periods = self._day_periods.get(d)
        if periods is None:
            periods = self._day_periods[d] = (
                [
                    (datetime.combine(d, lo, VN_TZ), datetime.combine(d, hi, VN_TZ))
                    for lo, hi in (MORNING, AFTERNOON)
                ]
                if self.is_working_day(d)
                else []
            )
        return periods


def overrides_from(entries: Iterable[tuple[int, Iterable[date], Iterable[date]]]) -> dict[int, YearOverrides]:
    return {year: YearOverrides(frozenset(off), frozenset(work)) for year, off, work in entries}


class Timeliness(str, enum.Enum):
    """Trước hạn / đúng hạn / quá hạn (Form 05; Circular 01/2018 index 1)."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"

    @property
    def label(self) -> str:
        return {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}[self.value]


def classify(finished_at: datetime, due_at: datetime) -> Timeliness:
    """Early if finished on a day before the due day; on time if on the due day by the
    due time; late after it (reference §8.4; the 766 rule: on time ⇔ end ≤ appointment)."""
    if finished_at > due_at:
        return Timeliness.LATE
    if finished_at.astimezone(VN_TZ).date() < due_at.astimezone(VN_TZ).date():
        return Timeliness.EARLY
    return Timeliness.ON_TIME
