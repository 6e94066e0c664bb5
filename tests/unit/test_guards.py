"""Guards decide on the caller alone: anonymous → 401, wrong role → 403."""

import pytest
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from app.domain.roles import Role
from app.services.accounts import UserView
from app.web.auth import authenticated, roles


def connection(user):
    return ASGIConnection(scope={"type": "http", "user": user, "path_params": {}, "headers": []})


def a(role: Role) -> UserView:
    return UserView(1, "u", role, "000.00.00.H63", "Nguyễn Văn An")


async def test_anonymous_callers_are_asked_to_sign_in():
    with pytest.raises(NotAuthorizedException):
        await authenticated(connection(None), None)
    with pytest.raises(NotAuthorizedException):
        await roles(Role.ADMIN)(connection(None), None)


async def test_only_the_listed_roles_pass():
    guard = roles(Role.AUDITOR, Role.ADMIN)
    await guard(connection(a(Role.AUDITOR)), None)
    await guard(connection(a(Role.ADMIN)), None)
    for role in (Role.CITIZEN, Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.CLERK):
        with pytest.raises(PermissionDeniedException, match="Chức năng này dành cho"):
            await guard(connection(a(role)), None)
