"""Feedback pages (phản ánh, kiến nghị): a citizen files one about a dossier or a unit and
rates the answer; the unit's officers assign and answer it within 15 working days."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.domain.clock import Clock
from app.domain.directory import Directory
from app.domain.roles import Role
from app.services.errors import Invalid, ServiceError
from app.services.feedback import AnswerInput, AssignInput, FeedbackInput, FeedbackService, SatisfactionInput
from app.web.auth import authenticated, roles
from app.web.controllers.account import client_ip
from app.web.controllers.public import page_context

STATUS_LABELS = {"open": "Đang xử lý", "answered": "Đã trả lời"}


def _back(code: str, *, notice: str = "", error: str = "") -> Redirect:
    query = f"thong_bao={quote(notice)}" if notice else f"loi={quote(error)}"
    return Redirect(f"/phan-anh/{code}?{query}", status_code=303)


def _overdue(item: dict, now: datetime) -> bool:
    return item["status"] == "open" and datetime.fromisoformat(item["due_at"]) < now


class FeedbackPagesController(Controller):
    path = "/phan-anh"
    include_in_schema = False
    guards = [authenticated]

    @get("")
    async def listing(
        self,
        request: Request,
        feedback: NamedDependency[FeedbackService],
        directory: NamedDependency[Directory],
        clock: NamedDependency[Clock],
    ) -> Template:
        items = await feedback.listing(request.scope["user"])
        now = clock.now()
        return Template(
            "feedback/list.html",
            context=page_context(
                request,
                items=[{**i, "overdue": _overdue(i, now)} for i in items],
                directory=directory,
                status_labels=STATUS_LABELS,
            ),
        )

    def _form(self, request: Request, directory: Directory, *, values=None, errors=None, status=200):
        units = sorted(
            (u for u in directory.units if u.kind in ("commune", "district", "department", "province")),
            key=lambda u: (u.level != "province", u.level != "district", u.name),
        )
        return Template(
            "feedback/new.html",
            status_code=status,
            context=page_context(request, values=values or {}, errors=errors or {}, units=units),
        )

    @get("/gui", guards=[roles(Role.CITIZEN)])
    async def new(
        self, request: Request, directory: NamedDependency[Directory], ho_so: FromQuery[str] = ""
    ) -> Template:
        return self._form(request, directory, values={"dossier_code": ho_so.strip()})

    @post("/gui", guards=[roles(Role.CITIZEN)])
    async def file(
        self,
        request: Request,
        feedback: NamedDependency[FeedbackService],
        directory: NamedDependency[Directory],
    ) -> Template | Redirect:
        form = await request.form()
        values = {k: str(form.get(k, "")) for k in ("subject", "body", "dossier_code", "unit_code")}
        try:
            filed = await feedback.file(FeedbackInput(**values), request.scope["user"], client_ip(request))
        except Invalid as exc:
            return self._form(request, directory, values=values, errors=exc.errors, status=400)
        except ServiceError as exc:
            return self._form(
                request, directory, values=values, errors={"dossier_code": exc.detail}, status=400
            )
        return _back(filed["code"], notice=f"Đã gửi phản ánh, kiến nghị {filed['code']}.")

    @get("/{code:str}")
    async def detail(
        self,
        request: Request,
        code: FromPath[str],
        feedback: NamedDependency[FeedbackService],
        directory: NamedDependency[Directory],
        clock: NamedDependency[Clock],
        thong_bao: FromQuery[str] = "",
        loi: FromQuery[str] = "",
    ) -> Template:
        user = request.scope["user"]
        item = await feedback.view(code, user)
        handlers = await feedback.handlers(item["unit_code"])
        handles = user.role.is_officer and user.unit_code == item["unit_code"]
        return Template(
            "feedback/detail.html",
            context=page_context(
                request,
                f={**item, "overdue": _overdue(item, clock.now())},
                unit=directory.get(item["unit_code"]),
                handlers=handlers,
                assignee=next((h for h in handlers if h["id"] == item["assignee_id"]), None),
                handles=handles and item["status"] == "open",
                can_rate=user.role is Role.CITIZEN
                and item["status"] == "answered"
                and item["satisfied"] is None,
                status_labels=STATUS_LABELS,
                notice=thong_bao,
                error=loi,
            ),
        )

    @post("/{code:str}/phan-cong")
    async def assign(
        self, request: Request, code: FromPath[str], feedback: NamedDependency[FeedbackService]
    ) -> Redirect:
        form = await request.form()
        spec = AssignInput(str(form.get("username", "")))
        return await _then_back(request, code, feedback.assign, spec, "Đã phân công cán bộ trả lời.")

    @post("/{code:str}/tra-loi")
    async def answer(
        self, request: Request, code: FromPath[str], feedback: NamedDependency[FeedbackService]
    ) -> Redirect:
        form = await request.form()
        spec = AnswerInput(str(form.get("answer", "")))
        return await _then_back(request, code, feedback.answer, spec, "Đã gửi câu trả lời tới công dân.")

    @post("/{code:str}/danh-gia")
    async def rate_answer(
        self, request: Request, code: FromPath[str], feedback: NamedDependency[FeedbackService]
    ) -> Redirect:
        form = await request.form()
        satisfied = form.get("satisfied")
        if satisfied not in ("1", "0"):
            return _back(code, error="Chọn hài lòng hoặc không hài lòng với câu trả lời.")
        spec = SatisfactionInput(satisfied == "1")
        return await _then_back(
            request, code, feedback.rate_answer, spec, "Cảm ơn ông/bà đã đánh giá câu trả lời."
        )


async def _then_back(request: Request, code: str, step, spec, notice: str) -> Redirect:
    """Do one step of the feedback's handling; back to its page with the outcome either way."""
    try:
        await step(code, spec, request.scope["user"], client_ip(request))
    except ServiceError as exc:
        return _back(code, error=exc.detail)
    return _back(code, notice=notice)
