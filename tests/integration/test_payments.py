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
