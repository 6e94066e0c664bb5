"""Browser sign-in, sign-out, citizen registration and the account page."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from app.domain.directory import Directory
from app.services.accounts import AccountService, CitizenRegistration
from app.services.audit import Actor
from app.services.errors import ServiceError
from app.web.auth import SESSION_USER, authenticated, scope_header
from app.web.controllers.public import page_context

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/tai-khoan"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def asks_fresh(request: Request) -> bool:
    """The client asked for an answer not kept from before (``Cache-Control: no-cache``, as a
    browser's hard reload sends)."""
    return "no-cache" in scope_header(request.scope, b"cache-control").lower()


def request_actor(request: Request) -> Actor:
    """The signed-in user as the audit trail records them, with their address."""
    return replace(request.scope["user"].actor, ip=client_ip(request))


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value and value.strip() else None
    except ValueError:
        return None


class AccountController(Controller):
    include_in_schema = False

    @get("/dang-nhap", name="login")
    async def login_page(self, request: Request, next: FromQuery[str] = "") -> Template:
        return Template(
            "auth/login.html", context=page_context(request, next=safe_next(next), username="", error=None)
        )

    @post("/dang-nhap")
    async def login(
        self, request: Request, data: Form, accounts: NamedDependency[AccountService]
    ) -> Template | Redirect:
        username = data.get("username", "")
        user = await accounts.authenticate(username, data.get("password", ""), client_ip(request))
        if user is None:
            return Template(
                "auth/login.html",
                status_code=400,
                context=page_context(
                    request,
                    next=safe_next(data.get("next")),
                    username=username,
                    error="Tên đăng nhập hoặc mật khẩu không đúng.",
                ),
            )
        request.set_session({SESSION_USER: user.id})
        return Redirect(safe_next(data.get("next")), status_code=303)

    @post("/dang-xuat", name="logout")
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)

    @get("/dang-ky", name="register")
    async def register_page(self, request: Request) -> Template:
        return Template("auth/register.html", context=page_context(request, values={}, errors={}))

    @post("/dang-ky")
    async def register(
        self, request: Request, data: Form, accounts: NamedDependency[AccountService]
    ) -> Template | Redirect:
        gender = data.get("gender")
        spec = CitizenRegistration(
            cccd=data.get("cccd", ""),
            full_name=data.get("full_name", ""),
            birth_year=_int_or_none(data.get("birth_year")),
            female={"nu": True, "nam": False}.get(gender or ""),
            password=data.get("password", ""),
            password_confirm=data.get("password_confirm", ""),
            phone=data.get("phone", "").strip(),
            email=data.get("email", "").strip(),
        )
        try:
            user = await accounts.register_citizen(spec, client_ip(request))
        except ServiceError as exc:
            values = {k: v for k, v in data.items() if not k.startswith("password")}
            return Template(
                "auth/register.html",
                status_code=exc.status,
                context=page_context(request, values=values, errors=exc.errors, summary=exc.detail),
            )
        request.set_session({SESSION_USER: user.id})
        return Redirect("/tai-khoan?moi=1", status_code=303)

    @get("/tai-khoan", name="account", guards=[authenticated])
    async def account(
        self, request: Request, directory: NamedDependency[Directory], moi: FromQuery[str] = ""
    ) -> Template:
        user = request.scope["user"]
        unit = directory.get(user.unit_code) if user.unit_code else None
        return Template("account.html", context=page_context(request, unit=unit, welcome=bool(moi)))
