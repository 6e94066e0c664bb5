"""Dashboards: the public statistics page, an officer's unit, the steering committee's
province view, and the quarterly report (PDF sealed by the provincial office, JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromQuery
from litestar.response import Template

from app.domain.periods import Period, parse_period, period_of
from app.domain.roles import Role
from app.services.directory import load_directory
from app.services.reports import (
    RANKING_COLUMNS,
    SUMMARY_COLUMNS,
    ReportService,
    ranking_rows,
    to_csv,
    to_xlsx,
)
from app.services.stats import LEVEL_LABELS, Scope, StatsService
from app.web.auth import authenticated, current_user, roles
from app.web.charts import stacked_bars, trend_lines
from app.web.controllers.dossiers import pdf_response
from app.web.controllers.public import page_context
from app.web.controllers.stats import period_from

GROUP_LABELS = {
    "level": "Theo cấp",
    "unit": "Theo đơn vị",
    "procedure": "Theo thủ tục",
    "province": "Toàn tỉnh",
}


async def steering(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The steering committee's view: administrators, auditors and leaders at province level."""
    await authenticated(connection, handler)
    user = current_user(connection)
    if user.role in (Role.ADMIN, Role.AUDITOR):
        return
    unit = (await load_directory()).get(user.unit_code or "")
    if user.role is Role.LEADER and unit is not None and unit.level == "province":
        return
    raise PermissionDeniedException("Trang dành cho Ban Chỉ đạo: lãnh đạo cấp tỉnh, kiểm tra viên, quản trị.")


def period_choices(now: datetime) -> list[tuple[str, str]]:
    """This year's and last year's quarters and the two years, newest first."""
    current = period_of(now)
    out: list[tuple[str, str]] = []
    p: Period = current
    for _ in range(8):
        out.append((p.key, p.label))
        p = p.previous()
    for year in (now.year, now.year - 1):
        y = parse_period(str(year))
        out.append((y.key, y.label))
    return out


def _with_total(rows: list[dict], total: dict | None) -> list[dict]:
    """A downloaded table's rows and, last, its total line."""
    return rows + ([{**total, "name": "Tổng cộng"}] if total else [])


def _download(body: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StatsPagesController(Controller):
    path = "/thong-ke"
    include_in_schema = False

    async def _figures(self, stats: StatsService, period: str, group: str, level: str, unit: str):
        p = period_from(period, stats)
        # The service checks the grouping and the scope.
        return (p, *await stats.summary_with_total(p, Scope(unit=unit, level=level), group))

    @get("", name="stats_public")
    async def public(
        self,
        request: Request,
        stats: NamedDependency[StatsService],
        period: FromQuery[str] = "",
        group: FromQuery[str] = "level",
        level: FromQuery[str] = "",
        unit: FromQuery[str] = "",
    ) -> Template:
        p, rows, total = await self._figures(stats, period, group, level, unit)
        query = f"period={p.key}&group={group}&level={level}&unit={unit}"
        return Template(
            "stats/public.html",
            context=page_context(
                request,
                period=p,
                periods=period_choices(stats.clock.now()),
                group=group,
                groups=GROUP_LABELS,
                level=level,
                levels=LEVEL_LABELS,
                unit=unit,
                units=[u for u in stats.directory.units if u.is_one_stop],
                rows=rows,
                total=total,
                chart=stacked_bars(rows, title=f"Trước hạn, đúng hạn, trễ hạn – {p.label}"),
                query=query,
            ),
        )

    @get("/tai-ve.csv")
    async def public_csv(
        self,
        stats: NamedDependency[StatsService],
        period: FromQuery[str] = "",
        group: FromQuery[str] = "level",
        level: FromQuery[str] = "",
        unit: FromQuery[str] = "",
    ) -> Response[bytes]:
        p, rows, total = await self._figures(stats, period, group, level, unit)
        body = to_csv(SUMMARY_COLUMNS, _with_total(rows, total))
        return _download(body, f"thong-ke-{p.key}-{group}.csv", "text/csv; charset=utf-8")

    @get("/tai-ve.xlsx")
    async def public_xlsx(
        self,
        stats: NamedDependency[StatsService],
        period: FromQuery[str] = "",
        group: FromQuery[str] = "level",
        level: FromQuery[str] = "",
        unit: FromQuery[str] = "",
    ) -> Response[bytes]:
        p, rows, total = await self._figures(stats, period, group, level, unit)
        body = to_xlsx(
            [
                (
                    f"{GROUP_LABELS[group]} {p.key}",
                    SUMMARY_COLUMNS,
                    _with_total(rows, total),
                )
            ]
        )
        return _download(body, f"thong-ke-{p.key}-{group}.xlsx", XLSX)

    @get(
        "/don-vi",
        name="stats_unit",
        guards=[roles(Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.CLERK)],
    )
    async def unit_dashboard(
        self, request: Request, stats: NamedDependency[StatsService], period: FromQuery[str] = ""
    ) -> Template:
        user = request.scope["user"]
        p = period_from(period, stats)
        scope = Scope(unit=user.unit_code or "")
        total = await stats.total(p, scope)
        trend = await stats.trend(parse_period(str(p.start.year)), scope)
        evaluation = await stats.evaluation(p, scope)
        unit = stats.directory.get(user.unit_code or "")
        return Template(
            "stats/unit.html",
            context=page_context(
                request,
                period=p,
                periods=period_choices(stats.clock.now()),
                unit=unit,
                total=total,
                trend=trend,
                trend_chart=trend_lines(
                    trend, title=f"Theo tháng năm {p.start.year} – {unit.name if unit else ''}"
                ),
                evaluation=evaluation,
                agency=evaluation["agencies"][0] if evaluation["agencies"] else None,
            ),
        )

    @get("/tinh", name="stats_province", guards=[steering])
    async def province(
        self, request: Request, stats: NamedDependency[StatsService], period: FromQuery[str] = ""
    ) -> Template:
        p = period_from(period, stats)
        total = await stats.total(p)
        trend = await stats.trend(parse_period(str(p.start.year)))
        levels = await stats.summary(p, group="level")
        evaluation = await stats.evaluation(p)
        index = await stats.index_766(p)
        return Template(
            "stats/province.html",
            context=page_context(
                request,
                period=p,
                periods=period_choices(stats.clock.now()),
                total=total,
                trend=trend,
                trend_chart=trend_lines(trend, title=f"Toàn tỉnh theo tháng năm {p.start.year}"),
                levels=levels,
                level_chart=stacked_bars(levels, title="Theo cấp"),
                ranking=evaluation["agencies"],
                index=index,
                index_names=evaluation["index_names"],
            ),
        )

    @get("/tinh/xep-hang.xlsx", guards=[steering])
    async def ranking_xlsx(
        self, stats: NamedDependency[StatsService], period: FromQuery[str] = ""
    ) -> Response[bytes]:
        p = period_from(period, stats)
        evaluation = await stats.evaluation(p)
        body = to_xlsx(
            [
                (f"Xếp hạng {p.key}", RANKING_COLUMNS, ranking_rows(evaluation["agencies"])),
                (f"Theo đơn vị {p.key}", SUMMARY_COLUMNS, await stats.summary(p, group="unit")),
            ]
        )
        return _download(body, f"xep-hang-{p.key}.xlsx", XLSX)

    @get("/tinh/xep-hang.csv", guards=[steering])
    async def ranking_csv(
        self, stats: NamedDependency[StatsService], period: FromQuery[str] = ""
    ) -> Response[bytes]:
        p = period_from(period, stats)
        evaluation = await stats.evaluation(p)
        return _download(
            to_csv(RANKING_COLUMNS, ranking_rows(evaluation["agencies"])),
            f"xep-hang-{p.key}.csv",
            "text/csv; charset=utf-8",
        )

    @get("/bao-cao.pdf", guards=[steering])
    async def report_pdf(
        self, reports: NamedDependency[ReportService], period: FromQuery[str] = ""
    ) -> Response:
        pdf, report = await reports.pdf(period_from(period, reports.stats))
        return pdf_response(pdf, f"bao-cao-{report['period']}.pdf")

    @get("/bao-cao.json", guards=[steering])
    async def report_json(
        self, reports: NamedDependency[ReportService], period: FromQuery[str] = ""
    ) -> dict[str, Any]:
        return await reports.build(period_from(period, reports.stats))
