"""The pages of the dossier journey, through the real app: the citizen's form with errors
next to the fields and nothing lost, save and resume, check answers, one dossier however
often it is sent; the officer's queue and actions; the public look-up."""

import re

from app.db.tables import Dossier
from tests.conftest import browser_login
from tests.integration.test_dossier_journey import PDF, PNG, _commune

FIELDS = {
    "f_ho_ten_tre": "Lò Thị Mai",
    "f_ngay_sinh": "2021-03-01",
    "f_gioi_tinh": "Nữ",
    "f_noi_sinh": "Trạm y tế xã",
    "f_ho_ten_me": "Lò Thị Hoa",
    "f_quan_he": "Mẹ",
    "f_dang_ky_dung_han": "1",
}


async def _citizen_session(client):
    from app.db.tables import User

    row = await User.select(User.username).where(User.role == "citizen").order_by(User.id).first()
    response = await browser_login(client, row["username"])
    assert response.status_code == 303
    return client.cookies.get("portal_csrf")


async def test_the_citizen_journey_in_pages(client):
    csrf = await _citizen_session(client)
    commune = await _commune(client)
    form = await client.get("/thu-tuc/1.001193/nop")
    assert form.status_code == 200 and 'name="f_ho_ten_tre"' in form.text and 'type="file"' in form.text

    # Errors come back next to the fields, with everything typed still there.
    bad = await client.post(
        "/thu-tuc/1.001193/nop",
        data={
            **FIELDS,
            "f_ngay_sinh": "2021-02-30",
            "unit_code": commune["code"],
            "hanh_dong": "tiep",
            "_csrf_token": csrf,
        },
        files=[("to_khai", ("to-khai.pdf", PDF, "application/pdf"))],
    )
    assert bad.status_code == 422 and bad.text.split("</title>")[0].count("Lỗi:") == 1
    assert "ngày không hợp lệ" in bad.text and "Thiếu thành phần hồ sơ bắt buộc" in bad.text
    assert 'value="Lò Thị Mai"' in bad.text and "Đã đính kèm: to-khai.pdf" in bad.text
    token = re.search(r'name="nhap" value="([^"]+)"', bad.text).group(1)

    # Save and come back later: the answers and the checked file are kept.
    saved = await client.post(
        "/thu-tuc/1.001193/nop",
        data={**FIELDS, "unit_code": commune["code"], "nhap": token, "hanh_dong": "luu", "_csrf_token": csrf},
    )
    assert saved.status_code == 303 and "da_luu=1" in saved.headers["location"]
    mine = await client.get("/ho-so")
    assert "Hồ sơ nháp" in mine.text and f"nhap={token}" in mine.text
    resumed = await client.get(f"/thu-tuc/1.001193/nop?nhap={token}")
    assert 'value="2021-03-01"' in resumed.text and "Đã đính kèm: to-khai.pdf" in resumed.text

    ok = await client.post(
        "/thu-tuc/1.001193/nop",
        data={
            **FIELDS,
            "unit_code": commune["code"],
            "nhap": token,
            "hanh_dong": "tiep",
            "_csrf_token": csrf,
        },
        files=[("giay_chung_sinh", ("chung-sinh.png", PNG, "image/png"))],
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/ho-so-nhap/{token}"
    check = await client.get(f"/ho-so-nhap/{token}")
    assert "Kiểm tra thông tin trước khi gửi" in check.text and "Lò Thị Mai" in check.text
    assert "Miễn" in check.text and "chung-sinh.png" in check.text

    before = await Dossier.count()
    first = await client.post(f"/ho-so-nhap/{token}", data={"_csrf_token": csrf})
    second = await client.post(f"/ho-so-nhap/{token}", data={"_csrf_token": csrf})  # a second click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await Dossier.count() == before + 1
    confirmation = await client.get(first.headers["location"])
    code = re.search(r'id="ma-ho-so">([^<]+)<', confirmation.text).group(1)
    assert code.startswith(commune["code"]) and "Việc gì sẽ diễn ra tiếp theo" in confirmation.text
    assert "Dự kiến" in confirmation.text and "Mẫu 01" in confirmation.text

    page = await client.get(f"/ho-so/{code}")
    assert page.status_code == 200 and "Mới đăng ký" in page.text and "Rút hồ sơ" in page.text
    public = await client.get("/tra-cuu", params={"ma": code})
    assert "Mới đăng ký" in public.text and "Lò Thị Hoa" not in public.text


async def test_the_officer_acts_from_the_queue(client):
    from tests.conftest import bearer
    from tests.integration.test_dossier_journey import _citizen, submit_birth

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    await bearer(client, f"motcua.{commune['key']}")
    assert (await browser_login(client, f"motcua.{commune['key']}")).status_code == 303
    csrf = client.cookies.get("portal_csrf")
    queue = await client.get("/ho-so")
    assert "Hàng đợi xử lý" in queue.text and code in queue.text
    page = await client.get(f"/ho-so/{code}")
    assert "Tiếp nhận hồ sơ" in page.text and "Từ chối tiếp nhận (Mẫu 03)" in page.text
    done = await client.post(f"/ho-so/{code}/thao-tac", data={"action": "receive", "_csrf_token": csrf})
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert "Đã thực hiện: Tiếp nhận hồ sơ." in after.text and "Được tiếp nhận" in after.text
    assert "Mẫu số 01" in after.text
    refused = await client.post(f"/ho-so/{code}/thao-tac", data={"action": "approve", "_csrf_token": csrf})
    assert "loi=" in refused.headers["location"]  # not allowed now: explained, nothing changed
    assert (await Dossier.select(Dossier.status).where(Dossier.code == code).first())["status"] == 2
