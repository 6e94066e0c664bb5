"""The administrator's pages: people and their roles; the certificates of the simulated PKI."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.domain.clock import VN_TZ
from app.domain.directory import Directory
from app.domain.roles import ROLE_LABELS, Role
from app.services.accounts import AccountService, NewUser
from app.services.errors import Invalid, ServiceError
from app.services.pki import REVOCATION_LABELS, PkiService
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


class CertificatePagesController(Controller):
    """Issue, renew and revoke certificates (the same service as the API and the CLI)."""

    path = "/quan-tri/chung-thu"
    include_in_schema = False
    guards = [roles(Role.ADMIN)]

    async def _page(
        self,
        request: Request,
        pki: PkiService,
        directory: Directory,
        unit: str = "",
        status: int = 200,
        **extra,
    ) -> Template:
        return Template(
            "admin/certificates.html",
            status_code=status,
            context=page_context(
                request,
                certificates=await pki.certificates(unit_code=unit or None, limit=300),
                units=directory.units,
                directory=directory,
                unit_filter=unit,
                reasons=REVOCATION_LABELS,
                now=pki.clock.now().isoformat(),
                **{"values": {}, "errors": {}, "done": "", **extra},
            ),
        )

    async def _answer(self, request, pki, directory, work, values: dict) -> Template | Redirect:
        try:
            message = await work()
        except ServiceError as exc:
            return await self._page(
                request,
                pki,
                directory,
                status=exc.status,
                values=values,
                errors=exc.errors or {"form": exc.detail},
                summary=exc.detail,
            )
        return Redirect(f"/quan-tri/chung-thu?xong={quote(message)}", status_code=303)

    @get("", name="admin_certificates")
    async def list_page(
        self,
        request: Request,
        pki: NamedDependency[PkiService],
        directory: NamedDependency[Directory],
        unit: FromQuery[str] = "",
        xong: FromQuery[str] = "",
    ) -> Template:
        return await self._page(request, pki, directory, unit, done=xong)

    @post("")
    async def issue(
        self,
        request: Request,
        data: Form,
        pki: NamedDependency[PkiService],
        directory: NamedDependency[Directory],
    ) -> Template | Redirect:
        async def work() -> str:
            done = await pki.issue(
                directory,
                request_actor(request),
                unit_code=data.get("unit_code", ""),
                username=data.get("username", ""),
            )
            return f"Đã cấp chứng thư số {done['serial']} cho {done['subject']}."

        return await self._answer(request, pki, directory, work, dict(data))

    @post("/{serial:str}/gia-han")
    async def renew(
        self,
        request: Request,
        serial: FromPath[str],
        pki: NamedDependency[PkiService],
        directory: NamedDependency[Directory],
    ) -> Template | Redirect:
        async def work() -> str:
            done = await pki.renew(serial, request_actor(request))
            return f"Đã gia hạn: chứng thư mới {done['serial']} thay thế {serial}."

        return await self._answer(request, pki, directory, work, {})

    @post("/{serial:str}/thu-hoi")
    async def revoke(
        self,
        request: Request,
        serial: FromPath[str],
        data: Form,
        pki: NamedDependency[PkiService],
        directory: NamedDependency[Directory],
    ) -> Template | Redirect:
        async def work() -> str:
            at = _local_instant(data.get("at", ""))
            done = await pki.revoke(serial, data.get("reason", ""), request_actor(request), at)
            return f"Đã thu hồi {done['serial']} ({REVOCATION_LABELS[done['reason']]})."

        return await self._answer(request, pki, directory, work, {"serial": serial, **data})


def _local_instant(text: str) -> datetime | None:
    """A datetime-local field (Hà Nội time) to an aware instant; empty means now."""
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            "Thời điểm thu hồi không hợp lệ.", {"at": "Nhập ngày giờ, ví dụ 15/03/2021 10:00."}
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
