"""Dossiers through HTTP on both databases: submit, receive, route, resolve, return —
and every wrong move refused with the right status, changing nothing."""

import asyncio
import json
import re

from app.db.tables import AuditEvent, Dossier, DossierStep
from tests.conftest import bearer

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.H63-\d{6}-\d{4}$")

BIRTH_FORM = {
    "ho_ten_tre": "Lò Thị Mai",
    "ngay_sinh": "2021-03-01",
    "gioi_tinh": "Nữ",
    "noi_sinh": "Trạm y tế xã",
    "ho_ten_me": "Lò Thị Hoa",
    "quan_he": "Mẹ",
    "dang_ky_dung_han": True,
}


async def _citizen(client):
    from app.db.tables import User

    row = await User.select(User.username).where(User.role == "citizen").order_by(User.id).first()
    return row["username"], await bearer(client, row["username"])


async def _commune(client):
    tree = (await client.get("/api/v1/units")).json()
    district = next(c for c in tree[0]["children"] if c["kind"] == "district")
    return next(c for c in district["children"] if c["kind"] == "commune")


async def submit_birth(client, headers, unit_code, **extra):
    files = [
        ("to_khai", ("to-khai.pdf", PDF, "application/pdf")),
        ("giay_chung_sinh", ("chung-sinh.png", PNG, "image/png")),
    ]
    data = {"procedure_code": "1.001193", "unit_code": unit_code, "form": json.dumps(BIRTH_FORM)}
    return await client.post("/api/v1/dossiers", headers={**headers, **extra}, data=data, files=files)


async def test_a_birth_registration_from_submission_to_returned_result(client, clock, backend):
    from datetime import timedelta

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    submitted = await submit_birth(client, citizen, commune["code"])
    assert submitted.status_code == 201, submitted.text
    dossier = submitted.json()
    code = dossier["code"]
    assert CODE.match(code) and code.startswith(commune["code"] + "-210315-")
    assert dossier["status"] == 1 and dossier["status_name"] == "Mới đăng ký"
    assert dossier["fee"] == {"total": 0, "due": False, "paid": False}  # on-time birth registration is free
    assert dossier["allowed_actions"] == ["withdraw"]

    reception = await bearer(client, f"motcua.{commune['key']}")
    queue = (await client.get("/api/v1/dossiers", headers=reception)).json()
    assert code in [d["code"] for d in queue]

    received = (
        await client.post(f"/api/v1/dossiers/{code}/actions", headers=reception, json={"action": "receive"})
    ).json()
    assert received["status"] == 2 and received["appointment_at"] == "2021-03-15T17:00:00+07:00"  # same day
    clock.advance(timedelta(minutes=30))
    forwarded = (
        await client.post(f"/api/v1/dossiers/{code}/actions", headers=reception, json={"action": "forward"})
    ).json()
    assert forwarded["status"] == 4 and forwarded["current_step"]["role"] == "specialist"
    assert forwarded["current_step"]["unit_code"] == commune["code"]

    specialist = await bearer(client, f"chuyenvien.{commune['key']}")
    clock.advance(timedelta(hours=2))
    await client.post(f"/api/v1/dossiers/{code}/actions", headers=specialist, json={"action": "forward"})
    leader = await bearer(client, f"lanhdao.{commune['key']}")
    clock.advance(timedelta(hours=1))
    approved = (
        await client.post(f"/api/v1/dossiers/{code}/actions", headers=leader, json={"action": "approve"})
    ).json()
    assert approved["status"] == 9 and approved["timeliness"] == "on_time" and approved["finished_at"]
    clerk = await bearer(client, f"vanthu.{commune['key']}")
    returned = (
        await client.post(f"/api/v1/dossiers/{code}/actions", headers=clerk, json={"action": "return_result"})
    ).json()
    assert returned["status"] == 10 and returned["status_name"] == "Đã trả kết quả"
    assert returned["allowed_actions"] == [] and returned["current_step"] is None

    row = await Dossier.select(Dossier.id).where(Dossier.code == code).first()
    steps = await DossierStep.select().where(DossierStep.dossier_id == row["id"]).order_by(DossierStep.id)
    assert [s["role"] for s in steps] == ["reception", "specialist", "leader", "clerk"]
    assert all(s["finished_at"] and s["timeliness"] in ("early", "on_time") for s in steps)
    actions = [e["action"] for e in returned["history"]]
    assert actions == [
        "dossier.submit",
        "dossier.receive",
        "dossier.forward",
        "dossier.forward",
        "dossier.approve",
        "dossier.return_result",
    ]


async def test_the_public_look_up_shows_only_code_procedure_status_and_appointment(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    public = (await client.get(f"/api/v1/dossiers/{code}")).json()
    assert set(public) == {"code", "procedure", "status", "status_name", "appointment_at"}
    own = (await client.get(f"/api/v1/dossiers/{code}", headers=citizen)).json()
    assert own["applicant"]["name"] and own["form"]["ho_ten_tre"] == "Lò Thị Mai"
    assert await AuditEvent.exists().where(
        (AuditEvent.action == "dossier.view") & (AuditEvent.dossier_code == code)
    )
    bad = await client.get("/api/v1/dossiers/khong-phai-ma")
    assert bad.status_code == 404 and "không đúng định dạng" in bad.json()["detail"]


async def test_a_bad_submission_is_explained_field_by_field_and_creates_nothing(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    before = await Dossier.count()
    form = {**BIRTH_FORM, "ngay_sinh": "2021-02-30", "gioi_tinh": "Khác"}
    del form["ho_ten_me"]
    response = await client.post(
        "/api/v1/dossiers",
        headers=citizen,
        data={"procedure_code": "1.001193", "unit_code": commune["code"], "form": json.dumps(form)},
        files=[("to_khai", ("to-khai.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))],
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["form.ngay_sinh"].endswith("ngày không hợp lệ (định dạng yyyy-mm-dd).")
    assert "form.gioi_tinh" in errors and errors["form.ho_ten_me"].startswith("Vui lòng nhập")
    assert "không phải PDF" in errors["files.to_khai"]
    assert errors["files.giay_chung_sinh"].startswith("Thiếu thành phần hồ sơ bắt buộc")
    assert await Dossier.count() == before


async def test_a_second_click_makes_one_dossier(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    first, second = await asyncio.gather(
        submit_birth(client, citizen, commune["code"], **{"Idempotency-Key": "tab-7f3a"}),
        submit_birth(client, citizen, commune["code"], **{"Idempotency-Key": "tab-7f3a"}),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    codes = {r.json().get("code") for r in (first, second) if r.status_code == 201}
    assert len(codes) == 1
    assert await Dossier.count().where(Dossier.idempotency_key.like("%:tab-7f3a")) == 1


async def test_concurrent_submissions_get_distinct_sequence_numbers(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    responses = await asyncio.gather(*(submit_birth(client, citizen, commune["code"]) for _ in range(8)))
    codes = [r.json()["code"] for r in responses]
    assert all(r.status_code == 201 for r in responses) and len(set(codes)) == 8


async def test_two_officers_acting_at_once_one_wins_the_other_gets_409(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    reception = await bearer(client, f"motcua.{commune['key']}")
    first, second = await asyncio.gather(
        client.post(f"/api/v1/dossiers/{code}/actions", headers=reception, json={"action": "receive"}),
        client.post(f"/api/v1/dossiers/{code}/actions", headers=reception, json={"action": "receive"}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    receipts = await AuditEvent.count().where(
        (AuditEvent.dossier_code == code) & (AuditEvent.action == "dossier.receive")
    )
    assert receipts == 1


async def test_wrong_moves_are_refused_and_change_nothing(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    specialist = await bearer(client, f"chuyenvien.{commune['key']}")
    not_yours = await client.post(
        f"/api/v1/dossiers/{code}/actions", headers=specialist, json={"action": "receive"}
    )
    assert not_yours.status_code == 403
    wrong_state = await client.post(
        f"/api/v1/dossiers/{code}/actions", headers=citizen, json={"action": "approve"}
    )
    assert wrong_state.status_code == 409 and "phê duyệt" in wrong_state.json()["detail"]
    unknown = await client.post(
        f"/api/v1/dossiers/{code}/actions", headers=citizen, json={"action": "teleport"}
    )
    assert unknown.status_code == 422
    reception = await bearer(client, f"motcua.{commune['key']}")
    no_reasons = await client.post(
        f"/api/v1/dossiers/{code}/actions", headers=reception, json={"action": "reject"}
    )
    assert no_reasons.status_code == 422 and "lý do" in no_reasons.json()["detail"]
    row = await Dossier.select(Dossier.status, Dossier.version).where(Dossier.code == code).first()
    assert row == {"status": 1, "version": 0}


async def test_someone_elses_dossier_is_not_shown(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    from app.db.tables import User

    other = (
        await User.select(User.username)
        .where(User.role == "citizen")
        .order_by(User.id, ascending=False)
        .first()
    )
    stranger = await bearer(client, other["username"])
    seen = (await client.get(f"/api/v1/dossiers/{code}", headers=stranger)).json()
    assert "applicant" not in seen and "form" not in seen
    withdraw = await client.post(
        f"/api/v1/dossiers/{code}/actions", headers=stranger, json={"action": "withdraw"}
    )
    assert withdraw.status_code == 403
