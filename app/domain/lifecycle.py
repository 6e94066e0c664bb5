"""The dossier state machine (Decree 61/2018 Art. 17–20), on the national status codes 1–10.

``apply(state, command, calendar)`` is a pure function: it returns a ``Transition`` (the
new state and the events it produced) or a ``Refusal`` (why not, and whether it is the
state or the caller that is wrong). Nothing else changes a dossier's state.

A dossier follows its procedure's workflow: step 0 is reception at the one-stop unit,
the steps in between resolve it (specialists, leaders, other agencies and levels), the
last step returns the result at the one-stop unit. ``step`` is the index of the step
that holds the dossier now. Orthogonal flags: supplement asked (at most once),
apologised (at most once), outcome (approved / refused), signatures, paid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from app.domain.calendar import WorkingCalendar
from app.domain.clock import VN_TZ


class Status(enum.IntEnum):
    """National dossier status codes (reference §1.5.7)."""

    SUBMITTED = 1  # Mới đăng ký
    RECEIVED = 2  # Được tiếp nhận
    NOT_RECEIVED = 3  # Không được tiếp nhận
    PROCESSING = 4  # Đang xử lý
    SUPPLEMENT_REQUESTED = 5  # Yêu cầu bổ sung giấy tờ
    PAYMENT_REQUESTED = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWAL_REQUESTED = 7  # Công dân yêu cầu rút hồ sơ
    STOPPED = 8  # Dừng xử lý
    RESOLVED = 9  # Đã xử lý xong
    RETURNED = 10  # Đã trả kết quả

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


STATUS_LABELS = {
    Status.SUBMITTED: "Mới đăng ký",
    Status.RECEIVED: "Được tiếp nhận",
    Status.NOT_RECEIVED: "Không được tiếp nhận",
    Status.PROCESSING: "Đang xử lý",
    Status.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
    Status.PAYMENT_REQUESTED: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Status.WITHDRAWAL_REQUESTED: "Công dân yêu cầu rút hồ sơ",
    Status.STOPPED: "Dừng xử lý",
    Status.RESOLVED: "Đã xử lý xong",
    Status.RETURNED: "Đã trả kết quả",
}
TERMINAL = frozenset({Status.NOT_RECEIVED, Status.STOPPED, Status.RETURNED})
#: Before a result exists: where withdrawal and apology are possible.
OPEN = frozenset({Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED})


class Action(str, enum.Enum):
    RECEIVE = "receive"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    REJECT = "reject"
    FORWARD = "forward"
    APPROVE = "approve"
    REFUSE = "refuse"
    REQUEST_PAYMENT = "request_payment"
    PAY = "pay"
    APOLOGIZE = "apologize"
    SIGN = "sign"
    RETURN_RESULT = "return_result"
    WITHDRAW = "withdraw"
    STOP = "stop"


class Outcome(str, enum.Enum):
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True)
class Actor:
    """Who acts, as the caller established it (the domain does not look anything up).

    ``holds_step``: the actor's role and unit are those of the current step.
    ``at_receiving_unit``: the actor works at the one-stop unit that received the dossier.
    """

    role: str
    is_owner: bool = False
    holds_step: bool = False
    at_receiving_unit: bool = False

    @property
    def is_system(self) -> bool:
        return self.role == "system"


SYSTEM = Actor("system")


@dataclass(frozen=True)
class DossierState:
    status: Status
    #: Roles of the workflow's steps, in order (step 0 reception … last: return).
    step_roles: tuple[str, ...]
    due_at: datetime | None = None
    step: int = 0
    supplements: int = 0
    #: The status to go back to when the citizen answers the supplement request.
    resume_status: Status | None = None
    apologized: bool = False
    outcome: Outcome | None = None
    signatures: frozenset[str] = frozenset()
    fee_due: bool = False
    paid: bool = False

    @property
    def last_step(self) -> int:
        return len(self.step_roles) - 1

    @property
    def current_role(self) -> str:
        return self.step_roles[self.step]


@dataclass(frozen=True)
class Command:
    action: Action
    actor: Actor
    at: datetime
    #: Reasons (Forms 02, 03, 04), one item per missing document or ground.
    reasons: tuple[str, ...] = ()
    #: Apology: the new appointment.
    new_due_at: datetime | None = None
    #: Receive, or a supplement answered during processing: the appointment the caller
    #: computed with the calendar from this moment (the clock starts or restarts).
    due_at: datetime | None = None


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    before: DossierState
    after: DossierState
    events: tuple[Event, ...]


class RefusalKind(str, enum.Enum):
    STATE = "state"  # not possible in this state → 409
    ACTOR = "actor"  # not for this caller → 403
    INPUT = "input"  # missing or invalid details → 422


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    reason: str


@dataclass(frozen=True)
class Policy:
    #: Require the leader's and the seal signatures before returning a result.
    require_signatures: bool = False


def _evolve(state: DossierState, **changes: Any) -> DossierState:
    """``dataclasses.replace`` without its introspection (the simulator calls this millions
    of times); DossierState has no derived fields, so copying its attributes is enough."""
    return built(DossierState, **(state.__dict__ | changes))


T = TypeVar("T")


def built(cls: type[T], /, **fields: Any) -> T:
    """An instance of the frozen dataclass ``cls`` from *every* one of its fields, without
    the generated ``__init__`` (one ``object.__setattr__`` per field: ~3 µs for a Command,
    millions of times in a simulated year). For plain value classes only: no defaults are
    applied and no ``__post_init__`` runs (tests/unit/test_lifecycle.py checks the classes
    built this way against their constructors)."""
    new = object.__new__(cls)
    new.__dict__.update(fields)
    return new


def _state(reason: str) -> Refusal:
    return Refusal(RefusalKind.STATE, reason)


def _actor(reason: str) -> Refusal:
    return Refusal(RefusalKind.ACTOR, reason)


def check(state: DossierState, action: Action, actor: Actor, policy: Policy = Policy()) -> Refusal | None:
    """Whether ``actor`` may take ``action`` now (state and permission, not details)."""
    s, st = state.status, state
    officer_here = actor.holds_step
    match action:
        case Action.RECEIVE | Action.REJECT:
            if s is not Status.SUBMITTED and not (
                s is Status.SUPPLEMENT_REQUESTED and st.resume_status is Status.SUBMITTED
            ):
                return _state("Chỉ hồ sơ mới đăng ký mới được tiếp nhận hoặc từ chối tiếp nhận.")
            if s is Status.SUPPLEMENT_REQUESTED and action is Action.RECEIVE:
                return _state("Hồ sơ đang chờ công dân bổ sung.")
            if not (actor.role == "reception" and actor.at_receiving_unit):
                return _actor("Chỉ Bộ phận Một cửa nơi nộp hồ sơ được tiếp nhận hoặc từ chối.")
        case Action.REQUEST_SUPPLEMENT:
            if s not in (Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING):
                return _state("Không thể yêu cầu bổ sung ở trạng thái này.")
            if st.supplements >= 1:
                return _state("Hồ sơ chỉ được yêu cầu bổ sung một lần (Nghị định 61/2018, Điều 15, 19).")
            if s is Status.SUBMITTED:
                if not (actor.role == "reception" and actor.at_receiving_unit):
                    return _actor("Chỉ Bộ phận Một cửa nơi nộp hồ sơ được yêu cầu bổ sung khi tiếp nhận.")
            elif not (officer_here and actor.role in ("reception", "specialist")):
                return _actor("Chỉ cán bộ đang xử lý hồ sơ được yêu cầu bổ sung.")
        case Action.SUPPLEMENT:
            if s is not Status.SUPPLEMENT_REQUESTED:
                return _state("Hồ sơ không ở trạng thái chờ bổ sung.")
            if not actor.is_owner:
                return _actor("Chỉ người nộp hồ sơ được bổ sung.")
        case Action.FORWARD:
            if s not in (Status.RECEIVED, Status.PROCESSING):
                return _state("Chỉ chuyển tiếp được hồ sơ đã tiếp nhận, đang xử lý.")
            if st.step + 1 >= st.last_step:
                return _state("Bước tiếp theo là trả kết quả: lãnh đạo phê duyệt hoặc từ chối giải quyết.")
            if not officer_here:
                return _actor("Chỉ người đang giữ hồ sơ ở bước này được chuyển tiếp.")
        case Action.APPROVE:
            if s is not Status.PROCESSING:
                return _state("Chỉ phê duyệt được hồ sơ đang xử lý.")
            if st.step + 1 != st.last_step:
                return _state("Hồ sơ chưa đến bước phê duyệt.")
            if not (officer_here and actor.role == "leader"):
                return _actor("Chỉ lãnh đạo ở bước phê duyệt được phê duyệt.")
        case Action.REFUSE:
            if s is not Status.PROCESSING:
                return _state("Chỉ từ chối giải quyết được hồ sơ đang xử lý.")
            if not (officer_here and actor.role in ("specialist", "leader")):
                return _actor("Chỉ chuyên viên hoặc lãnh đạo đang xử lý được từ chối giải quyết.")
        case Action.REQUEST_PAYMENT:
            if s is not Status.PROCESSING:
                return _state("Chỉ yêu cầu nộp phí khi hồ sơ đang xử lý.")
            if st.paid or not st.fee_due:
                return _state("Hồ sơ không còn khoản phí, lệ phí phải nộp.")
            if not officer_here:
                return _actor("Chỉ người đang giữ hồ sơ được yêu cầu nộp phí.")
        case Action.PAY:
            if st.paid or not st.fee_due:
                return _state("Hồ sơ không có khoản phí, lệ phí chờ thanh toán.")
            if s not in (Status.SUBMITTED, Status.PAYMENT_REQUESTED, Status.RECEIVED, Status.PROCESSING):
                return _state("Không thể thanh toán ở trạng thái này.")
            if not (
                actor.is_system or actor.is_owner or (actor.role == "reception" and actor.at_receiving_unit)
            ):
                return _actor("Chỉ người nộp hồ sơ hoặc cổng thanh toán được ghi nhận thanh toán.")
        case Action.APOLOGIZE:
            if s not in OPEN:
                return _state("Chỉ xin lỗi, hẹn lại khi hồ sơ chưa có kết quả.")
            if st.apologized:
                return _state(
                    "Việc hẹn lại ngày trả kết quả chỉ được thực hiện một lần (Nghị định 61/2018, Điều 19)."
                )
            if not (
                (officer_here and actor.role == "leader")
                or (actor.role == "reception" and actor.at_receiving_unit)
            ):
                return _actor("Chỉ lãnh đạo đang giải quyết hoặc Bộ phận Một cửa được xin lỗi, hẹn lại.")
        case Action.SIGN:
            if s is not Status.RESOLVED:
                return _state("Chỉ ký số kết quả đã được giải quyết xong.")
            if actor.role == "leader":
                if "leader" in st.signatures:
                    return _state("Lãnh đạo đã ký kết quả này.")
            elif actor.role == "clerk":
                if "leader" not in st.signatures:
                    return _state("Văn thư đóng dấu sau khi lãnh đạo đã ký.")
                if "seal" in st.signatures:
                    return _state("Kết quả đã được đóng dấu (ký số cơ quan).")
            else:
                return _actor("Chỉ lãnh đạo hoặc văn thư được ký số kết quả.")
        case Action.RETURN_RESULT:
            if s is not Status.RESOLVED:
                return _state("Chỉ trả kết quả khi hồ sơ đã giải quyết xong.")
            if policy.require_signatures and not {"leader", "seal"} <= st.signatures:
                return _state("Kết quả chưa được ký số đầy đủ (lãnh đạo và con dấu cơ quan).")
            if not (officer_here or (actor.role == "reception" and actor.at_receiving_unit)):
                return _actor("Chỉ Bộ phận Một cửa nơi tiếp nhận được trả kết quả.")
        case Action.WITHDRAW:
            if s is not Status.SUBMITTED and s not in OPEN:
                return _state("Không thể rút hồ sơ đã có kết quả hoặc đã kết thúc.")
            if not actor.is_owner:
                return _actor("Chỉ người nộp hồ sơ được rút hồ sơ.")
        case Action.STOP:
            if s is not Status.WITHDRAWAL_REQUESTED:
                return _state("Chỉ dừng xử lý hồ sơ mà công dân đã yêu cầu rút.")
            if not (actor.at_receiving_unit and actor.role in ("reception", "leader")):
                return _actor("Chỉ Bộ phận Một cửa nơi tiếp nhận được dừng xử lý hồ sơ.")
    return None


def apply(
    state: DossierState, command: Command, calendar: WorkingCalendar, policy: Policy = Policy()
) -> Transition | Refusal:
    if refusal := check(state, command.action, command.actor, policy):
        return refusal
    a, st, at = command.action, state, command.at
    events: list[Event] = []

    def done(after: DossierState, *evs: Event) -> Transition:
        return built(Transition, before=state, after=after, events=tuple(events) + evs)

    match a:
        case Action.RECEIVE:
            if command.due_at is None:
                return Refusal(RefusalKind.INPUT, "Thiếu ngày hẹn trả kết quả.")
            return done(
                _evolve(st, status=Status.RECEIVED, resume_status=None, due_at=command.due_at),
                Event("form.issued", {"form": "01"}),
                Event("clock.started"),
            )
        case Action.REJECT:
            if not command.reasons:
                return Refusal(RefusalKind.INPUT, "Phải nêu rõ lý do từ chối tiếp nhận (Mẫu 03).")
            return done(
                _evolve(st, status=Status.NOT_RECEIVED, resume_status=None),
                Event("form.issued", {"form": "03", "reasons": list(command.reasons)}),
            )
        case Action.REQUEST_SUPPLEMENT:
            if not command.reasons:
                return Refusal(RefusalKind.INPUT, "Phải liệt kê đầy đủ các nội dung cần bổ sung (Mẫu 02).")
            return done(
                _evolve(
                    st,
                    status=Status.SUPPLEMENT_REQUESTED,
                    supplements=st.supplements + 1,
                    resume_status=st.status,
                ),
                Event("form.issued", {"form": "02", "reasons": list(command.reasons)}),
                Event("clock.paused"),
            )
        case Action.SUPPLEMENT:
            resume = st.resume_status or Status.SUBMITTED
            after = _evolve(st, status=resume, resume_status=None)
            if resume is not Status.SUBMITTED:
                # Decree 61/2018 Art. 19.4: the time limit restarts from the complete dossier.
                if command.due_at is None:
                    return Refusal(RefusalKind.INPUT, "Thiếu thời hạn giải quyết tính lại sau khi bổ sung.")
                after = _evolve(after, due_at=command.due_at)
            return done(after, Event("supplement.received"), Event("clock.restarted"))
        case Action.FORWARD:
            nxt = st.step + 1
            return done(
                _evolve(st, status=Status.PROCESSING, step=nxt),
                Event("step.handed_off", {"from": st.step, "to": nxt}),
            )
        case Action.APPROVE:
            return done(
                _evolve(st, status=Status.RESOLVED, outcome=Outcome.APPROVED, step=st.last_step),
                Event("step.handed_off", {"from": st.step, "to": st.last_step}),
                Event("result.approved"),
            )
        case Action.REFUSE:
            if not command.reasons:
                return Refusal(RefusalKind.INPUT, "Phải nêu rõ lý do từ chối giải quyết (Mẫu 03).")
            return done(
                _evolve(st, status=Status.RESOLVED, outcome=Outcome.REFUSED, step=st.last_step),
                Event("step.handed_off", {"from": st.step, "to": st.last_step}),
                Event("form.issued", {"form": "03", "reasons": list(command.reasons)}),
            )
        case Action.REQUEST_PAYMENT:
            return done(_evolve(st, status=Status.PAYMENT_REQUESTED), Event("payment.requested"))
        case Action.PAY:
            status = Status.PROCESSING if st.status is Status.PAYMENT_REQUESTED else st.status
            return done(_evolve(st, status=status, paid=True), Event("payment.succeeded"))
        case Action.APOLOGIZE:
            if st.due_at is None or command.new_due_at is None or command.new_due_at <= st.due_at:
                return Refusal(RefusalKind.INPUT, "Ngày hẹn trả mới phải sau ngày hẹn hiện tại.")
            if not command.reasons:
                return Refusal(RefusalKind.INPUT, "Phải nêu lý do chậm trả kết quả (Mẫu 04).")
            latest = st.due_at.astimezone(VN_TZ).date() - timedelta(days=1)
            while not calendar.is_working_day(latest):  # the last working day before the due day
                latest -= timedelta(days=1)
            if at.astimezone(VN_TZ).date() > latest:
                return _state(
                    "Phải xin lỗi, hẹn lại chậm nhất 01 ngày làm việc trước ngày hẹn trả "
                    "(Nghị định 61/2018, Điều 19)."
                )
            return done(
                _evolve(st, apologized=True, due_at=command.new_due_at),
                Event(
                    "form.issued",
                    {
                        "form": "04",
                        "reasons": list(command.reasons),
                        "new_due_at": command.new_due_at.isoformat(),
                    },
                ),
            )
        case Action.SIGN:
            kind = "leader" if command.actor.role == "leader" else "seal"
            return done(_evolve(st, signatures=st.signatures | {kind}), Event("result.signed", {"by": kind}))
        case Action.RETURN_RESULT:
            return done(_evolve(st, status=Status.RETURNED), Event("result.returned"))
        case Action.WITHDRAW:
            never_received = st.status is Status.SUBMITTED or st.resume_status is Status.SUBMITTED
            if never_received:  # nothing to stop
                return done(_evolve(st, status=Status.STOPPED), Event("dossier.withdrawn"))
            return done(_evolve(st, status=Status.WITHDRAWAL_REQUESTED), Event("withdrawal.requested"))
        case Action.STOP:
            return done(_evolve(st, status=Status.STOPPED), Event("dossier.stopped"))
    raise AssertionError(f"unhandled action {a}")  # pragma: no cover


def allowed_actions(state: DossierState, actor: Actor, policy: Policy = Policy()) -> list[Action]:
    return [a for a in Action if check(state, a, actor, policy) is None]
