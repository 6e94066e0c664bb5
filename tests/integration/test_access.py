"""People and access: roles and units enforced on every route; sessions, CSRF, rate limits."""

import asyncio

import pytest

from app.db.tables import AuditEvent, User
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, bearer, browser_login


async def _first_commune(client):
    tree = (await client.get("/api/v1/units")).json()
    districts = [c for c in tree[0]["children"] if c["kind"] == "district"]
    communes = [c for c in districts[0]["children"] if c["kind"] == "commune"]
    return districts[0], communes[0], communes[1]


async def test_admin_creates_an_officer_bound_to_a_unit(client, backend):
    admin = await bearer(client, "admin", ADMIN_PASSWORD)
    district, commune, _ = await _first_commune(client)
    username = f"motcua.moi.{backend[0]}"
    response = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={
            "username": username,
            "password": "Mat-khau-2021",
            "role": "reception",
            "unit_code": commune["code"],
            "full_name": "Nguyễn Thị Mới",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["unit_code"] == commune["code"]
    assert await AuditEvent.exists().where(
        (AuditEvent.action == "user.create") & (AuditEvent.object_id == username)
    )
    again = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={
            "username": username,
            "password": "Mat-khau-2021",
            "role": "reception",
            "unit_code": commune["code"],
            "full_name": "Trùng",
        },
    )
    assert again.status_code == 409
    login = await client.post("/api/v1/auth/token", json={"username": username, "password": "Mat-khau-2021"})
    assert login.json()["role"] == "reception"


async def test_invalid_new_users_are_refused_field_by_field(client):
    admin = await bearer(client, "admin", ADMIN_PASSWORD)
    before = await User.count()
    response = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "X", "password": "short", "role": "chief", "full_name": ""},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) >= {"username", "password", "role", "full_name"}
    officer_without_unit = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={
            "username": "chuyenvien.lac",
            "password": "Mat-khau-2021",
            "role": "specialist",
            "full_name": "Lê Văn Lạc",
        },
    )
    assert officer_without_unit.status_code == 422 and "unit_code" in officer_without_unit.json()["errors"]
    assert await User.count() == before


async def test_only_admins_create_users(client):
    body = {"username": "ai.do", "password": "Mat-khau-2021", "role": "admin", "full_name": "Ai Đó"}
    anonymous = await client.post("/api/v1/admin/users", json=body)
    assert anonymous.status_code == 401
    for username in ("kiemtra", "motcua.ttpvhcc"):
        headers = await bearer(client, username)
        response = await client.post("/api/v1/admin/users", headers=headers, json=body)
        assert response.status_code == 403 and "Quản trị" in response.json()["detail"]


async def test_officers_see_their_own_unit_and_below_only(client):
    district, commune, other_commune = await _first_commune(client)
    commune_officer = await bearer(client, f"motcua.{commune['key']}")
    own = await client.get(f"/api/v1/units/{commune['code']}/officers", headers=commune_officer)
    assert own.status_code == 200 and own.json()
    assert all(o["unit_code"] == commune["code"] for o in own.json())
    foreign = await client.get(f"/api/v1/units/{other_commune['code']}/officers", headers=commune_officer)
    assert foreign.status_code == 403
    upward = await client.get(f"/api/v1/units/{district['code']}/officers", headers=commune_officer)
    assert upward.status_code == 403
    district_officer = await bearer(client, f"motcua.{district['key']}")
    below = await client.get(f"/api/v1/units/{commune['code']}/officers", headers=district_officer)
    assert below.status_code == 200
    auditor = await bearer(client, "kiemtra")
    assert (
        await client.get(f"/api/v1/units/{other_commune['code']}/officers", headers=auditor)
    ).status_code == 200
    citizen_row = await User.select(User.username).where(User.role == "citizen").first()
    citizen = await bearer(client, citizen_row["username"])
    assert (await client.get(f"/api/v1/units/{commune['code']}/officers", headers=citizen)).status_code == 403


async def test_browser_login_needs_the_csrf_token(client):
    no_token = await client.post("/dang-nhap", data={"username": "kiemtra", "password": DEMO_PASSWORD})
    assert no_token.status_code == 403
    response = await browser_login(client, "kiemtra")
    assert response.status_code == 303 and response.headers["location"] == "/tai-khoan"
    page = await client.get("/tai-khoan")
    assert page.status_code == 200 and "Kiểm tra viên" in page.text


async def test_a_wrong_password_on_the_page_keeps_the_username(client):
    page = await client.get("/dang-nhap")
    token = client.cookies.get("portal_csrf")
    response = await client.post(
        "/dang-nhap", data={"username": "kiemtra", "password": "sai", "_csrf_token": token}
    )
    assert response.status_code == 400
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.text and 'value="kiemtra"' in response.text
    assert page.status_code == 200


async def test_a_session_cookie_cannot_act_on_the_api(client):
    """The API skips CSRF, so it must not accept the browser's cookie for changes."""
    await browser_login(client, "admin", ADMIN_PASSWORD)
    assert (await client.get("/api/v1/me")).json()["username"] == "admin"  # reading is fine
    response = await client.post(
        "/api/v1/admin/users",
        json={"username": "csrf.attack", "password": "Mat-khau-2021", "role": "admin", "full_name": "X"},
    )
    assert response.status_code == 401
    assert not await User.exists().where(User.username == "csrf.attack")


async def test_pages_send_anonymous_visitors_to_sign_in(client):
    response = await client.get("/tai-khoan", follow_redirects=False)
    assert response.status_code in (302, 303, 307) and response.headers["location"].startswith("/dang-nhap")
    admin_page = await client.get("/quan-tri/nguoi-dung", follow_redirects=False)
    assert admin_page.headers["location"].startswith("/dang-nhap")


async def test_login_is_rate_limited_per_client(client):
    statuses = []
    for _ in range(12):
        r = await client.post("/api/v1/auth/token", json={"username": "kiemtra", "password": "sai-mat-khau1"})
        statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert "thử lại" in r.json()["detail"]


async def test_concurrent_writes_do_not_fail(client, backend):
    """SQLite in WAL with BEGIN IMMEDIATE and a busy timeout: writers queue, none fails."""
    admin = await bearer(client, "admin", ADMIN_PASSWORD)
    _, commune, _ = await _first_commune(client)

    async def create(i: int):
        return await client.post(
            "/api/v1/admin/users",
            headers=admin,
            json={
                "username": f"song.song.{backend[0]}.{i}",
                "password": "Mat-khau-2021",
                "role": "specialist",
                "unit_code": commune["code"],
                "full_name": f"Cán bộ {i}",
            },
        )

    responses = await asyncio.gather(*(create(i) for i in range(12)))
    assert [r.status_code for r in responses] == [201] * 12
    verify = (await client.get("/api/v1/audit/verify", headers=admin)).json()
    assert verify["intact"], verify["breaks"]


async def test_passwords_are_stored_as_argon2id_hashes(backend):
    row = await User.select(User.password_hash).where(User.username == "admin").first()
    assert row["password_hash"].startswith("$argon2id$") and ADMIN_PASSWORD not in row["password_hash"]


async def test_sqlite_runs_in_wal_mode(backend):
    if backend[0] != "sqlite":
        pytest.skip("WAL is a SQLite setting")
    rows = await User.raw("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"


async def test_a_token_verified_once_still_expires_on_the_portal_clock(client, clock):
    """Bearer tokens are verified once and the result kept (app/services/security.py); the
    expiry is still read against the clock on every request."""
    from datetime import timedelta

    from tests.conftest import app_settings

    headers = await bearer(client, "kiemtra")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    clock.advance(timedelta(seconds=app_settings().token_ttl_seconds - 1))
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = await client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401 and "hết hạn" in expired.json()["detail"]
