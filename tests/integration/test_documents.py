"""Forms 01–06 and the result as PDFs: right size, Vietnamese text that round-trips,
structurally valid for qpdf, and only for those entitled."""

import pytest

from tests.conftest import bearer
from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth
from tests.pdftools import need_tools, page_size, pdf_text, qpdf_ok


@pytest.fixture(autouse=True)
def _poppler():
    need_tools()


async def test_the_forms_of_a_dossier_with_a_supplement_and_a_result(client, clock, tmp_path):
    from datetime import timedelta

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    assert (await client.get(f"/api/v1/dossiers/{code}/documents", headers=citizen)).json() == []
    reception = await bearer(client, f"motcua.{commune['key']}")
    await act(client, code, reception, "receive")
    await act(client, code, reception, "forward")
    specialist = await bearer(client, f"chuyenvien.{commune['key']}")
    await act(client, code, specialist, "request_supplement", reasons=["Giấy chứng sinh bản chụp bị mờ"])
    from tests.integration.test_dossier_journey import PDF

    clock.advance(timedelta(minutes=20))
    supplemented = await client.post(
        f"/api/v1/dossiers/{code}/supplement",
        headers=citizen,
        files=[("giay_chung_sinh", ("ro.pdf", PDF, "application/pdf"))],
    )
    assert supplemented.status_code == 200
    await act(client, code, specialist, "forward")
    leader = await bearer(client, f"lanhdao.{commune['key']}")
    await act(client, code, leader, "approve")

    listing = (await client.get(f"/api/v1/dossiers/{code}/documents", headers=citizen)).json()
    assert [d["kind"] for d in listing] == ["receipt", "supplement_request", "control_sheet", "result"]
    assert all(set(d) == {"kind", "title", "url", "signed"} for d in listing)
    # Forms 01 and 02 were sealed when issued; Form 05 is always current; the result awaits signing.
    assert {d["kind"]: d["signed"] for d in listing} == {
        "receipt": True,
        "supplement_request": True,
        "control_sheet": True,  # sealed when downloaded
        "result": False,
    }

    receipt = await client.get(f"/api/v1/dossiers/{code}/documents/receipt", headers=citizen)
    assert receipt.headers["content-type"] == "application/pdf" and receipt.content.startswith(b"%PDF-")
    assert page_size(receipt.content, tmp_path).startswith("419.") and qpdf_ok(
        receipt.content, tmp_path
    )  # A5
    text = pdf_text(receipt.content, tmp_path)
    for expected in (
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        code,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Đăng ký khai sinh",
        "Tờ khai đăng ký khai sinh",
        "ngày 15 tháng 03 năm 2021",
    ):
        assert expected in text, expected

    form02 = pdf_text(
        (await client.get(f"/api/v1/dossiers/{code}/documents/supplement_request", headers=citizen)).content,
        tmp_path,
    )
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in form02 and "Giấy chứng sinh bản chụp bị mờ" in form02
    form05 = pdf_text(
        (await client.get(f"/api/v1/dossiers/{code}/documents/control_sheet", headers=citizen)).content,
        tmp_path,
    )
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in form05 and "Trước hạn" in form05
    result = await client.get(f"/api/v1/dossiers/{code}/documents/result", headers=citizen)
    assert page_size(result.content, tmp_path).startswith("595.") and qpdf_ok(result.content, tmp_path)  # A4
    result_text = pdf_text(result.content, tmp_path)
    assert "BẢN CHƯA KÝ SỐ" in result_text and "Lò Thị Mai" in result_text and "GIẤY KHAI SINH" in result_text

    missing = await client.get(f"/api/v1/dossiers/{code}/documents/apology", headers=citizen)
    assert missing.status_code == 404
    other_reception = await bearer(client, "motcua.ttpvhcc")
    assert (
        await client.get(f"/api/v1/dossiers/{code}/documents/receipt", headers=other_reception)
    ).status_code == 403
    assert (await client.get(f"/api/v1/dossiers/{code}/documents/receipt")).status_code == 401

    register = await client.get(
        f"/api/v1/units/{commune['code']}/register", params={"year": 2021}, headers=reception
    )
    assert register.status_code == 200 and page_size(register.content, tmp_path).startswith(
        "841."
    )  # A4 landscape
    register_text = pdf_text(register.content, tmp_path)
    assert "SỔ THEO DÕI HỒ SƠ NĂM 2021" in register_text and code in register_text
