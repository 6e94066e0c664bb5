"""The dossier state machine, rule by rule (Decree 61/2018 Art. 17–20), and its properties
over any sequence of actions (Hypothesis)."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.clock import VN_TZ
from app.domain.lifecycle import (
    TERMINAL,
    Action,
    Actor,
    Command,
    DossierState,
    Outcome,
    Refusal,
    RefusalKind,
    Status,
    Transition,
    allowed_actions,
    apply,
)
from app.services.calendar import default_calendar

CAL = default_calendar()
NOW = datetime(2021, 3, 15, 9, 0, tzinfo=VN_TZ)
DUE = datetime(2021, 3, 18, 17, 0, tzinfo=VN_TZ)
ROLES = ("reception", "specialist", "leader", "clerk")  # a commune procedure's workflow

CITIZEN = Actor("citizen", is_owner=True)
RECEPTION = Actor("reception", holds_step=True, at_receiving_unit=True)
STRANGER = Actor("citizen")


def holder(state: DossierState) -> Actor:
    return Actor(
        state.current_role, holds_step=True, at_receiving_unit=state.current_role in ("reception", "clerk")
    )


def run(state, action, actor, **kw) -> DossierState:
    result = apply(state, Command(action, actor, kw.pop("at", NOW), **kw), CAL)
    assert isinstance(result, Transition), result
    return result.after


def submitted(**kw) -> DossierState:
    return DossierState(Status.SUBMITTED, ROLES, **kw)


def in_processing() -> DossierState:
    s = run(submitted(), Action.RECEIVE, RECEPTION, due_at=DUE)
    return run(s, Action.FORWARD, RECEPTION)


def test_receiving_issues_form_01_and_starts_the_clock():
    result = apply(submitted(), Command(Action.RECEIVE, RECEPTION, NOW, due_at=DUE), CAL)
    assert result.after.status is Status.RECEIVED and result.after.due_at == DUE
    assert [e.name for e in result.events] == ["form.issued", "clock.started"]
    assert result.events[0].data == {"form": "01"}


def test_only_the_receiving_one_stop_unit_receives():
    other_unit = Actor("reception", holds_step=False, at_receiving_unit=False)
    refusal = apply(submitted(), Command(Action.RECEIVE, other_unit, NOW, due_at=DUE), CAL)
    assert isinstance(refusal, Refusal) and refusal.kind is RefusalKind.ACTOR


def test_a_supplement_is_asked_once_listing_every_item():
    s = in_processing()
    specialist = holder(s)
    no_list = apply(s, Command(Action.REQUEST_SUPPLEMENT, specialist, NOW), CAL)
    assert isinstance(no_list, Refusal) and no_list.kind is RefusalKind.INPUT
    s = run(s, Action.REQUEST_SUPPLEMENT, specialist, reasons=("Bản sao Giấy chứng sinh",))
    assert s.status is Status.SUPPLEMENT_REQUESTED and s.supplements == 1
    s = run(s, Action.SUPPLEMENT, CITIZEN, due_at=DUE + timedelta(days=3))
    assert s.status is Status.PROCESSING and s.due_at == DUE + timedelta(days=3)  # the clock restarted
    again = apply(s, Command(Action.REQUEST_SUPPLEMENT, holder(s), NOW, reasons=("x",)), CAL)
    assert isinstance(again, Refusal) and again.kind is RefusalKind.STATE and "một lần" in again.reason


def test_a_supplement_at_intake_returns_to_reception():
    s = run(submitted(), Action.REQUEST_SUPPLEMENT, RECEPTION, reasons=("Tờ khai chưa ký",))
    s = run(s, Action.SUPPLEMENT, CITIZEN)
    assert s.status is Status.SUBMITTED
    assert Action.RECEIVE in allowed_actions(s, RECEPTION)


def test_refusal_at_intake_needs_reasons_and_ends_the_dossier():
    s = run(submitted(), Action.REJECT, RECEPTION, reasons=("Không thuộc thẩm quyền",))
    assert s.status is Status.NOT_RECEIVED and s.status.is_terminal


def test_the_workflow_runs_to_approval_and_return():
    s = in_processing()
    assert s.step == 1 and s.current_role == "specialist"
    s = run(s, Action.FORWARD, holder(s))
    assert s.current_role == "leader"
    assert Action.FORWARD not in allowed_actions(s, holder(s))  # the next step is the return
    s = run(s, Action.APPROVE, holder(s))
    assert (s.status, s.outcome, s.current_role) == (Status.RESOLVED, Outcome.APPROVED, "clerk")
    s = run(s, Action.RETURN_RESULT, holder(s))
    assert s.status is Status.RETURNED and s.status.is_terminal


def test_refusal_after_appraisal_is_a_result_with_form_03():
    s = in_processing()
    result = apply(s, Command(Action.REFUSE, holder(s), NOW, reasons=("Không đủ điều kiện",)), CAL)
    assert result.after.outcome is Outcome.REFUSED and result.after.status is Status.RESOLVED
    assert {"form": "03", "reasons": ["Không đủ điều kiện"]} in [e.data for e in result.events]


def test_only_the_step_holder_moves_the_dossier():
    s = in_processing()  # held by a specialist
    for actor in (Actor("leader", holds_step=False), CITIZEN, STRANGER):
        refusal = apply(s, Command(Action.FORWARD, actor, NOW), CAL)
        assert isinstance(refusal, Refusal) and refusal.kind is RefusalKind.ACTOR


def test_an_apology_is_once_and_at_least_one_working_day_before_the_due_date():
    s = in_processing()
    leader_here = Actor("leader", holds_step=True)
    new_due = DUE + timedelta(days=5)
    # Due Thursday 18/3: the apology must come by Wednesday 17/3.
    late = apply(
        s,
        Command(
            Action.APOLOGIZE,
            RECEPTION,
            DUE - timedelta(hours=2),
            reasons=("Cần xác minh",),
            new_due_at=new_due,
        ),
        CAL,
    )
    assert isinstance(late, Refusal) and "01 ngày làm việc" in late.reason
    s = run(
        s,
        Action.APOLOGIZE,
        leader_here,
        at=DUE - timedelta(days=1),
        reasons=("Cần xác minh",),
        new_due_at=new_due,
    )
    assert s.apologized and s.due_at == new_due
    twice = apply(
        s,
        Command(Action.APOLOGIZE, leader_here, NOW, reasons=("x",), new_due_at=new_due + timedelta(days=1)),
        CAL,
    )
    assert isinstance(twice, Refusal) and "một lần" in twice.reason


def test_withdrawal_before_reception_stops_at_once_and_after_reception_asks_the_unit():
    assert run(submitted(), Action.WITHDRAW, CITIZEN).status is Status.STOPPED
    waiting = run(submitted(), Action.REQUEST_SUPPLEMENT, RECEPTION, reasons=("Tờ khai chưa ký",))
    assert run(waiting, Action.WITHDRAW, CITIZEN).status is Status.STOPPED
    s = run(in_processing(), Action.WITHDRAW, CITIZEN)
    assert s.status is Status.WITHDRAWAL_REQUESTED
    assert run(s, Action.STOP, RECEPTION).status is Status.STOPPED
    assert isinstance(apply(in_processing(), Command(Action.WITHDRAW, STRANGER, NOW), CAL), Refusal)


def test_payment_requested_then_paid_resumes_processing():
    s = replace(in_processing(), fee_due=True)
    s = run(s, Action.REQUEST_PAYMENT, holder(s))
    assert s.status is Status.PAYMENT_REQUESTED
    s = run(s, Action.PAY, Actor("system"))
    assert s.status is Status.PROCESSING and s.paid
    assert isinstance(
        apply(s, Command(Action.PAY, Actor("system"), NOW), CAL), Refusal
    )  # a replayed callback


def test_the_seal_follows_the_leaders_signature():
    s = in_processing()
    s = run(s, Action.FORWARD, holder(s))
    s = run(s, Action.APPROVE, holder(s))
    clerk = Actor("clerk", holds_step=True, at_receiving_unit=True)
    assert isinstance(apply(s, Command(Action.SIGN, clerk, NOW), CAL), Refusal)
    s = run(s, Action.SIGN, Actor("leader"))
    s = run(s, Action.SIGN, clerk)
    assert s.signatures == {"leader", "seal"}


# --- properties ----------------------------------------------------------------------

ACTORS = st.sampled_from(
    [
        CITIZEN,
        STRANGER,
        RECEPTION,
        Actor("system"),
        Actor("reception", at_receiving_unit=True),
        Actor("leader", at_receiving_unit=True),
        *[Actor(r, holds_step=True) for r in ROLES],
        *[Actor(r, holds_step=True, at_receiving_unit=True) for r in ROLES],
    ]
)
STEPS = st.lists(st.tuples(st.sampled_from(list(Action)), ACTORS, st.booleans()), max_size=40)


def invariants(s: DossierState) -> None:
    assert isinstance(s.status, Status)
    assert 0 <= s.step <= s.last_step
    assert s.supplements <= 1
    assert (s.outcome is not None) == (
        s.status in (Status.RESOLVED, Status.RETURNED)
    ) or s.status is Status.STOPPED
    if s.status in (Status.RESOLVED, Status.RETURNED):
        assert s.step == s.last_step
    if s.status is Status.SUPPLEMENT_REQUESTED:
        assert s.resume_status in (Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING)
    if (
        s.status not in (Status.SUBMITTED, Status.NOT_RECEIVED, Status.SUPPLEMENT_REQUESTED)
        and s.status is not Status.STOPPED
    ):
        assert s.due_at is not None


@settings(max_examples=1500, deadline=None)
@given(STEPS, st.booleans())
def test_no_sequence_of_actions_reaches_an_undefined_state(steps, fee_due):
    s = DossierState(Status.SUBMITTED, ROLES, fee_due=fee_due)
    at = NOW
    for action, actor, with_details in steps:
        at += timedelta(hours=1)
        details = (
            dict(
                reasons=("Lý do",),
                due_at=at + timedelta(days=3),
                new_due_at=(s.due_at or at) + timedelta(days=7),
            )
            if with_details
            else {}
        )
        before = s
        result = apply(s, Command(action, actor, at, **details), CAL)
        if isinstance(result, Refusal):
            assert s == before  # refused actions change nothing
            assert (
                action not in allowed_actions(s, actor)
                or result.kind is RefusalKind.INPUT
                or result.kind is RefusalKind.STATE
            )
        else:
            assert result.before == before and action in allowed_actions(before, actor)
            s = result.after
        invariants(s)
        if s.status in TERMINAL:
            assert allowed_actions(s, actor) == []


def test_value_classes_built_without_their_init_equal_their_constructors():
    """lifecycle.built skips a frozen dataclass's __init__ on hot paths: it must give the
    same object (every field, equality, hash, immutability) for the classes built so."""
    import dataclasses
    from datetime import datetime

    from app.domain.lifecycle import Actor, Command, Event, Transition, built
    from app.domain.records import NewStep, Recorded

    at = datetime(2021, 3, 1, 9, 0)
    state = DossierState(Status.SUBMITTED, ("reception", "leader", "reception"))
    command = Command(Action.RECEIVE, Actor("reception"), at, ("a",), None, at)
    transition = Transition(state, state, (Event("x", {"k": 1}),))
    step = NewStep(1, "k", "U", "leader", "h", at, at)
    for value in (command, transition, step, Recorded(transition, {"a": 1}, True, step, {"d": 2})):
        cls = type(value)
        names = [f.name for f in dataclasses.fields(cls)]
        assert set(names) == set(vars(value))  # every field, and nothing else
        copy = built(cls, **{n: getattr(value, n) for n in names})
        assert copy == value and type(copy) is cls
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(copy, names[0], None)
    assert hash(built(Command, **vars(command))) == hash(command)
