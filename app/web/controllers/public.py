"""Public pages: home, the procedure catalogue (htmx search), a procedure's page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template

from app.db.engine import engine_name
from app.domain.clock import Clock
from app.domain.directory import Directory
from app.services.catalogue import CatalogueQuery, CatalogueService, time_limit_text
from app.services.directory import unit_count
from app.web.format import unit_selector_label


def page_context(request: Request, **context: Any) -> dict[str, Any]:
    return {"user": request.scope.get("user"), "path": request.url.path, **context}


class PublicController(Controller):
    include_in_schema = False
    request_class = HTMXRequest

    @get("/", name="home")
    async def home(
        self,
        request: Request,
        catalogue: NamedDependency[CatalogueService],
        directory: NamedDependency[Directory],
    ) -> Template:
        procedures = list(catalogue.catalogue)
        stats = {
            "procedures": len(procedures),
            "full_online": sum(p.online_level == "full" for p in procedures),
            "one_stop_units": sum(u.is_one_stop for u in directory.units),
            "communes": len(directory.of_kind("commune")),
        }
        province = directory.units[0].name if directory.units else ""
        return Template(
            "home.html",
            context=page_context(request, stats=stats, province=province, fields=catalogue.fields()[:12]),
        )

    @get("/thu-tuc", name="catalogue")
    async def catalogue_page(
        self,
        request: HTMXRequest,
        catalogue: NamedDependency[CatalogueService],
        directory: NamedDependency[Directory],
        q: FromQuery[str] = "",
        level: FromQuery[str] = "",
        unit: FromQuery[str] = "",
        field: FromQuery[str] = "",
        online: FromQuery[str] = "",
    ) -> Template:
        query = CatalogueQuery(q.strip()[:100], level, unit, field, online)
        results = catalogue.search(query)
        context = page_context(
            request,
            query=query,
            results=results,
            time_limit_text=time_limit_text,
            fields=catalogue.fields(),
            effective_level=catalogue.effective_level,
            one_stop_units=[u for u in directory.units if u.is_one_stop],
            levels=sorted(
                {catalogue.effective_level(p) for p in catalogue.catalogue},
                key=["province", "district", "commune"].index,
            ),
        )
        if request.htmx and request.htmx.target == "results":
            return HTMXTemplate(
                template_name="procedures/_results.html", context=context, push_url=str(request.url)
            )
        return Template("procedures/list.html", context=context)

    @get("/thu-tuc/{code:str}", name="procedure")
    async def procedure_page(
        self,
        request: Request,
        code: FromPath[str],
        catalogue: NamedDependency[CatalogueService],
        directory: NamedDependency[Directory],
    ) -> Template:
        procedure = catalogue.get(code)
        if procedure is None:
            raise NotFoundException(f"Không có thủ tục hành chính mã {code}.")
        receiving = catalogue.receiving_units(procedure)
        # Group receiving units by their district (or the province) for a readable list.
        groups: dict[str, list] = {}
        for u in receiving:
            parent = directory.get(u.parent_code or "")
            group = parent.name if parent and parent.kind in ("district",) else "Cấp tỉnh / trực thuộc tỉnh"
            groups.setdefault(group if u.kind != "district" else "Cấp huyện", []).append(u)
        return Template(
            "procedures/detail.html",
            context=page_context(
                request,
                p=procedure,
                time_limit=time_limit_text(procedure),
                receiving=receiving,
                receiving_groups=groups,
                level=catalogue.effective_level(procedure),
                competent=unit_selector_label(procedure.competent_unit, directory),
                unit_label=lambda s: unit_selector_label(s, directory),
            ),
        )

    @get("/don-vi", name="units")
    async def units_page(self, request: Request, directory: NamedDependency[Directory]) -> Template:
        return Template("units.html", context=page_context(request, tree=directory.tree()))


@get("/health", tags=["Hệ thống"], summary="Tình trạng hoạt động")
async def health(clock: NamedDependency[Clock]) -> dict[str, Any]:
    units = await unit_count()
    return {
        "status": "ok",
        "database": engine_name(),
        "units": units,
        "time": clock.now().isoformat(timespec="seconds"),
    }
