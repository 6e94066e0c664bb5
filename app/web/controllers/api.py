"""The JSON API under /api/v1 (DESIGN.md, "Public contract")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from app.domain.clock import Clock
from app.domain.directory import Directory
from app.domain.roles import Role
from app.services import audit
from app.services.accounts import AccountService, NewUser, UserView
from app.services.catalogue import CatalogueQuery, CatalogueService
from app.services.documents import DocumentService
from app.services.pki import PkiService
from app.services.security import issue_token
from app.web.auth import authenticated, roles, unit_in_scope
from app.web.controllers.account import client_ip, request_actor
from app.web.controllers.dossiers import pdf_response


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    role: str
    expires_in: int


def user_json(u: UserView) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "role": u.role.value,
        "unit_code": u.unit_code,
        "full_name": u.full_name,
        "email": u.email,
        "phone": u.phone,
        "active": u.active,
    }


class ApiController(Controller):
    path = "/api/v1"

    @get("/units", tags=["Đơn vị"], summary="Cây đơn vị hành chính của tỉnh")
    async def units(self, directory: NamedDependency[Directory]) -> list[dict[str, Any]]:
        return directory.tree()

    @get(
        "/units/{code:str}/officers",
        tags=["Đơn vị"],
        guards=[unit_in_scope],
        summary="Cán bộ của một đơn vị (trong phạm vi đơn vị của người gọi)",
    )
    async def unit_officers(
        self,
        code: FromPath[str],
        directory: NamedDependency[Directory],
        accounts: NamedDependency[AccountService],
    ) -> list[dict[str, Any]]:
        if directory.get(code) is None:
            raise NotFoundException(f"Không có đơn vị mã {code}.")
        return [user_json(u) for u in await accounts.list_users(unit_code=code, limit=500)]

    @get(
        "/units/{code:str}/register",
        tags=["Đơn vị"],
        guards=[unit_in_scope],
        summary="Sổ theo dõi hồ sơ (Mẫu 06) của một đơn vị trong một năm, PDF A4",
    )
    async def register(
        self,
        request: Request,
        code: FromPath[str],
        documents: NamedDependency[DocumentService],
        year: FromQuery[int],
    ) -> Response[bytes]:
        pdf = await documents.register(code, year, request.scope["user"])
        return pdf_response(pdf, f"so-theo-doi-{code}-{year}.pdf")

    @get("/procedures", tags=["Thủ tục hành chính"], summary="Danh mục thủ tục hành chính")
    async def procedures(
        self,
        catalogue: NamedDependency[CatalogueService],
        q: FromQuery[str] = "",
        level: FromQuery[str] = "",
        unit: FromQuery[str] = "",
        field: FromQuery[str] = "",
        online: FromQuery[str] = "",
    ) -> list[dict[str, Any]]:
        query = CatalogueQuery(q[:100], level, unit, field, online)
        return [catalogue.summary(p) for p in catalogue.search(query)]

    @get("/procedures/{code:str}", tags=["Thủ tục hành chính"], summary="Chi tiết một thủ tục")
    async def procedure(
        self, code: FromPath[str], catalogue: NamedDependency[CatalogueService]
    ) -> dict[str, Any]:
        p = catalogue.get(code)
        if p is None:
            raise NotFoundException(f"Không có thủ tục hành chính mã {code}.")
        return catalogue.detail(p)

    @post("/auth/token", tags=["Xác thực"], status_code=200, summary="Lấy mã truy cập (bearer)")
    async def token(
        self,
        request: Request,
        data: JSONBody[TokenRequest],
        accounts: NamedDependency[AccountService],
        clock: NamedDependency[Clock],
    ) -> TokenResponse:
        user = await accounts.authenticate(data.username, data.password, client_ip(request))
        if user is None:
            raise NotAuthorizedException("Tên đăng nhập hoặc mật khẩu không đúng.")
        settings = request.app.state.settings
        token = issue_token(
            user.id, user.role.value, settings.secret_key, clock.now(), settings.token_ttl_seconds
        )
        return TokenResponse(token, "bearer", user.role.value, settings.token_ttl_seconds)

    @get("/me", tags=["Xác thực"], guards=[authenticated], summary="Tài khoản đang đăng nhập")
    async def me(self, request: Request) -> dict[str, Any]:
        return user_json(request.scope["user"])


class AdminApiController(Controller):
    path = "/api/v1/admin"
    guards = [roles(Role.ADMIN)]
    tags = ["Quản trị"]

    @post("/users", summary="Tạo tài khoản cán bộ, kiểm tra viên hoặc quản trị")
    async def create_user(
        self, request: Request, data: JSONBody[NewUser], accounts: NamedDependency[AccountService]
    ) -> dict[str, Any]:
        user = await accounts.create_user(data, request_actor(request))
        return user_json(user)

    @get("/users", summary="Danh sách tài khoản (phân trang theo id)")
    async def list_users(
        self,
        accounts: NamedDependency[AccountService],
        unit: FromQuery[str] = "",
        role: FromQuery[str] = "",
        after: FromQuery[int] = 0,
        limit: FromQuery[int] = 50,
    ) -> list[dict[str, Any]]:
        users = await accounts.list_users(
            unit_code=unit or None, role=role or None, after_id=after, limit=max(1, min(limit, 500))
        )
        return [user_json(u) for u in users]


class RevokeRequest(msgspec.Struct, forbid_unknown_fields=True):
    serial: str
    reason: str = "unspecified"
    at: datetime | None = None


class IssueRequest(msgspec.Struct, forbid_unknown_fields=True):
    unit_code: str = ""  # a seal certificate for this unit
    username: str = ""  # or a personal one for this leader or clerk


class RenewRequest(msgspec.Struct, forbid_unknown_fields=True):
    serial: str


class PkiAdminController(Controller):
    path = "/api/v1/admin/pki"
    guards = [roles(Role.ADMIN)]
    tags = ["Quản trị"]

    @get("/certificates", summary="Chứng thư số đã cấp cho cơ quan và cá nhân")
    async def certificates(
        self, pki: NamedDependency[PkiService], unit: FromQuery[str] = ""
    ) -> list[dict[str, Any]]:
        return await pki.certificates(unit_code=unit or None)

    @post("/revoke", status_code=200, summary="Thu hồi chứng thư số (lý do, thời điểm)")
    async def revoke(
        self, request: Request, data: JSONBody[RevokeRequest], pki: NamedDependency[PkiService]
    ) -> dict[str, Any]:
        return await pki.revoke(data.serial, data.reason, request_actor(request), data.at)

    @post(
        "/issue",
        status_code=201,
        summary="Cấp chứng thư số con dấu (đơn vị) hoặc cá nhân (lãnh đạo, văn thư)",
    )
    async def issue(
        self,
        request: Request,
        data: JSONBody[IssueRequest],
        pki: NamedDependency[PkiService],
        directory: NamedDependency[Directory],
    ) -> dict[str, Any]:
        return await pki.issue(
            directory, request_actor(request), unit_code=data.unit_code, username=data.username
        )

    @post("/renew", status_code=201, summary="Gia hạn: khóa và chứng thư mới, chứng thư cũ bị thay thế")
    async def renew(
        self, request: Request, data: JSONBody[RenewRequest], pki: NamedDependency[PkiService]
    ) -> dict[str, Any]:
        return await pki.renew(data.serial, request_actor(request))


class AuditApiController(Controller):
    path = "/api/v1/audit"
    guards = [roles(Role.AUDITOR, Role.ADMIN)]
    tags = ["Kiểm tra"]

    @get("/verify", summary="Kiểm tra tính toàn vẹn của chuỗi nhật ký")
    async def verify(self) -> dict[str, Any]:
        count, breaks = await audit.verify_chain()
        return {
            "events": count,
            "intact": not breaks,
            "breaks": [{"seq": b.seq, "reason": b.reason} for b in breaks],
        }

    @get("/events", summary="Nhật ký sự kiện (mới nhất trước)")
    async def events(
        self, dossier: FromQuery[str] = "", before: FromQuery[int] = 0, limit: FromQuery[int] = 100
    ) -> list[dict[str, Any]]:
        rows = await audit.list_events(
            dossier_code=dossier or None, before_seq=before, limit=max(1, min(limit, 500))
        )
        return [{**r, "at": r["at"].isoformat()} for r in rows]
