"""Dossier pages: the citizen's submission journey (form → check answers → confirmation,
with save-and-resume), my dossiers, the officer's queue, a dossier's page with the
actions allowed now, and the public look-up by code."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from urllib.parse import quote as urlquote

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.domain.clock import VN_TZ, Clock
from app.domain.directory import Directory
from app.domain.evaluation import RATING_LEVELS
from app.domain.roles import Role
from app.services.catalogue import CatalogueService, time_limit_text
from app.services.documents import DocumentService
from app.services.dossiers import ActionRequest, DossierService
from app.services.drafts import DraftService
from app.services.errors import ServiceError
from app.services.payments import PaymentService
from app.services.ratings import CHANGE_WINDOW, RATABLE, RatingInput, RatingService
from app.web.auth import authenticated, roles
from app.web.controllers.account import asks_fresh, client_ip
from app.web.controllers.dossiers import MAX_SUBMISSION_BYTES, read_multipart
from app.web.controllers.public import page_context
from procedures.fees import quote
from procedures.forms import validate_form
from procedures.schema import Procedure

ACTION_LABELS = {
    "receive": "Tiếp nhận hồ sơ",
    "request_supplement": "Yêu cầu bổ sung (Mẫu 02)",
    "reject": "Từ chối tiếp nhận (Mẫu 03)",
    "forward": "Chuyển bước tiếp theo",
    "approve": "Phê duyệt kết quả",
    "refuse": "Từ chối giải quyết (Mẫu 03)",
    "request_payment": "Yêu cầu nộp phí, lệ phí",
    "apologize": "Xin lỗi, hẹn lại (Mẫu 04)",
    "sign": "Ký số kết quả",
    "return_result": "Trả kết quả",
    "withdraw": "Rút hồ sơ",
    "stop": "Dừng xử lý (công dân rút hồ sơ)",
    "pay": "Ghi nhận đã nộp phí",
}
#: History entries that are not lifecycle actions (those read as ACTION_LABELS).
HISTORY_LABELS = {
    "dossier.submit": "Nộp hồ sơ",
    "dossier.supplement": "Công dân bổ sung hồ sơ",
    "dossier.overdue": "Quá hạn",
    "payment.create": "Tạo yêu cầu thanh toán trực tuyến",
    "payment.succeeded": "Thanh toán trực tuyến thành công",
    "payment.failed": "Thanh toán trực tuyến không thành công",
    "payment.cancelled": "Hủy thanh toán trực tuyến",
    "payment.expired": "Yêu cầu thanh toán hết hạn",
    "rating.create": "Đánh giá mức độ hài lòng",
    "rating.update": "Sửa đánh giá mức độ hài lòng",
    "feedback.file": "Gửi phản ánh, kiến nghị",
    "feedback.assign": "Phân công trả lời phản ánh, kiến nghị",
    "feedback.answer": "Trả lời phản ánh, kiến nghị",
    "feedback.satisfaction": "Đánh giá câu trả lời phản ánh, kiến nghị",
}


def history_label(action: str) -> str:
    return HISTORY_LABELS.get(action) or ACTION_LABELS.get(action.removeprefix("dossier."), action)


NEEDS_REASONS = {"request_supplement", "reject", "refuse", "apologize"}
ROLE_STEP = {
    "reception": "Bộ phận Một cửa",
    "specialist": "Chuyên viên",
    "leader": "Lãnh đạo",
    "clerk": "Văn thư",
}


def parse_answers(p: Procedure, data: dict[str, Any]) -> dict[str, Any]:
    """Posted text → typed answers; what does not parse is kept as typed, for the error."""
    answers: dict[str, Any] = {}
    for f in p.form:
        raw = data.get(f"f_{f.key}")
        if f.type == "boolean":
            if raw:
                answers[f.key] = True
            continue
        if raw is None or str(raw).strip() == "":
            continue
        value = str(raw).strip()
        if f.type in ("integer", "money"):
            digits = value.replace(".", "").replace(",", "").replace(" ", "")
            answers[f.key] = int(digits) if digits.lstrip("-").isdigit() else value
        else:
            answers[f.key] = value
    return answers


class DossierPagesController(Controller):
    include_in_schema = False

    # --- the citizen's submission --------------------------------------------------------

    async def _submit_page(
        self,
        request: Request,
        p: Procedure,
        catalogue: CatalogueService,
        *,
        values=None,
        unit_code: str = "",
        errors=None,
        token: str = "",
        stored=(),
        status: int = 200,
        saved: bool = False,
    ) -> Template:
        return Template(
            "dossiers/submit.html",
            status_code=status,
            context=page_context(
                request,
                p=p,
                receiving=catalogue.receiving_units(p),
                values=values or {},
                unit_code=unit_code,
                errors=errors or {},
                token=token,
                stored=stored,
                saved=saved,
                time_limit=time_limit_text(p),
            ),
        )

    @get("/thu-tuc/{code:str}/nop", guards=[roles(Role.CITIZEN)])
    async def submit_page(
        self,
        request: Request,
        code: FromPath[str],
        catalogue: NamedDependency[CatalogueService],
        drafts: NamedDependency[DraftService],
        nhap: FromQuery[str] = "",
        da_luu: FromQuery[str] = "",
    ) -> Template:
        p = catalogue.get(code)
        if p is None:
            raise NotFoundException(f"Không có thủ tục hành chính mã {code}.")
        if not p.at_counter:
            raise PermissionDeniedException("Thủ tục này được thực hiện lưu động, không nộp trực tuyến.")
        if nhap:
            draft = await drafts.get(request.scope["user"], nhap)
            return await self._submit_page(
                request,
                p,
                catalogue,
                values=draft["form"],
                unit_code=draft["unit_code"],
                token=nhap,
                stored=draft["stored"],
                saved=bool(da_luu),
            )
        return await self._submit_page(request, p, catalogue)

    @post("/thu-tuc/{code:str}/nop", guards=[roles(Role.CITIZEN)], request_max_body_size=MAX_SUBMISSION_BYTES)
    async def submit_form(
        self,
        request: Request,
        code: FromPath[str],
        catalogue: NamedDependency[CatalogueService],
        drafts: NamedDependency[DraftService],
        dossiers: NamedDependency[DossierService],
    ) -> Template | Redirect:
        p = catalogue.get(code)
        if p is None:
            raise NotFoundException(f"Không có thủ tục hành chính mã {code}.")
        user = request.scope["user"]
        fields, files = await read_multipart(request)
        token = fields.get("nhap", "")
        already = (await drafts.get(user, token))["stored"] if token else ()
        answers = parse_answers(p, fields)
        unit_code = fields.get("unit_code", "")
        receivers = catalogue.receiving_units(p)
        if len(receivers) == 1:
            unit_code = receivers[0].code
        errors = {f"form.{k}": v for k, v in validate_form(p, answers).items()}
        stored, file_errors = dossiers.check_and_store(p.code, files, already)
        if unit_code not in {u.code for u in receivers}:
            errors["unit_code"] = "Hãy chọn nơi tiếp nhận hồ sơ."
        saving = fields.get("hanh_dong") == "luu"
        token = await drafts.save(user, p.code, unit_code, answers, stored, token or None)
        if saving:
            return Redirect(f"/thu-tuc/{p.code}/nop?nhap={token}&da_luu=1", status_code=303)
        errors.update(file_errors)
        if errors:
            return await self._submit_page(
                request,
                p,
                catalogue,
                values=answers,
                unit_code=unit_code,
                errors=errors,
                token=token,
                stored=tuple(stored),
                status=422,
            )
        return Redirect(f"/ho-so-nhap/{token}", status_code=303)

    @get("/ho-so-nhap/{token:str}", guards=[roles(Role.CITIZEN)])
    async def check_answers(
        self,
        request: Request,
        token: FromPath[str],
        drafts: NamedDependency[DraftService],
        catalogue: NamedDependency[CatalogueService],
        directory: NamedDependency[Directory],
        clock: NamedDependency[Clock],
    ) -> Template | Redirect:
        draft = await drafts.get(request.scope["user"], token)
        if draft["submitted_code"]:
            return Redirect(f"/ho-so/{draft['submitted_code']}/xac-nhan", status_code=303)
        p = catalogue.get(draft["procedure_code"])
        fee = quote(p, draft["form"], online=True)
        return Template(
            "dossiers/check.html",
            context=page_context(
                request,
                p=p,
                draft=draft,
                unit=directory.get(draft["unit_code"]),
                fee=fee,
                answers=[(f, draft["form"].get(f.key)) for f in p.form],
            ),
        )

    @post("/ho-so-nhap/{token:str}", guards=[roles(Role.CITIZEN)])
    async def send(
        self, request: Request, token: FromPath[str], drafts: NamedDependency[DraftService]
    ) -> Redirect:
        dossier = await drafts.submit(request.scope["user"], token, client_ip(request))
        return Redirect(f"/ho-so/{dossier['code']}/xac-nhan", status_code=303)

    @get("/ho-so/{code:str}/xac-nhan", guards=[authenticated])
    async def confirmation(
        self,
        request: Request,
        code: FromPath[str],
        dossiers: NamedDependency[DossierService],
        catalogue: NamedDependency[CatalogueService],
        documents: NamedDependency[DocumentService],
        clock: NamedDependency[Clock],
    ) -> Template:
        dossier = await dossiers.view(code, request.scope["user"], client_ip(request))
        p = catalogue.get(dossier["procedure_code"])
        expected = dossiers.calendar.due_at(clock.now(), p.time_limit.value, p.time_limit.unit)
        return Template(
            "dossiers/confirmation.html",
            context=page_context(
                request,
                d=dossier,
                p=p,
                expected=expected,
                documents=await documents.list(code, request.scope["user"]),
            ),
        )

    # --- lists ---------------------------------------------------------------------------

    @get("/ho-so", guards=[authenticated])
    async def my_dossiers(
        self,
        request: Request,
        dossiers: NamedDependency[DossierService],
        drafts: NamedDependency[DraftService],
        catalogue: NamedDependency[CatalogueService],
        clock: NamedDependency[Clock],
        trang_thai: FromQuery[int | None] = None,
        sau: FromQuery[str | None] = None,
    ) -> Template:
        user = request.scope["user"]
        if user.role in (Role.ADMIN, Role.AUDITOR):
            return Template(
                "dossiers/list.html",
                context=page_context(
                    request,
                    rows=[],
                    drafts=[],
                    officer=False,
                    names={},
                    now=clock.now(),
                    status=None,
                    lookup=True,
                ),
            )
        rows = await dossiers.queue(user, status=trang_thai, after=sau, limit=50)
        names = {p.code: p.name for p in catalogue.catalogue}
        mine = await drafts.mine(user) if user.role is Role.CITIZEN else []
        return Template(
            "dossiers/list.html",
            context=page_context(
                request,
                rows=rows,
                drafts=mine,
                officer=user.role.is_officer,
                names=names,
                now=clock.now(),
                status=trang_thai,
                lookup=False,
            ),
        )

    # --- one dossier ---------------------------------------------------------------------

    @get("/ho-so/{code:str}", guards=[authenticated])
    async def detail(
        self,
        request: Request,
        code: FromPath[str],
        dossiers: NamedDependency[DossierService],
        documents: NamedDependency[DocumentService],
        directory: NamedDependency[Directory],
        catalogue: NamedDependency[CatalogueService],
        ratings: NamedDependency[RatingService],
        clock: NamedDependency[Clock],
        thong_bao: FromQuery[str] = "",
        loi: FromQuery[str] = "",
    ) -> Template:
        user = request.scope["user"]
        d = await dossiers.view(code, user, client_ip(request))
        if "applicant" not in d:
            raise PermissionDeniedException(
                "Bạn không có quyền xem chi tiết hồ sơ này; hãy dùng trang Tra cứu."
            )
        p = catalogue.get(d["procedure_code"])
        outbox = await dossiers.notifications(code, user)
        rating = await ratings.get(code, user)
        # A citizen sees this page only for a dossier of their own (DossierService.view).
        rater = user.role is Role.CITIZEN or (
            user.role is Role.RECEPTION and user.unit_code == d["receiving_unit"]
        )
        may_rate = (
            rater
            and d["status"] in RATABLE
            and (
                rating is None
                or (
                    rating["source"] == "online"
                    and user.role is Role.CITIZEN
                    and clock.now() - datetime.fromisoformat(rating["rated_at"]) <= CHANGE_WINDOW
                )
            )
        )
        return Template(
            "dossiers/detail.html",
            context=page_context(
                request,
                d=d,
                p=p,
                unit=directory.get(d["receiving_unit"]),
                directory=directory,
                documents=await documents.list(code, user),
                outbox=outbox,
                labels=ACTION_LABELS,
                history_label=history_label,
                needs_reasons=NEEDS_REASONS,
                role_step=ROLE_STEP,
                notice=thong_bao,
                error=loi,
                answers=[(f, d["form"].get(f.key)) for f in p.form],
                officer_actions=[a for a in d["allowed_actions"] if a not in ("withdraw",)]
                if user.role.is_officer
                else [],
                citizen_actions=[a for a in d["allowed_actions"] if a == "withdraw"],
                rating=rating,
                may_rate=may_rate,
                rating_levels=RATING_LEVELS,
                change_days=CHANGE_WINDOW.days,
            ),
        )

    @post("/ho-so/{code:str}/thao-tac", guards=[authenticated])
    async def act(
        self,
        request: Request,
        code: FromPath[str],
        documents: NamedDependency[DocumentService],
    ) -> Redirect:
        form = await request.form()
        action = form.get("action", "")
        reasons = tuple(
            line.strip(" -•\t") for line in str(form.get("reasons", "")).splitlines() if line.strip()
        )
        new_due = None
        if form.get("new_due_date"):
            try:
                new_due = datetime.combine(
                    datetime.strptime(form["new_due_date"], "%Y-%m-%d").date(), time(17), VN_TZ
                )
            except ValueError:
                return Redirect(f"/ho-so/{code}?loi=Ngày hẹn mới không hợp lệ.", status_code=303)
        try:
            await documents.act(
                code, ActionRequest(action, reasons, new_due), request.scope["user"], client_ip(request)
            )
        except ServiceError as exc:
            return Redirect(f"/ho-so/{code}?loi={_q(exc.detail)}", status_code=303)
        done = ACTION_LABELS.get(action, action)
        return Redirect(
            f"/ho-so/{code}?thong_bao={_q('Đã thực hiện: ' + done + '.')}",
            status_code=303,
            background=BackgroundTask(documents.seal_after, code, action),
        )

    @post("/ho-so/{code:str}/danh-gia", guards=[authenticated])
    async def rate(
        self, request: Request, code: FromPath[str], ratings: NamedDependency[RatingService]
    ) -> Redirect:
        """The rating form of the dossier page: the citizen's own, or a paper form keyed in."""
        form = await request.form()

        def whole(name: str) -> int | None:
            text = str(form.get(name, "")).strip()
            return int(text) if text.isdigit() else None

        if whole("level") is None:
            return Redirect(f"/ho-so/{code}?loi={_q('Chọn một mức độ hài lòng.')}#danh-gia", status_code=303)
        spec = RatingInput(
            level=whole("level"),
            reception_contacts=whole("reception_contacts"),
            agencies_contacted=whole("agencies_contacted"),
            harassment=form.get("harassment") == "1",
            comment=str(form.get("comment", "")),
        )
        try:
            await ratings.rate(code, spec, request.scope["user"], client_ip(request))
        except ServiceError as exc:
            detail = exc.detail + (" " + " ".join(exc.errors.values()) if exc.errors else "")
            return Redirect(f"/ho-so/{code}?loi={_q(detail)}#danh-gia", status_code=303)
        return Redirect(f"/ho-so/{code}?thong_bao={_q('Cảm ơn ông/bà đã đánh giá.')}", status_code=303)

    @post("/ho-so/{code:str}/bo-sung", guards=[authenticated], request_max_body_size=MAX_SUBMISSION_BYTES)
    async def supplement(
        self, request: Request, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> Redirect:
        _, files = await read_multipart(request)
        try:
            await dossiers.supplement(code, files, request.scope["user"], client_ip(request))
        except ServiceError as exc:
            detail = exc.detail + (" " + " ".join(exc.errors.values()) if exc.errors else "")
            return Redirect(f"/ho-so/{code}?loi={_q(detail)}", status_code=303)
        return Redirect(f"/ho-so/{code}?thong_bao={_q('Đã gửi giấy tờ bổ sung.')}", status_code=303)

    @post("/ho-so/{code:str}/thanh-toan", guards=[authenticated])
    async def pay(
        self, request: Request, code: FromPath[str], payments: NamedDependency[PaymentService]
    ) -> Redirect:
        try:
            payment = await payments.create(code, request.scope["user"], client_ip(request))
        except ServiceError as exc:
            return Redirect(f"/ho-so/{code}?loi={_q(exc.detail)}", status_code=303)
        return Redirect(payment["next_url"], status_code=303)

    @get("/tra-cuu")
    async def lookup(
        self, request: Request, dossiers: NamedDependency[DossierService], ma: FromQuery[str] = ""
    ) -> Template:
        result, error = None, None
        if ma.strip():
            try:
                result = await dossiers.public_view(ma.strip(), fresh=asks_fresh(request))
            except ServiceError as exc:
                error = exc.detail
        return Template(
            "dossiers/lookup.html", context=page_context(request, code=ma, result=result, error=error)
        )


def _q(text: str) -> str:
    return urlquote(text)
