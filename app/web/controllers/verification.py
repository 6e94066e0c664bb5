"""Verification for anyone: the API, the /verify page, and what a result's QR code opens."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from app.domain.directory import Directory
from app.services.errors import Invalid
from app.services.verification import VerificationService
from app.web.controllers.dossiers import read_multipart
from app.web.controllers.public import page_context
from procedures.loader import default_catalogue

MAX_UPLOAD = 21 * 1024 * 1024


async def _uploaded_pdf(request: Request) -> bytes:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("Gửi tệp PDF dạng multipart/form-data, trường 'file'.", {"file": "Thiếu tệp."})
    _, files = await read_multipart(request)
    upload = next((f for f in files if f.key == "file"), None)
    if upload is None or not upload.content:
        raise Invalid("Chưa chọn tệp PDF cần kiểm tra.", {"file": "Thiếu tệp."})
    return upload.content


class VerificationController(Controller):
    @post(
        "/api/v1/verify",
        tags=["Kiểm tra chữ ký số"],
        status_code=200,
        request_max_body_size=MAX_UPLOAD,
        summary="Kiểm tra chữ ký số của một tệp PDF (ETSI EN 319 102-1)",
    )
    async def verify_api(
        self, request: Request, verification: NamedDependency[VerificationService]
    ) -> dict[str, Any]:
        return await verification.verify(await _uploaded_pdf(request))

    @get("/verify", include_in_schema=False)
    async def verify_page(self, request: Request) -> Template:
        return Template("verify.html", context=page_context(request, report=None, error=None))

    @post("/verify", include_in_schema=False, request_max_body_size=MAX_UPLOAD)
    async def verify_upload(
        self, request: Request, verification: NamedDependency[VerificationService]
    ) -> Template:
        try:
            report = await verification.verify(await _uploaded_pdf(request))
        except Invalid as exc:
            return Template(
                "verify.html", status_code=422, context=page_context(request, report=None, error=exc.detail)
            )
        return Template("verify.html", context=page_context(request, report=report, error=None))

    @get("/van-ban/{code:str}", include_in_schema=False)
    async def issued_document(
        self,
        request: Request,
        code: FromPath[str],
        directory: NamedDependency[Directory],
        verification: NamedDependency[VerificationService],
    ) -> Template:
        found = await verification.document(code)
        if found is None or found["issued"] is None:
            raise NotFoundException(f"Không có văn bản kết quả đã ký số của hồ sơ {code}.")
        procedure = default_catalogue().get(found["dossier"]["procedure_code"])
        return Template(
            "issued.html",
            context=page_context(
                request,
                d=found["dossier"],
                issued=found["issued"],
                procedure=procedure,
                unit=directory.get(found["dossier"]["receiving_unit"]),
            ),
        )
