"""Working days and appointments, one rule per test (Labour Code 2019 Art. 111–112,
Civil Code 2015 Art. 147–148, Decree 61/2018 Art. 18)."""

from datetime import date, datetime, time

import pytest

from app.domain.calendar import Timeliness, WorkingCalendar, classify
from app.domain.clock import VN_TZ
from app.services.calendar import default_calendar

CAL = default_calendar()


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


@pytest.mark.parametrize("year, first, last", [(2021, 10, 16), (2027, 4, 10)])
def test_tet_is_five_or_more_days_off(year, first, last):
    assert not any(CAL.is_working_day(date(year, 2, d)) for d in range(first, last + 1))
    assert CAL.is_working_day(date(year, 2, last + 1))


def test_tet_2026_falls_on_16_to_20_february():
    assert [d.day for d in CAL.working_days_in(date(2026, 2, 9), date(2026, 2, 27))] == [
        9,
        10,
        11,
        12,
        13,
        23,
        24,
        25,
        26,
        27,
    ]


def test_hung_kings_day_is_computed_from_the_lunar_calendar():
    # 10/3 lunar: 21/4/2021 (Wednesday); 26/4/2026 is a Sunday, so Monday 27/4 is off.
    assert not CAL.is_working_day(date(2021, 4, 21))
    assert not CAL.is_working_day(date(2026, 4, 27))


def test_30_april_and_1_may_with_the_compensatory_monday():
    # 2021: 30/4 Friday, 1/5 Saturday → Monday 3/5 off (Art. 111.3).
    assert not CAL.is_working_day(date(2021, 4, 30))
    assert not CAL.is_working_day(date(2021, 5, 3))
    assert CAL.is_working_day(date(2021, 5, 4))


def test_national_day_is_two_days():
    assert not CAL.is_working_day(date(2021, 9, 2)) and not CAL.is_working_day(date(2021, 9, 3))
    assert CAL.is_working_day(date(2021, 9, 6))


def test_a_make_up_saturday_is_a_working_day():
    # 2026: Monday 31/8 off, paid for by working Saturday 22/8.
    assert not CAL.is_working_day(date(2026, 8, 31))
    assert CAL.is_working_day(date(2026, 8, 22))
    assert not WorkingCalendar().is_working_day(date(2026, 8, 22))  # without the override table


def test_the_first_day_is_not_counted():
    # Received Monday 15/3/2021 09:00, 3 working days → Thursday 18/3 17:00.
    assert CAL.due_at(at(2021, 3, 15), 3, "working_days") == at(2021, 3, 18, 17)


def test_after_15_00_counting_starts_the_next_working_day():
    assert CAL.due_at(at(2021, 3, 15, 15, 30), 3, "working_days") == at(2021, 3, 19, 17)
    assert WorkingCalendar(cutoff=time(16)).due_at(at(2021, 3, 15, 15, 30), 3, "working_days") == at(
        2021, 3, 18, 17
    )


def test_working_days_skip_tet():
    # Received Tuesday 9/2/2021, 5 working days: 17, 18, 19, 22, 23/2.
    assert CAL.due_at(at(2021, 2, 9), 5, "working_days") == at(2021, 2, 23, 17)


def test_same_day_before_and_after_the_cut_off():
    assert CAL.due_at(at(2021, 3, 15, 10), 0, "same_day") == at(2021, 3, 15, 17)
    assert CAL.due_at(at(2021, 3, 19, 15, 5), 0, "same_day") == at(2021, 3, 22, 17)  # Friday → Monday


def test_calendar_days_ending_on_a_day_off_end_on_the_next_working_day():
    # Received Tuesday 2/3/2021, 10 days → Friday 12/3; 15 days → Wednesday 17/3.
    assert CAL.due_at(at(2021, 3, 2), 10, "days") == at(2021, 3, 12, 17)
    # Received Wednesday 3/2/2021, 10 days → Saturday 13/2 in Tết → Wednesday 17/2.
    assert CAL.due_at(at(2021, 2, 3), 10, "days") == at(2021, 2, 17, 17)


def test_a_receipt_on_a_day_off_counts_from_the_next_working_day():
    assert CAL.due_at(at(2021, 3, 13, 10), 1, "working_days") == at(2021, 3, 16, 17)  # Saturday


def test_working_hours_skip_lunch_nights_and_weekends():
    assert CAL.add_working_hours(at(2021, 3, 15, 10), 2) == at(2021, 3, 15, 13, 30)  # 1.5 h + 0.5 h
    assert CAL.add_working_hours(at(2021, 3, 19, 16), 4) == at(2021, 3, 22, 10, 30)
    assert CAL.working_hours_between(at(2021, 3, 15, 7, 30), at(2021, 3, 16, 7, 30)) == 8


def test_early_on_time_late():
    due = at(2021, 3, 18, 17)
    assert classify(at(2021, 3, 17, 16), due) is Timeliness.EARLY
    assert classify(at(2021, 3, 18, 9), due) is Timeliness.ON_TIME
    assert classify(at(2021, 3, 18, 17, 1), due) is Timeliness.LATE
    assert Timeliness.LATE.label == "Quá hạn"


def test_office_time_by_position_is_the_day_by_day_walk_to_the_microsecond():
    """add_working_hours and working_hours_between count office time as positions; the walk
    day by day is their definition. Random moments over two years with Tết, swapped days
    and weekends, budgets from a minute to weeks, and the edges: period ends, lunch,
    midnight, whole days."""
    import random
    from datetime import timedelta

    cal = default_calendar()
    rng = random.Random(20211)
    origin = datetime(2021, 1, 1, tzinfo=VN_TZ)
    edges = [time(7, 30), time(11, 30), time(12, 0), time(13, 0), time(17, 0), time(0, 0), time(23, 59)]
    moments = [
        datetime.combine(date(2021, 1, 1) + timedelta(days=rng.randrange(730)), rng.choice(edges), VN_TZ)
        for _ in range(300)
    ] + [origin + timedelta(minutes=rng.uniform(0, 730 * 1440)) for _ in range(700)]
    budgets = [1 / 60, 0.5, 3.5, 4, 8, 16, 40, 120] + [rng.uniform(0, 200) for _ in range(20)]
    for start in moments:
        for hours in rng.sample(budgets, 6):
            fast = cal.add_working_hours(start, hours)
            assert fast == cal._add_working_hours_day_by_day(start, hours), (start, hours)
            assert fast.utcoffset() == timedelta(hours=7)
        end = start + timedelta(hours=rng.uniform(0, 24 * 40))
        assert cal.working_hours_between(start, end) == cal._working_hours_between_day_by_day(start, end)
    # Moments before the positions' epoch take the walk.
    old = datetime(1985, 2, 1, 10, 0, tzinfo=VN_TZ)
    assert cal.add_working_hours(old, 10) == cal._add_working_hours_day_by_day(old, 10)


def test_working_days_by_position_are_the_day_by_day_count():
    import random
    from datetime import timedelta

    cal = default_calendar()
    rng = random.Random(7)
    for _ in range(2000):
        d = date(2020, 6, 1) + timedelta(days=rng.randrange(900))
        n = rng.choice([0, 1, 2, 5, 15, 30, 60, rng.randrange(400)])
        walked = d
        for _ in range(n):
            walked = cal.next_working_day(walked)
        assert cal.add_working_days(d, n) == walked, (d, n)


def test_office_minutes_in_a_simulation_clock_are_add_working_hours():
    import random
    from datetime import timedelta

    cal = default_calendar()
    rng = random.Random(3)
    origin = date(2021, 1, 1)
    midnight = datetime.combine(origin, time(0), VN_TZ)
    for _ in range(3000):
        start = rng.choice(
            [rng.uniform(0, 400 * 1440), rng.randrange(400) * 1440 + rng.choice([450, 690, 720, 780, 1020])]
        )
        minutes = rng.choice([rng.uniform(0.5, 3000), 240, 480, 960])
        fast = cal.office_minutes_after(origin, start, minutes)
        exact = cal.add_working_hours(midnight + timedelta(minutes=start), minutes / 60)
        assert abs(fast - (exact - midnight).total_seconds() / 60) < 1e-6, (start, minutes)
