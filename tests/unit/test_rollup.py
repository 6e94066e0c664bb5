"""What one dossier adds to the monthly figures (app/domain/rollup.py), worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.domain.clock import VN_TZ
from app.domain.rollup import DossierFacts, RatingFacts, Rollup, StepFacts, change, month_of


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2021, month, day, hour, tzinfo=VN_TZ)


def facts(**overrides) -> DossierFacts:
    base = dict(
        unit="U1",
        procedure="P1",
        channel=2,
        status=4,
        received_at=at(1, 20),
        finished_at=None,
        due_at=at(2, 10),
        outcome=None,
        timeliness=None,
        apologized=False,
        supplements=0,
        fee_total=0,
        signed=False,
    )
    return DossierFacts(**{**base, **overrides})


def figures(f: DossierFacts) -> dict[int, dict[str, int]]:
    r = Rollup()
    r.add(f)
    return {key[0]: {k: v for k, v in c.items() if v} for key, c in r.units.items()}


def test_months_are_vietnam_time():
    assert month_of(datetime(2021, 1, 31, 17, 30, tzinfo=VN_TZ)) == 202101
    assert month_of(datetime.fromisoformat("2021-01-31T17:30:00+00:00")) == 202102  # 00:30 on 1 Feb, +07:00


def test_an_open_dossier_past_its_date_is_a_running_balance_from_the_month_it_fell_due():
    assert figures(facts()) == {
        202101: {"received": 1, "received_online": 1, "open_change": 1},
        202102: {"overdue_change": 1},  # due 10/02: overdue at the end of February and after
    }
    # Waiting for the citizen stops the clock: not overdue [U].
    assert figures(facts(status=5)) == {202101: {"received": 1, "received_online": 1, "open_change": 1}}


def test_a_dossier_resolved_late_leaves_the_balances_in_the_month_it_finished():
    late = facts(
        status=10,
        finished_at=at(3, 2),
        outcome="approved",
        timeliness="late",
        signed=True,
        rating=RatingFacts(level=1, reception_contacts=0, agencies_contacted=2, harassment=True),
        steps=(
            StepFacts("motcua.a", "U1", "early", "internal"),
            StepFacts("lanhdao.a", "U1", "late", "internal"),
        ),
    )
    seconds = round((at(3, 2) - at(1, 20)).total_seconds())
    got = figures(late)
    assert got[202101] == {"received": 1, "received_online": 1, "open_change": 1}
    assert got[202102] == {"overdue_change": 1}  # overdue at the end of February only
    assert got[202103] == {
        "open_change": -1,
        "overdue_change": -1,
        "ended": 1,
        "ended_late": 1,
        "rated": 1,
        "dissatisfied": 1,
        "unhappy": 1,
        "resolved": 1,
        "late": 1,
        "resolution_seconds": seconds,
        "approved": 1,
        "electronic_results": 1,
        "i2_count": 1,  # one step late: index 2 scores 0
        "i3_count": 1,
        "i3_sum": 2,  # no second visit to the counter
        "i4_count": 1,  # two agencies: 0 points
        "in_unit": 1,
        "resolved_online": 1,
        "late_online": 1,
    }  # i1 = 0 (late) and i7 = 0 (harassment): sums of zero
    r = Rollup()
    r.add(late)
    assert sorted(r.officer_rows()) == [
        (202103, "lanhdao.a", "U1", "U1", "P1", 1, 0, 0, 2, 1, 0, 1, 0),
        (202103, "motcua.a", "U1", "U1", "P1", 1, 0, 2, 2, 1, 0, 1, 0),
    ]


def test_an_apology_or_a_second_supplement_makes_it_late_whatever_the_date():
    for late in (dict(apologized=True), dict(supplements=2)):
        f = facts(status=10, finished_at=at(1, 25), outcome="approved", timeliness="early", **late)
        assert figures(f)[202101]["late"] == 1


def test_taking_a_dossier_back_leaves_nothing_and_a_change_moves_only_what_changed():
    before = facts()
    assert not change(before, before)
    rated = facts(status=10, finished_at=at(2, 1), outcome="approved", timeliness="early")
    delta = change(rated, replace(rated, rating=RatingFacts(4, 0, 1, False)))
    assert {k[0]: dict(+c) for k, c in delta.units.items() if +c} == {
        202102: {"rated": 1, "satisfied": 1, "i3_sum": 2, "i3_count": 1, "i4_sum": 1, "i4_count": 1}
    }
