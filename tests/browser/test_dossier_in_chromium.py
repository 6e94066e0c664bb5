"""A citizen submits a birth registration in Chromium; officers resolve it; the citizen
downloads the result. Screenshots of each page are kept in test-artifacts/."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.browser.test_catalogue_in_chromium import page, server  # noqa: F401 (fixtures)
from tests.conftest import ARTIFACTS, DEMO_PASSWORD

pytestmark = pytest.mark.browser


def api(base: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def token(base: str, username: str) -> str:
    return api(base, "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD})["access_token"]


def test_from_submission_to_the_downloaded_result(server, page, tmp_path):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    citizens = [u for u in api(server, "/api/v1/admin/users?role=citizen", token=_admin(server))]
    citizen = citizens[0]["username"]
    units = api(server, "/api/v1/units")[0]["children"]
    district = next(u for u in units if u["kind"] == "district")
    commune = next(u for u in district["children"] if u["kind"] == "commune")

    page.goto(server + "/dang-nhap?next=/thu-tuc/1.001193/nop")
    page.fill("#username", citizen)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/dang-nhap'] button[type=submit]")
    page.wait_for_url("**/thu-tuc/1.001193/nop")
    page.select_option("#unit_code", commune["code"])
    page.fill("#f_ho_ten_tre", "Lò Thị Mai")
    page.fill("#f_ngay_sinh", "2021-03-01")
    page.select_option("#f_gioi_tinh", "Nữ")
    page.fill("#f_noi_sinh", "Trạm y tế xã")
    page.fill("#f_ho_ten_me", "Lò Thị Hoa")
    page.select_option("#f_quan_he", "Mẹ")
    page.check("#f_dang_ky_dung_han")
    to_khai = tmp_path / "to-khai.pdf"
    to_khai.write_bytes(b"%PDF-1.4\n%%EOF\n")
    chung_sinh = tmp_path / "chung-sinh.png"
    chung_sinh.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    page.set_input_files("#file_to_khai", str(to_khai))
    page.set_input_files("#file_giay_chung_sinh", str(chung_sinh))
    page.screenshot(path=str(ARTIFACTS / "10-submit-form.png"), full_page=True)
    page.click("button[value=tiep]")
    page.wait_for_url("**/ho-so-nhap/*")
    assert page.locator("h1").inner_text() == "Kiểm tra thông tin trước khi gửi"
    page.screenshot(path=str(ARTIFACTS / "11-check-answers.png"), full_page=True)
    page.click("form[action^='/ho-so-nhap/'] button[type=submit]")
    page.wait_for_url("**/xac-nhan")
    code = page.locator("#ma-ho-so").inner_text().strip()
    assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H63-\d{6}-\d{4}", code)
    page.screenshot(path=str(ARTIFACTS / "12-confirmation.png"), full_page=True)

    key = commune["key"]
    for username, action in (
        (f"motcua.{key}", "receive"),
        (f"motcua.{key}", "forward"),
        (f"chuyenvien.{key}", "forward"),
        (f"lanhdao.{key}", "approve"),
        (f"vanthu.{key}", "return_result"),
    ):
        api(server, f"/api/v1/dossiers/{code}/actions", {"action": action}, token(server, username))

    page.goto(f"{server}/ho-so/{code}")
    assert "Đã trả kết quả" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "13-dossier-returned.png"), full_page=True)
    with page.expect_download() as download_info:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.download = 'ket-qua.pdf';"
            " document.body.appendChild(a); a.click(); }",
            f"/api/v1/dossiers/{code}/documents/result",
        )
    saved = tmp_path / "ket-qua.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-") and saved.stat().st_size > 2000

    # The citizen rates the service on the dossier's page.
    page.check("input[name=level][value='4']")
    page.check("input[name=agencies_contacted][value='1']")
    page.click("form[action$='/danh-gia'] button[type=submit]")
    page.wait_for_url("**thong_bao=**")
    assert "Rất hài lòng" in page.locator("#danh-gia + p").inner_text()
    assert "Đánh giá mức độ hài lòng" in page.locator(".timeline").inner_text()
    page.screenshot(path=str(ARTIFACTS / "14-rated.png"), full_page=True)

    # The public statistics count it, and the filters redraw the table in place (htmx).
    page.goto(f"{server}/thong-ke?group=unit&level=commune")
    row = page.locator("tbody tr", has_text=commune["name"]).first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "1" and cells[2] == "1" and cells[-1] == "100%", cells  # received, resolved, satisfied
    assert page.locator("figure svg").count() == 1
    page.select_option("#group", "level")
    page.wait_for_function("() => location.search.includes('group=level')")
    page.wait_for_function("() => document.querySelector('tbody th').textContent.includes('Cấp')")
    page.screenshot(path=str(ARTIFACTS / "15-statistics.png"), full_page=True)


def _admin(base: str) -> str:
    from tests.conftest import ADMIN_PASSWORD

    return api(base, "/api/v1/auth/token", {"username": "admin", "password": ADMIN_PASSWORD})["access_token"]
