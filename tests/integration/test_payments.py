"""Paying a fee online through the simulated gateway: signed callbacks, idempotent, states."""

import hashlib
import hmac
import json
import os
from datetime import timedelta

from app.db.tables import AuditEvent
from tests.conftest import bearer
from tests.integration.test_dossier_journey import PDF, _citizen

LLTP_FORM = {
    "ho_ten": "Trần Văn Khánh",
    "ngay_sinh": "1990-05-06",
    "so_cccd": "015090004455",
    "loai_phieu": "Phiếu số 1",
    "so_phieu": 4,
    "muc_dich": "Bổ sung hồ sơ xin việc",
    "dien_thoai": "0912333444",
}
SECRET = hashlib.sha256(("payment-gateway:" + os.environ["PORTAL_SECRET_KEY"]).encode()).hexdigest()


def signed(body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body, sort_keys=True).encode()
    return raw, {
        "X-Signature": hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


async def _criminal_record_dossier(client, citizen):
    center = next(
        c for c in (await client.get("/api/v1/units")).json()[0]["children"] if c["kind"] == "center"
    )
    response = await client.post(
        "/api/v1/dossiers",
        headers=citizen,
        data={"procedure_code": "3.000333", "unit_code": center["code"], "form": json.dumps(LLTP_FORM)},
        files=[
            ("to_khai", ("to-khai.pdf", PDF, "application/pdf")),
            ("giay_to_tuy_than", ("cccd.pdf", PDF, "application/pdf")),
        ],
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_fee_paid_at_the_gateway_reaches_the_dossier_once(client):
    _, citizen = await _citizen(client)
    dossier = await _criminal_record_dossier(client, citizen)
    assert dossier["fee"] == {"total": 210000, "due": True, "paid": False}  # 200.000 + 2 extra copies × 5.000
    code = dossier["code"]
    created = await client.post(f"/api/v1/dossiers/{code}/payments", headers=citizen)
    assert created.status_code == 201 and created.headers["location"].startswith("/pay/PAY-")
    payment = created.json()
    assert payment["state"] == "created" and payment["amount"] == 210000

    page = await client.get(payment["next_url"])
    assert "210.000 đồng" in page.text
    token = client.cookies.get("portal_csrf")
    done = await client.post(payment["next_url"], data={"outcome": "succeeded", "_csrf_token": token})
    assert done.status_code in (200, 201) and "Thành công" in done.text
    view = (await client.get(f"/api/v1/dossiers/{code}", headers=citizen)).json()
    assert view["fee"]["paid"] is True

    body, headers = signed({"reference": payment["reference"], "state": "succeeded", "amount": 210000})
    replay = await client.post("/api/v1/payments/callback", content=body, headers=headers)
    assert replay.status_code == 200 and replay.json()["state"] == "succeeded"
    pays = await AuditEvent.count().where(
        (AuditEvent.dossier_code == code) & (AuditEvent.action == "dossier.pay")
    )
    assert pays == 1

    other, headers = signed({"reference": payment["reference"], "state": "failed", "amount": 210000})
    assert (await client.post("/api/v1/payments/callback", content=other, headers=headers)).status_code == 409
    again = await client.post(f"/api/v1/dossiers/{code}/payments", headers=citizen)
    assert again.status_code == 409


async def test_a_forged_or_altered_callback_is_refused(client):
    _, citizen = await _citizen(client)
    code = (await _criminal_record_dossier(client, citizen))["code"]
    payment = (await client.post(f"/api/v1/dossiers/{code}/payments", headers=citizen)).json()
    body, headers = signed({"reference": payment["reference"], "state": "succeeded", "amount": 210000})
    forged = await client.post(
        "/api/v1/payments/callback", content=body, headers={**headers, "X-Signature": "0" * 64}
    )
    assert forged.status_code == 401 and "Chữ ký" in forged.json()["detail"]
    cheaper, headers = signed({"reference": payment["reference"], "state": "succeeded", "amount": 1000})
    assert (
        await client.post("/api/v1/payments/callback", content=cheaper, headers=headers)
    ).status_code == 422
    garbage = await client.post(
        "/api/v1/payments/callback", content=b"{not json", headers={"X-Signature": "x"}
    )
    assert garbage.status_code == 401
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=citizen)).json()["fee"]["paid"] is False


async def test_an_unpaid_payment_expires_after_90_minutes(client, clock):
    _, citizen = await _citizen(client)
    code = (await _criminal_record_dossier(client, citizen))["code"]
    payment = (await client.post(f"/api/v1/dossiers/{code}/payments", headers=citizen)).json()
    clock.advance(timedelta(minutes=91))
    citizen = await bearer(client, (await _citizen(client))[0])
    status = (await client.get(f"/api/v1/payments/{payment['reference']}", headers=citizen)).json()
    assert status["state"] == "expired" and status["state_name"] == "Hết hạn"


async def test_a_provincial_procedure_with_a_fee_goes_through_two_agencies_to_its_result(client):
    """Cấp Phiếu lý lịch tư pháp: the Centre receives, Sở Tư pháp appraises, Công an tỉnh checks
    the criminal record (same-level liên thông), Sở Tư pháp signs, the Centre returns."""
    _, citizen = await _citizen(client)
    code = (await _criminal_record_dossier(client, citizen))["code"]
    payment = (await client.post(f"/api/v1/dossiers/{code}/payments", headers=citizen)).json()
    body, headers = signed({"reference": payment["reference"], "state": "succeeded", "amount": 210000})
    assert (await client.post("/api/v1/payments/callback", content=body, headers=headers)).status_code == 200

    async def act(username, action):
        response = await client.post(
            f"/api/v1/dossiers/{code}/actions",
            headers=await bearer(client, username),
            json={"action": action},
        )
        assert response.status_code == 200, response.text
        return response.json()

    units = {u["key"]: u["code"] for u in (await client.get("/api/v1/units")).json()[0]["children"]}
    d = await act("motcua.ttpvhcc.2", "receive")  # any officer of the Centre's one-stop counter
    assert d["appointment_at"] == "2021-03-25T17:00:00+07:00"  # 10 calendar days
    d = await act("motcua.ttpvhcc", "forward")
    assert d["current_step"]["unit_code"] == units["tu-phap"]
    d = await act("chuyenvien.tu-phap", "forward")
    assert d["current_step"]["unit_code"] == units["cong-an"]
    d = await act("chuyenvien.cong-an", "forward")
    assert d["current_step"]["unit_code"] == units["tu-phap"]
    d = await act("chuyenvien.tu-phap.2", "forward")
    d = await act("lanhdao.tu-phap", "approve")
    d = await act("vanthu.ttpvhcc", "return_result")
    assert d["status"] == 10 and d["timeliness"] == "early" and d["fee"]["paid"]


async def test_two_officers_at_once_one_wins_and_the_audit_shows_one(client):
    import asyncio

    _, citizen = await _citizen(client)
    code = (await _criminal_record_dossier(client, citizen))["code"]
    first_officer, second_officer = (
        await bearer(client, "motcua.ttpvhcc"),
        await bearer(client, "motcua.ttpvhcc.3"),
    )
    results = await asyncio.gather(
        client.post(f"/api/v1/dossiers/{code}/actions", headers=first_officer, json={"action": "receive"}),
        client.post(f"/api/v1/dossiers/{code}/actions", headers=second_officer, json={"action": "receive"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert "vừa được người khác xử lý" in loser.json()["detail"] or "tiếp nhận" in loser.json()["detail"]
    receipts = await AuditEvent.count().where(
        (AuditEvent.dossier_code == code) & (AuditEvent.action == "dossier.receive")
    )
    assert receipts == 1


async def test_a_counter_submission_entered_by_the_one_stop_officer(client):
    """Channel 1: a walk-in applicant; the officer types the dossier in (Decree 61 Art. 17)."""
    center = next(
        c for c in (await client.get("/api/v1/units")).json()[0]["children"] if c["kind"] == "center"
    )
    officer = await bearer(client, "motcua.ttpvhcc")
    response = await client.post(
        "/api/v1/dossiers",
        headers=officer,
        data={
            "procedure_code": "3.000333",
            "unit_code": center["code"],
            "form": json.dumps(LLTP_FORM),
            "channel": "1",
            "applicant_name": "Trần Văn Khánh",
            "applicant_cccd": "015090004455",
            "applicant_phone": "0912333444",
        },
        files=[
            ("to_khai", ("to-khai.pdf", PDF, "application/pdf")),
            ("giay_to_tuy_than", ("cccd.pdf", PDF, "application/pdf")),
        ],
    )
    assert response.status_code == 201, response.text
    d = response.json()
    assert d["channel"] == 1 and d["applicant"]["name"] == "Trần Văn Khánh"
    assert d["fee"]["total"] == 210000  # no online discount at the counter
    _, citizen = await _citizen(client)
    online_only = await client.post(
        "/api/v1/dossiers",
        headers=citizen,
        data={
            "procedure_code": "3.000333",
            "unit_code": center["code"],
            "form": json.dumps(LLTP_FORM),
            "channel": "1",
        },
        files=[("to_khai", ("to-khai.pdf", PDF, "application/pdf"))],
    )
    assert online_only.status_code == 403
