"""Citizen registration, the audit chain and the public pages, through the real app."""

import json

from app.db.tables import AuditEvent, Unit, User
from app.domain.clock import ManualClock
from app.services.seeding import seed
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, SEED_TIME, bearer


async def _csrf(client) -> str:
    await client.get("/dang-ky")
    return client.cookies.get("portal_csrf")


async def test_a_citizen_registers_with_a_well_formed_cccd(client, backend):
    cccd = "015090001234" if backend[0] == "sqlite" else "015090001235"
    response = await client.post(
        "/dang-ky",
        data={
            "_csrf_token": await _csrf(client),
            "full_name": "Hoàng Văn Dũng",
            "cccd": cccd,
            "birth_year": "1990",
            "gender": "nam",
            "phone": "0912345678",
            "email": "",
            "password": "Mat-khau-2021",
            "password_confirm": "Mat-khau-2021",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = await client.get("/tai-khoan?moi=1")
    assert "Đăng ký tài khoản thành công" in page.text and "Hoàng Văn Dũng" in page.text
    token = await client.post("/api/v1/auth/token", json={"username": cccd, "password": "Mat-khau-2021"})
    assert token.json()["role"] == "citizen"


async def test_a_bad_cccd_is_explained_next_to_the_field_and_nothing_typed_is_lost(client):
    before = await User.count()
    response = await client.post(
        "/dang-ky",
        data={
            "_csrf_token": await _csrf(client),
            "full_name": "Trần Thị Hoa",
            "cccd": "015190001234",
            "birth_year": "1991",
            "gender": "nu",
            "phone": "0987654321",
            "password": "Mat-khau-2021",
            "password_confirm": "Mat-khau-2021",
        },
    )
    assert response.status_code == 422
    assert "Năm sinh 1991 không khớp" in response.text
    assert 'value="Trần Thị Hoa"' in response.text and 'value="0987654321"' in response.text
    assert "Lỗi:" in response.text.split("</title>")[0]
    assert await User.count() == before


async def test_one_account_per_cccd(client):
    existing = await User.select(User.cccd).where(User.role == "citizen").first()
    response = await client.post(
        "/dang-ky",
        data={
            "_csrf_token": await _csrf(client),
            "full_name": "Người Khác",
            "cccd": existing["cccd"],
            "birth_year": "2001",
            "gender": "nu",
            "password": "Mat-khau-2021",
            "password_confirm": "Mat-khau-2021",
        },
    )
    assert response.status_code in (409, 422)
    assert "đã có tài khoản" in response.text.lower() or "không khớp" in response.text


async def test_the_audit_chain_names_an_edited_event(client):
    auditor = await bearer(client, "kiemtra")
    assert (await client.get("/api/v1/audit/verify", headers=auditor)).json()["intact"]
    row = await AuditEvent.select().order_by(AuditEvent.seq).first()
    try:
        await AuditEvent.update({AuditEvent.actor: "someone-else"}).where(AuditEvent.id == row["id"])
        report = (await client.get("/api/v1/audit/verify", headers=auditor)).json()
        assert not report["intact"]
        assert {"seq": row["seq"], "reason": "content altered after it was written"} in report["breaks"]
    finally:
        await AuditEvent.update({AuditEvent.actor: row["actor"]}).where(AuditEvent.id == row["id"])
    assert (await client.get("/api/v1/audit/verify", headers=auditor)).json()["intact"]


async def test_the_audit_chain_names_a_deleted_event(client):
    auditor = await bearer(client, "kiemtra")
    rows = await AuditEvent.select().order_by(AuditEvent.seq).limit(2)
    victim = rows[1]
    await AuditEvent.delete().where(AuditEvent.id == victim["id"])
    try:
        report = (await client.get("/api/v1/audit/verify", headers=auditor)).json()
        assert {"seq": victim["seq"], "reason": "missing (deleted) event"} in report["breaks"]
    finally:
        victim = {
            **victim,
            "details": json.dumps(victim["details"])
            if isinstance(victim["details"], dict)
            else victim["details"],
        }
        await AuditEvent.insert(AuditEvent(**victim))
    assert (await client.get("/api/v1/audit/verify", headers=auditor)).json()["intact"]


async def test_seeding_twice_changes_nothing(backend):
    units, users = await Unit.count(), await User.count()
    await seed(
        ManualClock(SEED_TIME),
        province="yen-bai-2021",
        admin_password=ADMIN_PASSWORD,
        demo_password=DEMO_PASSWORD,
    )
    assert (await Unit.count(), await User.count()) == (units, users)


async def test_home_page_is_vietnamese_and_links_the_catalogue(client):
    page = await client.get("/")
    assert page.status_code == 200 and 'lang="vi"' in page.text
    assert "Cổng Dịch vụ công" in page.text and 'href="/thu-tuc' in page.text


async def test_catalogue_page_filters_and_htmx_gets_only_the_results(client):
    full = await client.get("/thu-tuc", params={"q": "chung thuc"})
    assert full.status_code == 200 and "<html" in full.text and "Chứng thực" in full.text
    partial = await client.get(
        "/thu-tuc", params={"q": "chung thuc"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Chứng thực" in partial.text and "Khai sinh" not in partial.text


async def test_a_procedure_page_tells_a_citizen_what_to_prepare(client):
    page = await client.get("/thu-tuc/1.001193")
    assert page.status_code == 200
    for text in (
        "Đăng ký khai sinh",
        "Thành phần hồ sơ",
        "Tờ khai đăng ký khai sinh",
        "Thời hạn giải quyết",
        "Trong ngày làm việc",
        "8.000 đồng",
        "Căn cứ pháp lý",
        "Nơi tiếp nhận hồ sơ",
    ):
        assert text in page.text, text
    missing = await client.get("/thu-tuc/9.999999")
    assert missing.status_code == 404 and "Không có thủ tục hành chính mã 9.999999" in missing.text
