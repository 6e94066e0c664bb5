"""Phản ánh, kiến nghị (feedback and complaints) about a dossier or a unit.

Each has a deadline of 15 working days [S: the 766 guide], an assignee at the unit, an
answer and the citizen's satisfaction with it. A second one by the same citizen about the
same dossier (or the same unit, when no dossier is named) is a *repeat*: Decision 766
counts repeats, late answers and unsatisfied citizens against the unit.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import msgspec

from app.db.engine import write_transaction
from app.db.tables import Feedback, User
from app.domain.calendar import classify
from app.domain.clock import VN_TZ, local_iso
from app.domain.roles import Role
from app.services import audit, rollup
from app.services.accounts import UserView
from app.services.audit import AuditEntry
from app.services.dossiers import DayNumbersExhausted, DossierService, day_numbers_exhausted
from app.services.errors import Conflict, Forbidden, Invalid, NotFound

ANSWER_WORKING_DAYS = 15
#: Officers of the unit who may assign and answer.
HANDLERS = (Role.RECEPTION, Role.LEADER, Role.SPECIALIST)


class FeedbackInput(msgspec.Struct, forbid_unknown_fields=True):
    subject: str
    body: str
    dossier_code: str = ""
    unit_code: str = ""


class AnswerInput(msgspec.Struct, forbid_unknown_fields=True):
    answer: str


class AssignInput(msgspec.Struct, forbid_unknown_fields=True):
    username: str


class SatisfactionInput(msgspec.Struct, forbid_unknown_fields=True):
    satisfied: bool


def feedback_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": row["code"],
        "dossier_code": row["dossier_code"],
        "unit_code": row["unit_code"],
        "subject": row["subject"],
        "body": row["body"],
        "filed_at": local_iso(row["filed_at"]),
        "due_at": local_iso(row["due_at"]),
        "assignee_id": row["assignee_id"],
        "answer": row["answer"],
        "answered_at": local_iso(row["answered_at"]),
        "timeliness": row["timeliness"],
        "satisfied": row["satisfied"],
        "repeat": row["repeat_of"] is not None,
        "status": row["status"],
    }


@dataclass
class FeedbackService:
    dossiers: DossierService

    @property
    def clock(self):
        return self.dossiers.clock

    async def file(self, spec: FeedbackInput, user: UserView, ip: str = "") -> dict[str, Any]:
        if user.role is not Role.CITIZEN:
            raise Forbidden("Phản ánh, kiến nghị do công dân gửi từ tài khoản của mình.")
        errors = {}
        if not spec.subject.strip() or len(spec.subject) > 200:
            errors["subject"] = "Nhập tiêu đề (tối đa 200 ký tự)."
        if not spec.body.strip() or len(spec.body) > 5000:
            errors["body"] = "Nhập nội dung (tối đa 5.000 ký tự)."
        unit_code = spec.unit_code.strip()
        dossier_code = spec.dossier_code.strip() or None
        if dossier_code:
            row = await self.dossiers.load_row(dossier_code)
            if row["applicant_id"] != user.id:
                raise Forbidden("Bạn chỉ phản ánh về hồ sơ của mình.")
            unit_code = row["receiving_unit"]
        elif not unit_code or self.dossiers.directory.get(unit_code) is None:
            errors["unit_code"] = "Chọn hồ sơ hoặc đơn vị được phản ánh."
        if errors:
            raise Invalid("Phản ánh, kiến nghị chưa hợp lệ.", errors)
        now = self.clock.now()
        last_day = self.dossiers.calendar.add_working_days(now.astimezone(VN_TZ).date(), ANSWER_WORKING_DAYS)
        due = datetime.combine(last_day, time(17, 0), VN_TZ)
        tracked = rollup.tracked(dossier_code) if dossier_code else nullcontext()
        async with write_transaction(), tracked:
            earlier = (
                await Feedback.select(Feedback.id)
                .where(
                    (Feedback.citizen_id == user.id)
                    & (
                        (Feedback.dossier_code == dossier_code)
                        if dossier_code
                        else (Feedback.dossier_code.is_null() & (Feedback.unit_code == unit_code))
                    )
                )
                .order_by(Feedback.id)
                .first()
            )
            try:
                number = await self.dossiers.next_sequence("PAKN", now)
            except DayNumbersExhausted:
                raise day_numbers_exhausted("mã phản ánh, kiến nghị", now, "Cổng", "gửi") from None
            code = f"PAKN-{now.astimezone(VN_TZ):%y%m%d}-{number:04d}"
            await Feedback.insert(
                Feedback(
                    code=code,
                    citizen_id=user.id,
                    dossier_code=dossier_code,
                    unit_code=unit_code,
                    subject=spec.subject.strip(),
                    body=spec.body.strip(),
                    filed_at=now,
                    due_at=due,
                    repeat_of=earlier["id"] if earlier else None,
                    status="open",
                )
            )
            await self._audit(user, ip, "feedback.file", code, dossier_code, {"unit_code": unit_code})
        return await self._get(code)

    async def _get(self, code: str) -> dict[str, Any]:
        row = await Feedback.select().where(Feedback.code == code).first()
        if row is None:
            raise NotFound(f"Không có phản ánh, kiến nghị {code}.")
        return feedback_json(row)

    async def _audit(
        self, user: UserView, ip: str, action: str, code: str, dossier: str | None, details
    ) -> None:
        await audit.record(
            self.clock,
            audit.Actor(user.id, user.username, user.role.value, ip),
            AuditEntry(action, "feedback", code, dossier_code=dossier, details=details),
        )

    def _handler_of(self, row: dict[str, Any], user: UserView) -> None:
        if user.role not in HANDLERS or user.unit_code != row["unit_code"]:
            raise Forbidden("Chỉ cán bộ của đơn vị bị phản ánh được phân công, trả lời.")

    async def view(self, code: str, user: UserView) -> dict[str, Any]:
        """One feedback for its citizen, the handlers of its unit, admins and auditors."""
        row = await self._row(code)
        own = user.role is Role.CITIZEN and row["citizen_id"] == user.id
        handler = user.role in HANDLERS and user.unit_code == row["unit_code"]
        if not (own or handler or user.role in (Role.ADMIN, Role.AUDITOR)):
            raise Forbidden("Bạn không có quyền xem phản ánh, kiến nghị này.")
        return feedback_json(row)

    async def handlers(self, unit_code: str) -> list[dict[str, Any]]:
        """The officers of a unit who may be assigned a feedback to answer."""
        return (
            await User.select(User.id, User.username, User.full_name, User.role)
            .where(
                (User.unit_code == unit_code)
                & User.role.is_in([r.value for r in HANDLERS])
                & (User.active == True)  # noqa: E712  (Piccolo builds SQL from the comparison)
            )
            .order_by(User.username)
        )

    async def listing(self, user: UserView, limit: int = 100) -> list[dict[str, Any]]:
        query = Feedback.select().order_by(Feedback.id, ascending=False).limit(limit)
        if user.role is Role.CITIZEN:
            query = query.where(Feedback.citizen_id == user.id)
        elif user.role in HANDLERS:
            query = query.where(Feedback.unit_code == user.unit_code)
        elif user.role not in (Role.ADMIN, Role.AUDITOR):
            raise Forbidden("Bạn không có quyền xem phản ánh, kiến nghị.")
        return [feedback_json(r) for r in await query]

    async def assign(self, code: str, spec: AssignInput, user: UserView, ip: str = "") -> dict[str, Any]:
        async with write_transaction():
            row = await self._row(code)
            self._handler_of(row, user)
            if row["status"] != "open":
                raise Conflict("Phản ánh này đã được trả lời.")
            officer = (
                await User.select(User.id, User.unit_code, User.role)
                .where(User.username == spec.username)
                .first()
            )
            if (
                officer is None
                or officer["unit_code"] != row["unit_code"]
                or officer["role"] not in {r.value for r in HANDLERS}
            ):
                raise Invalid(
                    "Người được phân công phải là cán bộ của đơn vị.", {"username": "Không hợp lệ."}
                )
            await Feedback.update({Feedback.assignee_id: officer["id"]}).where(Feedback.id == row["id"])
            await self._audit(
                user, ip, "feedback.assign", code, row["dossier_code"], {"assignee": spec.username}
            )
        return await self._get(code)

    async def answer(self, code: str, spec: AnswerInput, user: UserView, ip: str = "") -> dict[str, Any]:
        if not spec.answer.strip() or len(spec.answer) > 5000:
            raise Invalid("Nhập nội dung trả lời.", {"answer": "Nhập nội dung trả lời (tối đa 5.000 ký tự)."})
        now = self.clock.now()
        async with write_transaction():
            row = await self._row(code)
            self._handler_of(row, user)
            answered = (
                await Feedback.update(
                    {
                        Feedback.answer: spec.answer.strip(),
                        Feedback.answered_at: now,
                        Feedback.timeliness: classify(now, row["due_at"]).value,
                        Feedback.status: "answered",
                        Feedback.assignee_id: row["assignee_id"] or user.id,
                    }
                )
                .where((Feedback.id == row["id"]) & (Feedback.status == "open"))
                .returning(Feedback.id)
            )
            if not answered:
                raise Conflict("Phản ánh này đã được trả lời.")
            await self._audit(user, ip, "feedback.answer", code, row["dossier_code"], {})
        return await self._get(code)

    async def rate_answer(
        self, code: str, spec: SatisfactionInput, user: UserView, ip: str = ""
    ) -> dict[str, Any]:
        async with write_transaction():
            row = await self._row(code)
            if user.role is not Role.CITIZEN or row["citizen_id"] != user.id:
                raise Forbidden("Chỉ người gửi phản ánh được đánh giá câu trả lời.")
            if row["status"] != "answered":
                raise Conflict("Phản ánh chưa được trả lời.")
            if row["satisfied"] is not None:
                raise Conflict("Bạn đã đánh giá câu trả lời này.")
            await Feedback.update({Feedback.satisfied: spec.satisfied}).where(Feedback.id == row["id"])
            await self._audit(
                user, ip, "feedback.satisfaction", code, row["dossier_code"], {"satisfied": spec.satisfied}
            )
        return await self._get(code)

    async def _row(self, code: str) -> dict[str, Any]:
        row = await Feedback.select().where(Feedback.code == code).first()
        if row is None:
            raise NotFound(f"Không có phản ánh, kiến nghị {code}.")
        return row
