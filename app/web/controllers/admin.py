"""The administrator's pages: people and their roles."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from app.domain.directory import Directory
from app.domain.roles import ROLE_LABELS, Role
from app.services.accounts import AccountService, NewUser
from app.services.errors import ServiceError
from app.web.auth import roles
from app.web.controllers.account import Form, request_actor
from app.web.controllers.public import page_context


class AdminPagesController(Controller):
    path = "/quan-tri"
    include_in_schema = False
    guards = [roles(Role.ADMIN)]

    async def _page(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        directory: NamedDependency[Directory],
        unit: str,
        status: int = 200,
        **extra,
    ) -> Template:
        users = await accounts.list_users(unit_code=unit or None, limit=200)
        return Template(
            "admin/users.html",
            status_code=status,
            context=page_context(
                request,
                users=users,
                units=directory.units,
                unit_filter=unit,
                roles=[(r.value, ROLE_LABELS[r]) for r in Role if r is not Role.CITIZEN],
                directory=directory,
                **{"values": {}, "errors": {}, **extra},
            ),
        )

    @get("/nguoi-dung", name="admin_users")
    async def users(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        directory: NamedDependency[Directory],
        unit: FromQuery[str] = "",
        tao: FromQuery[str] = "",
    ) -> Template:
        return await self._page(request, accounts, directory, unit, created=tao)

    @post("/nguoi-dung")
    async def create_user(
        self,
        request: Request,
        data: Form,
        accounts: NamedDependency[AccountService],
        directory: NamedDependency[Directory],
    ) -> Template | Redirect:
        spec = NewUser(
            username=data.get("username", ""),
            password=data.get("password", ""),
            role=data.get("role", ""),
            full_name=data.get("full_name", ""),
            unit_code=data.get("unit_code") or None,
            email=data.get("email", "").strip(),
            phone=data.get("phone", "").strip(),
        )
        try:
            user = await accounts.create_user(spec, request_actor(request))
        except ServiceError as exc:
            values = {k: v for k, v in data.items() if k != "password"}
            return await self._page(
                request,
                accounts,
                directory,
                "",
                status=exc.status,
                values=values,
                errors=exc.errors,
                summary=exc.detail,
            )
        return Redirect(f"/quan-tri/nguoi-dung?tao={user.username}", status_code=303)
