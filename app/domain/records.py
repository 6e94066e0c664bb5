"""What a dossier's transition writes, computed without I/O from the row as stored: the new
values of the dossier row, whether the open workflow step closes, the step that opens, and
the details of its audit entry.

The portal applies a ``Recorded`` in one transaction per action (app/services/dossiers.py);
the simulator applies thousands of them to rows held in memory and writes them in batches
(app/simulation). Both therefore record a dossier's life identically: the same state machine,
calendar, deadlines, workflow steps and audit entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.calendar import Timeliness, WorkingCalendar, classify
from app.domain.directory import Directory
from app.domain.lifecycle import (
    Action,
    Actor,
    Command,
    DossierState,
    Outcome,
    Refusal,
    Status,
    Transition,
    apply,
    built,
)
from procedures.schema import Procedure

#: Statuses that end the unit's work on a dossier: its resolution time is fixed then.
CLOSING = frozenset({Status.NOT_RECEIVED, Status.STOPPED, Status.RESOLVED})
#: Enum members by stored value (a dict look-up; ``Status(n)`` is slow and runs millions of
#: times when histories are generated).
_STATUS = {int(s): s for s in Status}
_OUTCOME = {o.value: o for o in Outcome}
#: Stored values by member (an enum's ``.value`` is a slow property in a hot loop).
_TIMELINESS = {t: t.value for t in Timeliness}
#: Per procedure code: the procedure and its workflow's roles (checked by identity).
_ROLES: dict[str, tuple[Procedure, tuple[str, ...]]] = {}
_NO_SIGNATURES: frozenset[str] = frozenset()


def step_roles(p: Procedure) -> tuple[str, ...]:
    known = _ROLES.get(p.code)
    if known is None or known[0] is not p:
        known = _ROLES[p.code] = (p, tuple(s.role for s in p.workflow))
    return known[1]


def state_of(row: dict[str, Any], p: Procedure) -> DossierState:
    """The lifecycle state held in a dossier row."""
    # Built without the frozen dataclass's __init__: the simulator reads a state at every
    # one of its ~10^6 transitions a year.
    return built(
        DossierState,
        status=_STATUS[row["status"]],
        step_roles=step_roles(p),
        due_at=row["due_at"],
        step=row["step"],
        supplements=row["supplements"],
        resume_status=_STATUS[row["resume_status"]] if row["resume_status"] else None,
        apologized=row["apologized"],
        outcome=_OUTCOME[row["outcome"]] if row["outcome"] else None,
        signatures=frozenset(filter(None, row["signatures"].split(",")))
        if row["signatures"]
        else _NO_SIGNATURES,
        fee_due=row["fee_due"],
        paid=row["paid"],
    )


#: Actors are immutable and few (a role and three flags): made once each.
_ACTORS: dict[tuple[str, bool, bool, bool], Actor] = {}


def actor_at(row: dict[str, Any], role: str, unit_code: str | None, *, is_owner: bool = False) -> Actor:
    """Who acts on ``row``: an officer of ``role`` at ``unit_code``, or its owner."""
    key = (
        role,
        is_owner,
        bool(row["step_unit"]) and unit_code == row["step_unit"] and role == row["step_role"],
        unit_code == row["receiving_unit"],
    )
    actor = _ACTORS.get(key)
    if actor is None:
        actor = _ACTORS[key] = Actor(*key)
    return actor


@dataclass(frozen=True)
class NewStep:
    """A workflow step the dossier enters (a DossierStep row)."""

    position: int
    step_key: str
    unit_code: str
    role: str
    handoff: str
    started_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Recorded:
    transition: Transition
    #: Dossier columns → their new values.
    changes: dict[str, Any]
    #: The open step ends now (by whoever acts), on time or not against its own due time.
    close_step: bool
    new_step: NewStep | None
    audit_details: dict[str, Any] = field(default_factory=dict)


def record(
    row: dict[str, Any],
    p: Procedure,
    action: Action,
    actor: Actor,
    now: datetime,
    calendar: WorkingCalendar,
    directory: Directory,
    *,
    reasons: tuple[str, ...] = (),
    new_due_at: datetime | None = None,
) -> Recorded | Refusal:
    """The transition of ``row`` by ``action`` at ``now``, and everything it writes."""
    state = state_of(row, p)
    due_at = None
    if action is Action.RECEIVE or (action is Action.SUPPLEMENT and row["received_at"] is not None):
        # The time limit starts at reception, and restarts from a complete supplement (Art. 19.4).
        due_at = calendar.due_at(now, p.time_limit.value, p.time_limit.unit)
    reasons = tuple(r.strip() for r in reasons if r.strip()) if reasons else ()
    result = apply(
        state,
        built(
            Command, action=action, actor=actor, at=now, reasons=reasons, new_due_at=new_due_at, due_at=due_at
        ),
        calendar,
    )
    if isinstance(result, Refusal):
        return result
    after = result.after
    changes: dict[str, Any] = {
        "status": int(after.status),
        "step": after.step,
        "supplements": after.supplements,
        "resume_status": int(after.resume_status) if after.resume_status else None,
        "apologized": after.apologized,
        "due_at": after.due_at,
        "outcome": after.outcome.value if after.outcome else None,
        "signatures": ",".join(sorted(after.signatures)) if after.signatures else "",
        "paid": after.paid,
        "updated_at": now,
    }
    if action is Action.RECEIVE:
        changes["received_at"] = now
        changes["original_due_at"] = after.due_at
    close_step, new_step = False, None
    if after.step != state.step or action is Action.RECEIVE:
        close_step = True
        step = p.workflow[after.step]
        unit = directory.resolve(step.unit, row["receiving_unit"])
        new_step = built(
            NewStep,
            position=after.step,
            step_key=step.key,
            unit_code=unit.code if unit else "",
            role=step.role,
            handoff=step.handoff,
            started_at=now,
            due_at=calendar.add_working_hours(now, step.hours),
        )
        changes.update(
            step_unit=unit.code if unit else None,
            step_role=step.role,
            step_started_at=now,
            step_due_at=new_step.due_at,
        )
    if after.status in CLOSING and state.status not in CLOSING:
        changes["finished_at"] = now
        if after.due_at:
            changes["timeliness"] = _TIMELINESS[classify(now, after.due_at)]
    if after.status is Status.RETURNED:
        changes["returned_at"] = now
        close_step = True
    if after.status.is_terminal:
        changes.update(step_unit=None, step_role=None, step_due_at=None)
        if action in (Action.REJECT, Action.STOP):
            close_step = True
    details = {
        "events": [e.name for e in result.events],
        "reasons": list(reasons),
        **({"new_due_at": new_due_at.isoformat()} if new_due_at else {}),
    }
    return built(
        Recorded,
        transition=result,
        changes=changes,
        close_step=close_step,
        new_step=new_step,
        audit_details=details,
    )


# --- histories held in memory (the simulator, the bulk loader) ----------------------------------


def case_fee(p: Procedure, channel: int) -> int:
    """The per-case fees of a procedure (the online amount when submitted online)."""
    return sum(
        i.online_amount if channel == 2 and i.online_amount is not None else i.amount
        for i in p.fee.items
        if i.per == "case"
    )


def submitted_row(
    dossier_id: int,
    code: str,
    p: Procedure,
    unit_code: str,
    channel: int,
    applicant: tuple[str, str, str],
    at: datetime,
) -> dict[str, Any]:
    """The dossier row a submission creates, as a dict of its columns."""
    name, cccd, phone = applicant
    fee = case_fee(p, channel)
    return {
        "id": dossier_id,
        "code": code,
        "procedure_code": p.code,
        "receiving_unit": unit_code,
        "channel": channel,
        "applicant_id": None,
        "applicant_name": name,
        "applicant_cccd": cccd,
        "applicant_phone": phone,
        "applicant_email": "",
        "form": "{}",
        "status": int(Status.SUBMITTED),
        "step": 0,
        "step_unit": unit_code,
        "step_role": p.workflow[0].role,
        "step_started_at": None,
        "step_due_at": None,
        "due_at": None,
        "original_due_at": None,
        "submitted_at": at,
        "received_at": None,
        "finished_at": None,
        "returned_at": None,
        "timeliness": None,
        "supplements": 0,
        "resume_status": None,
        "apologized": False,
        "overdue": False,
        "outcome": None,
        "signatures": "",
        "fee_total": fee,
        "fee_due": fee > 0,
        "paid": False,
        "idempotency_key": None,
        "version": 0,
        "updated_at": at,
    }


def audit_entry(
    at: datetime, action: str, who: str, role: str, code: str, before, after, details: dict[str, Any]
) -> dict[str, Any]:
    """An audit event about a dossier, as ``audit.record`` would write it (before chaining)."""
    return {
        "at": at,
        "actor_id": None,
        "actor": who,
        "actor_role": role,
        "action": action,
        "object_type": "dossier",
        "object_id": code,
        "dossier_code": code,
        "status_before": before,
        "status_after": after,
        "details": details,
        "ip": "",
    }


def apply_in_memory(
    row: dict[str, Any], steps: list[dict[str, Any]], done: Recorded, at: datetime, who: str
) -> int:
    """Apply a transition to a row and its steps held in memory, as DossierService does in
    the database; returns the status before."""
    if done.close_step and steps and steps[-1]["finished_at"] is None:
        last = steps[-1]
        last.update(finished_at=at, actor=who, timeliness=_TIMELINESS[classify(at, last["due_at"])])
    if (s := done.new_step) is not None:
        steps.append(
            {
                "dossier_id": row["id"],
                "position": s.position,
                "step_key": s.step_key,
                "unit_code": s.unit_code,
                "role": s.role,
                "handoff": s.handoff,
                "started_at": s.started_at,
                "due_at": s.due_at,
                "finished_at": None,
                "timeliness": None,
                "actor": "",
            }
        )
    before = row["status"]
    row.update(done.changes)
    row["version"] += 1
    return before


def rating_row(
    row: dict[str, Any], level: int, at: datetime, source: str, harassment: bool = False
) -> dict[str, Any]:
    """The rating of a finished dossier, as a dict of the rating table's columns."""
    return {
        "dossier_id": row["id"],
        "dossier_code": row["code"],
        "unit_code": row["receiving_unit"],
        "procedure_code": row["procedure_code"],
        "level": level,
        "reception_contacts": row["supplements"],
        "agencies_contacted": 1,
        "harassment": harassment,
        "comment": "",
        "source": source,
        "rated_by": None,
        "rated_at": at,
        "updated_at": at,
        "revisions": 0,
    }
