"""Ratings, feedback and the province's figures over JSON (the pages show the same numbers)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.domain.periods import Period, parse_period, period_of
from app.domain.roles import Role
from app.services.errors import Invalid
from app.services.feedback import AnswerInput, AssignInput, FeedbackInput, FeedbackService, SatisfactionInput
from app.services.ratings import RatingInput, RatingService
from app.services.stats import Scope, StatsService
from app.web.auth import authenticated, roles
from app.web.controllers.account import client_ip


def period_from(text: str, stats: StatsService) -> Period:
    """The asked period, or the running quarter."""
    if not text:
        return period_of(stats.clock.now())
    try:
        return parse_period(text)
    except ValueError as exc:
        raise Invalid(str(exc), {"period": str(exc)}) from None


class RatingApiController(Controller):
    path = "/api/v1/dossiers/{code:str}/rating"
    tags = ["Đánh giá"]
    guards = [authenticated]

    @get("", summary="Đánh giá của hồ sơ (nếu có)")
    async def get_rating(
        self, request: Request, code: FromPath[str], ratings: NamedDependency[RatingService]
    ) -> dict[str, Any] | None:
        return await ratings.get(code, request.scope["user"])

    @post("", status_code=200, summary="Đánh giá hồ sơ đã kết thúc (công dân; hoặc Một cửa nhập phiếu giấy)")
    async def rate(
        self,
        request: Request,
        code: FromPath[str],
        data: JSONBody[RatingInput],
        ratings: NamedDependency[RatingService],
    ) -> dict[str, Any]:
        return await ratings.rate(code, data, request.scope["user"], client_ip(request))


class FeedbackApiController(Controller):
    path = "/api/v1/feedback"
    tags = ["Phản ánh, kiến nghị"]
    guards = [authenticated]

    @get("", summary="Phản ánh, kiến nghị: của tôi (công dân) hoặc của đơn vị (cán bộ)")
    async def listing(
        self, request: Request, feedback: NamedDependency[FeedbackService]
    ) -> list[dict[str, Any]]:
        return await feedback.listing(request.scope["user"])

    @post("", status_code=201, summary="Gửi phản ánh, kiến nghị về một hồ sơ hoặc một đơn vị")
    async def file(
        self, request: Request, data: JSONBody[FeedbackInput], feedback: NamedDependency[FeedbackService]
    ) -> dict[str, Any]:
        return await feedback.file(data, request.scope["user"], client_ip(request))

    @post("/{code:str}/assign", status_code=200, summary="Phân công cán bộ trả lời")
    async def assign(
        self,
        request: Request,
        code: FromPath[str],
        data: JSONBody[AssignInput],
        feedback: NamedDependency[FeedbackService],
    ) -> dict[str, Any]:
        return await feedback.assign(code, data, request.scope["user"], client_ip(request))

    @post("/{code:str}/answer", status_code=200, summary="Trả lời phản ánh, kiến nghị")
    async def answer(
        self,
        request: Request,
        code: FromPath[str],
        data: JSONBody[AnswerInput],
        feedback: NamedDependency[FeedbackService],
    ) -> dict[str, Any]:
        return await feedback.answer(code, data, request.scope["user"], client_ip(request))

    @post("/{code:str}/satisfaction", status_code=200, summary="Công dân đánh giá câu trả lời")
    async def satisfaction(
        self,
        request: Request,
        code: FromPath[str],
        data: JSONBody[SatisfactionInput],
        feedback: NamedDependency[FeedbackService],
    ) -> dict[str, Any]:
        return await feedback.rate_answer(code, data, request.scope["user"], client_ip(request))


class StatsApiController(Controller):
    """Public, like the provinces' own statistics pages; the evaluation needs an official."""

    path = "/api/v1/stats"
    tags = ["Thống kê"]

    @get("/summary", summary="Số liệu tổng hợp theo kỳ (trước hạn, đúng hạn, trễ hạn, trực tuyến, hài lòng)")
    async def summary(
        self,
        stats: NamedDependency[StatsService],
        period: FromQuery[str] = "",
        group: FromQuery[str] = "level",
        unit: FromQuery[str] = "",
        level: FromQuery[str] = "",
        procedure: FromQuery[str] = "",
    ) -> dict[str, Any]:
        p = period_from(period, stats)
        rows, total = await stats.summary_with_total(p, Scope(unit, level, procedure), group)
        return {"period": p.key, "period_label": p.label, "group": group, "rows": rows, "total": total}

    @get(
        "/evaluation",
        guards=[roles(Role.ADMIN, Role.AUDITOR, Role.LEADER, Role.RECEPTION, Role.SPECIALIST, Role.CLERK)],
        summary="Đánh giá theo Thông tư 01/2018: 9 chỉ số theo đơn vị và theo cán bộ",
    )
    async def evaluation(
        self,
        stats: NamedDependency[StatsService],
        period: FromQuery[str] = "",
        unit: FromQuery[str] = "",
        level: FromQuery[str] = "",
    ) -> dict[str, Any]:
        return await stats.evaluation(period_from(period, stats), Scope(unit, level))

    @get("/index-766", summary="Bộ chỉ số 766: 5 nhóm, các chỉ số tính được từ dữ liệu của Cổng")
    async def index_766(
        self,
        stats: NamedDependency[StatsService],
        period: FromQuery[str] = "",
        unit: FromQuery[str] = "",
        level: FromQuery[str] = "",
    ) -> dict[str, Any]:
        return await stats.index_766(period_from(period, stats), Scope(unit, level))
