"""Who is calling: a browser session (cookie + CSRF) or an API bearer token.

The middleware resolves the caller into ``request.user`` (a ``UserView``) or
None; guards decide. A session cookie is ignored on unsafe ``/api/`` requests,
which are exempt from CSRF, so a cross-site form can never act through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware, DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from app.domain.roles import Role
from app.services.accounts import AccountService, UserView
from app.services.directory import load_directory
from app.services.security import read_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_USER = "uid"


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope["litestar_app"].state
        user_id: int | None = None
        authorization = scope_header(scope, b"authorization")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials:
                raise NotAuthorizedException("Tiêu đề Authorization phải có dạng 'Bearer <mã truy cập>'.")
            user_id = read_token(credentials.strip(), state.settings.secret_key, state.clock.now())
            if user_id is None:
                raise NotAuthorizedException("Mã truy cập không hợp lệ hoặc đã hết hạn.")
        else:
            session = scope.get("session") or {}
            cookie_allowed = not (scope["path"].startswith("/api/") and scope["method"] not in SAFE_METHODS)
            if cookie_allowed and isinstance(session, dict):
                user_id = session.get(SESSION_USER)
        user = None
        if user_id is not None:
            accounts = AccountService(state.clock, await load_directory())
            user = await accounts.get(int(user_id))
            if user is None and authorization:
                raise NotAuthorizedException("Tài khoản không còn hoạt động.")
        scope["user"] = user
        await next_app(scope, receive, send)


def scope_header(scope: Scope, name: bytes) -> str:
    # One header read straight off the scope (ASGI names are lower-case bytes): Headers.from_scope
    # parses them all, for every request, to be asked for this one.
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


class PortalSessionMiddleware(SessionMiddleware):
    """Litestar's cookie session, except for API requests that carry no cookie at all: they
    get the empty session the backend would have loaded, without its connection object,
    cookie parsing and send wrapper (a tenth of an anonymous look-up). The API never writes a
    session (only the sign-in pages do), so there is nothing to store on the way out."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/api/") and not scope_header(scope, b"cookie"):
            scope["session"] = {}
            await self.app(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def cookie_sessions(config: CookieBackendConfig) -> DefineMiddleware:
    """``config.middleware``, with ``PortalSessionMiddleware``."""
    return DefineMiddleware(PortalSessionMiddleware, backend=config._backend_class(config=config))


def current_user(connection: ASGIConnection) -> UserView | None:
    return connection.scope.get("user")


# Guards are coroutines on purpose: Litestar runs a plain function given as a guard in a
# worker thread, on every request it guards.


async def authenticated(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException("Vui lòng đăng nhập để tiếp tục.")


def roles(*allowed: Role) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    """A guard letting in only the given roles (401 if anonymous, 403 otherwise)."""
    names = ", ".join(r.label for r in allowed)

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        await authenticated(connection, handler)
        user = current_user(connection)
        if user.role not in allowed:  # type: ignore[union-attr]
            raise PermissionDeniedException(f"Chức năng này dành cho: {names}.")

    guard.__name__ = f"roles_{'_'.join(r.value for r in allowed)}"
    return guard


async def unit_in_scope(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Officers see their own unit and the units below it; auditors and admins see all."""
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Vui lòng đăng nhập để tiếp tục.")
    if user.role in (Role.ADMIN, Role.AUDITOR):
        return
    code = connection.path_params.get("code", "")
    directory = await load_directory()
    if not user.role.is_officer or not user.unit_code or not directory.is_within(code, user.unit_code):
        raise PermissionDeniedException("Bạn chỉ được xem thông tin của đơn vị mình.")
