"""Dossiers through HTTP on both databases: submit, receive, route, resolve, return —
and every wrong move refused with the right status, changing nothing."""

import asyncio
import json
import re
from pathlib import Path

import pytest

from app.db.tables import AuditEvent, Dossier, DossierStep
from app.services.errors import NotFound
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
    # The answer is built from the row as inserted and the event just chained: the same as
    # the dossier read back afterwards.
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=citizen)).json() == dossier
    assert [h["action"] for h in dossier["history"]] == ["dossier.submit"]

    reception = await bearer(client, f"motcua.{commune['key']}")
    queue = (await client.get("/api/v1/dossiers", headers=reception)).json()
    assert code in [d["code"] for d in queue]
    after = (
        await client.get("/api/v1/dossiers", headers=reception, params={"after": queue[-1]["cursor"]})
    ).json()
    assert code not in [d["code"] for d in after]  # the next page starts after the cursor
    forged = await client.get(
        "/api/v1/dossiers", headers=reception, params={"after": "2021-03-15T09:00:00+07:00"}
    )
    assert forged.status_code == 422 and forged.json()["detail"] == "Con trỏ trang không hợp lệ."

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


async def test_a_dossier_read_by_code_equals_piccolos_select(client, clock):
    """load_row runs its own SELECT … WHERE code = ? through raw(): the same dict as Piccolo's
    select(), every column and type, for the whole row and for the public columns."""
    from app.services.dossiers import PUBLIC_COLUMNS, DossierService
    from app.settings import get_settings

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    await act(client, code, await bearer(client, f"motcua.{commune['key']}"), "receive")
    service = await DossierService.for_settings(clock, get_settings())
    whole = await service.load_row(code)
    assert whole == await Dossier.select().where(Dossier.code == code).first()
    assert whole["received_at"] is not None and whole["due_at"].utcoffset() is not None  # typed, not text
    assert {k: type(v) for k, v in whole.items()} == {
        k: type(v) for k, v in (await Dossier.select().where(Dossier.code == code).first()).items()
    }
    public = await service.load_row(code, PUBLIC_COLUMNS)
    assert public == await Dossier.select(*PUBLIC_COLUMNS).where(Dossier.code == code).first()
    assert list(public) == ["code", "procedure_code", "status", "due_at"]
    with pytest.raises(NotFound):
        await service.load_row(code[:-4] + "9999")


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


async def test_a_repeated_click_takes_no_number_of_the_day(client):
    """The day's number is taken before the submission's transaction on PostgreSQL: a click
    repeated after the first went through returns the same dossier and leaves no gap."""
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    once = (await submit_birth(client, citizen, commune["code"], **{"Idempotency-Key": "tab-9c1d"})).json()
    again = (await submit_birth(client, citizen, commune["code"], **{"Idempotency-Key": "tab-9c1d"})).json()
    after = (await submit_birth(client, citizen, commune["code"])).json()
    assert again["code"] == once["code"]
    assert int(after["code"][-4:]) == int(once["code"][-4:]) + 1


async def test_concurrent_submissions_get_distinct_sequence_numbers(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    responses = await asyncio.gather(*(submit_birth(client, citizen, commune["code"]) for _ in range(8)))
    codes = [r.json()["code"] for r in responses]
    assert all(r.status_code == 201 for r in responses) and len(set(codes)) == 8


async def test_the_days_last_number_given_the_next_submission_is_refused_clearly(client, clock):
    """A unit's codes have four digits for the day's number: once 9,999 are given, a
    submission is a 503 with a message saying so, and writes no dossier."""
    from app.db.tables import DossierCounter
    from app.domain.dossier_code import counter_key

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    key = counter_key(commune["code"], clock.now())
    await submit_birth(client, citizen, commune["code"])  # the day's counter exists
    given = await DossierCounter.select(DossierCounter.last).where(DossierCounter.key == key).first()
    await DossierCounter.update({DossierCounter.last: 9999}).where(DossierCounter.key == key)
    before = await Dossier.count()
    try:
        response = await submit_birth(client, citizen, commune["code"])
        # refused with every write of the statement: the counter did not move past 9,999
        after = await DossierCounter.select(DossierCounter.last).where(DossierCounter.key == key).first()
        assert after["last"] == 9999
    finally:  # the numbers given today stay given
        await DossierCounter.update({DossierCounter.last: given["last"]}).where(DossierCounter.key == key)
    assert response.status_code == 503
    assert response.json()["detail"] == (
        f"Nơi tiếp nhận đã cấp hết 9.999 mã hồ sơ của ngày {clock.now():%d/%m/%Y}:"
        " vui lòng nộp lại vào ngày làm việc sau."
    )
    assert await Dossier.count() == before


async def test_the_days_last_feedback_number_given_the_next_is_refused_clearly(client, clock):
    """Feedback codes (PAKN-YYMMDD-NNNN) have four digits too: the 10,000th of a day is a 503
    saying so, not a code of five digits nor a server error."""
    from app.db.tables import DossierCounter, Feedback
    from app.domain.dossier_code import counter_key

    _, headers = await _citizen(client)
    commune = await _commune(client)
    body = {"subject": "Thái độ", "body": "Cán bộ hướng dẫn chưa rõ.", "unit_code": commune["code"]}
    first = await client.post("/api/v1/feedback", headers=headers, json=body)
    assert first.status_code == 201, first.text
    key = counter_key("PAKN", clock.now())
    given = await DossierCounter.select(DossierCounter.last).where(DossierCounter.key == key).first()
    await DossierCounter.update({DossierCounter.last: 9999}).where(DossierCounter.key == key)
    before = await Feedback.count()
    try:
        refused = await client.post("/api/v1/feedback", headers=headers, json=body)
    finally:
        await DossierCounter.update({DossierCounter.last: given["last"]}).where(DossierCounter.key == key)
    assert refused.status_code == 503, refused.text
    assert refused.json()["detail"] == (
        f"Cổng đã cấp hết 9.999 mã phản ánh, kiến nghị của ngày {clock.now():%d/%m/%Y}:"
        " vui lòng gửi lại vào ngày làm việc sau."
    )
    assert await Feedback.count() == before


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


HKD_FORM = {
    "ten_ho_kinh_doanh": "Tạp hóa Bình Minh",
    "dia_diem": "Thôn 3",
    "nganh_nghe": "Bán lẻ hàng tạp hóa",
    "von_kinh_doanh": 50000000,
    "so_lao_dong": 2,
    "ho_ten": "Hà Văn Bình",
    "ngay_sinh": "1985-04-02",
    "so_cccd": "015085001122",
    "dien_thoai": "0912000111",
}


async def act(client, code, headers, action, **body):
    response = await client.post(
        f"/api/v1/dossiers/{code}/actions", headers=headers, json={"action": action, **body}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_district_procedure_received_at_a_commune_goes_up_and_comes_back(client, clock):
    from datetime import timedelta

    _, citizen = await _citizen(client)
    tree = (await client.get("/api/v1/units")).json()
    district = next(c for c in tree[0]["children"] if c["kind"] == "district")
    commune = next(c for c in district["children"] if c["kind"] == "commune")
    office = next(c for c in district["children"] if c["key"].endswith("-tai-chinh-ke-hoach"))
    files = [
        ("giay_de_nghi", ("de-nghi.pdf", PDF, "application/pdf")),
        ("cccd_chu_ho", ("cccd.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg")),
    ]
    response = await client.post(
        "/api/v1/dossiers",
        headers=citizen,
        files=files,
        data={"procedure_code": "1.001612", "unit_code": commune["code"], "form": json.dumps(HKD_FORM)},
    )
    assert response.status_code == 201, response.text
    d = response.json()
    assert d["fee"]["total"] == 0  # free online
    code = d["code"]
    reception = await bearer(client, f"motcua.{commune['key']}")
    d = await act(client, code, reception, "receive")
    assert d["appointment_at"] == "2021-03-18T17:00:00+07:00"  # 3 working days
    d = await act(client, code, reception, "forward")
    assert d["current_step"]["unit_code"] == office["code"]  # liên thông to the district office
    office_specialist = await bearer(client, f"chuyenvien.{office['key']}")
    assert code in [
        x["code"] for x in (await client.get("/api/v1/dossiers", headers=office_specialist)).json()
    ]
    clock.advance(timedelta(days=1))  # tokens last 8 hours: sign in again the next day
    office_specialist = await bearer(client, f"chuyenvien.{office['key']}")
    d = await act(client, code, office_specialist, "forward")
    office_leader = await bearer(client, f"lanhdao.{office['key']}")
    d = await act(client, code, office_leader, "approve")
    assert d["current_step"]["unit_code"] == commune["code"] and d["timeliness"] == "early"
    clerk = await bearer(client, f"vanthu.{commune['key']}")
    assert (await act(client, code, clerk, "return_result"))["status"] == 10
    # the district office can see the dossier it handled; another commune cannot
    assert "applicant" in (await client.get(f"/api/v1/dossiers/{code}", headers=office_specialist)).json()


async def test_a_supplement_round_restarts_the_clock(client, clock):
    from datetime import timedelta

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    reception = await bearer(client, f"motcua.{commune['key']}")
    await act(client, code, reception, "receive")
    await act(client, code, reception, "forward")
    specialist = await bearer(client, f"chuyenvien.{commune['key']}")
    d = await act(
        client,
        code,
        specialist,
        "request_supplement",
        reasons=["Giấy chứng sinh bản chụp bị mờ", "Tờ khai thiếu chữ ký người đi khai sinh"],
    )
    assert (
        d["status"] == 5 and "supplement" not in d["allowed_actions"]
    )  # the officer cannot answer for the citizen
    clock.advance(timedelta(days=2))  # Wednesday 17/3 09:00
    username, citizen = await _citizen(client)
    specialist = await bearer(client, f"chuyenvien.{commune['key']}")
    answered = await client.post(
        f"/api/v1/dossiers/{code}/supplement",
        headers=citizen,
        files=[("giay_chung_sinh", ("ro-hon.pdf", PDF, "application/pdf"))],
    )
    assert answered.status_code == 200, answered.text
    d = answered.json()
    assert d["status"] == 4 and d["appointment_at"] == "2021-03-17T17:00:00+07:00"  # same day, counted afresh
    again = await client.post(
        f"/api/v1/dossiers/{code}/actions",
        headers=specialist,
        json={"action": "request_supplement", "reasons": ["Thêm nữa"]},
    )
    assert again.status_code == 409 and "một lần" in again.json()["detail"]


async def test_a_refusal_after_appraisal_and_an_apology(client, clock):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    reception = await bearer(client, f"motcua.{commune['key']}")
    specialist = await bearer(client, f"chuyenvien.{commune['key']}")
    refused = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    await act(client, refused, reception, "receive")
    await act(client, refused, reception, "forward")
    d = await act(
        client, refused, specialist, "refuse", reasons=["Trẻ đã được đăng ký khai sinh tại nơi khác"]
    )
    assert d["status"] == 9 and d["flags"]["outcome"] == "refused"

    # Same-day procedures cannot be apologised for on their due day; a 3-working-day one can.
    files = [
        ("giay_de_nghi", ("de-nghi.pdf", PDF, "application/pdf")),
        ("cccd_chu_ho", ("c.pdf", PDF, "application/pdf")),
    ]
    tree = (await client.get("/api/v1/units")).json()
    district = next(c for c in tree[0]["children"] if c["kind"] == "district")
    code = (
        await client.post(
            "/api/v1/dossiers",
            headers=citizen,
            files=files,
            data={"procedure_code": "1.001612", "unit_code": district["code"], "form": json.dumps(HKD_FORM)},
        )
    ).json()["code"]
    district_reception = await bearer(client, f"motcua.{district['key']}")
    await act(client, code, district_reception, "receive")
    d = await act(
        client,
        code,
        district_reception,
        "apologize",
        reasons=["Cần xác minh địa điểm kinh doanh"],
        new_due_at="2021-03-23T17:00:00+07:00",
    )
    assert d["flags"]["apologized"] and d["appointment_at"] == "2021-03-23T17:00:00+07:00"
    assert d["original_appointment_at"] == "2021-03-18T17:00:00+07:00"


async def test_the_citizen_is_told_by_email_and_sms_in_the_outbox(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    reception = await bearer(client, f"motcua.{commune['key']}")
    await act(client, code, reception, "receive")
    response = await client.get(f"/api/v1/dossiers/{code}/notifications", headers=citizen)
    assert response.status_code == 200, response.text
    outbox = response.json()
    assert [(n["channel"], n["subject"].split("] ")[1]) for n in outbox] == [
        ("email", "Đã nhận hồ sơ trực tuyến"),
        ("sms", "Đã nhận hồ sơ trực tuyến"),
        ("email", "Hồ sơ đã được tiếp nhận"),
        ("sms", "Hồ sơ đã được tiếp nhận"),
    ]
    assert "Ngày hẹn trả kết quả: 15/03/2021 17:00 (+07:00)" in outbox[2]["body"]
    assert all(n["status"] == "pending" for n in outbox)
    stranger = await bearer(client, "kiemtra")  # an auditor reads everything
    assert (await client.get(f"/api/v1/dossiers/{code}/notifications", headers=stranger)).status_code == 200


async def test_the_clock_raises_overdue_flags_but_not_while_waiting_for_a_supplement(client, clock):
    from datetime import timedelta

    from app.services.calendar import default_calendar
    from app.services.directory import load_directory
    from app.services.dossiers import DossierService
    from procedures.loader import default_catalogue

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    reception = await bearer(client, f"motcua.{commune['key']}")
    running = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    waiting = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    for code in (running, waiting):
        await act(client, code, reception, "receive")
    await act(client, waiting, reception, "request_supplement", reasons=["Thiếu chữ ký"])
    service = DossierService(
        clock, await load_directory(), default_catalogue(), default_calendar(), Path("/tmp")
    )
    assert running not in await service.raise_overdue_flags()  # not yet: due 17:00 today
    clock.advance(timedelta(days=1))
    flagged = await service.raise_overdue_flags()
    assert running in flagged and waiting not in flagged
    assert running not in await service.raise_overdue_flags()  # raised once
    assert await AuditEvent.exists().where(
        (AuditEvent.action == "dossier.overdue") & (AuditEvent.dossier_code == running)
    )


async def test_a_citizen_withdraws_and_the_one_stop_unit_stops_processing(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    reception = await bearer(client, f"motcua.{commune['key']}")
    await act(client, code, reception, "receive")
    d = await act(client, code, citizen, "withdraw")
    assert d["status"] == 7 and d["status_name"] == "Công dân yêu cầu rút hồ sơ"
    d = await act(client, code, reception, "stop")
    assert d["status"] == 8 and d["finished_at"] and d["allowed_actions"] == []


async def test_an_oversized_upload_is_refused_with_a_clear_message(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    big = PDF + b"0" * (10 * 1024 * 1024)
    response = await client.post(
        "/api/v1/dossiers",
        headers=citizen,
        data={"procedure_code": "1.001193", "unit_code": commune["code"], "form": json.dumps(BIRTH_FORM)},
        files=[
            ("to_khai", ("lon.pdf", big, "application/pdf")),
            ("giay_chung_sinh", ("c.png", PNG, "image/png")),
        ],
    )
    assert response.status_code == 422 and "vượt quá 10 MB" in response.json()["errors"]["files.to_khai"]
