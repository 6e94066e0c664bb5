"""Dossiers over the JSON API: submit, look up, list, act, supplement."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.services.documents import DocumentService
from app.services.dossiers import ActionRequest, DossierService, Submission, UploadedFile
from app.services.errors import Invalid
from app.web.auth import authenticated
from app.web.controllers.account import asks_fresh, client_ip

#: A submission may carry several files per document; each is checked on its own too.
MAX_SUBMISSION_BYTES = 32 * 1024 * 1024


class ActionBody(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    reasons: list[str] = []
    new_due_at: datetime | None = None


async def read_multipart(request: Request) -> tuple[dict[str, str], tuple[UploadedFile, ...]]:
    """Text fields, and the files named by document key (an empty file input is skipped)."""
    form = await request.form()
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            if content or value.filename:
                files.append(UploadedFile(key, value.filename or "", content))
        else:
            fields[key] = value
    return fields, tuple(files)


def pdf_response(pdf: bytes, filename: str) -> Response[bytes]:
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


class DossierApiController(Controller):
    path = "/api/v1/dossiers"
    tags = ["Hồ sơ"]

    @post(
        "/",
        guards=[authenticated],
        request_max_body_size=MAX_SUBMISSION_BYTES,
        summary="Nộp hồ sơ (multipart: procedure_code, unit_code, form JSON, tệp theo mã giấy tờ)",
    )
    async def submit(self, request: Request, dossiers: NamedDependency[DossierService]) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise Invalid("Hồ sơ phải gửi dạng multipart/form-data.", {"content-type": "multipart/form-data"})
        fields, files = await read_multipart(request)
        try:
            form = json.loads(fields.get("form") or "{}")
        except json.JSONDecodeError:
            raise Invalid("Tờ khai (form) phải là JSON hợp lệ.", {"form": "JSON không hợp lệ."}) from None
        try:
            channel = int(fields.get("channel") or 2)
        except ValueError:
            channel = 0
        if channel not in (1, 2, 3):
            raise Invalid(
                "Kênh nộp phải là 1 (trực tiếp), 2 (trực tuyến) hoặc 3 (bưu chính).",
                {"channel": "1, 2 hoặc 3"},
            )
        spec = Submission(
            procedure_code=fields.get("procedure_code", ""),
            unit_code=fields.get("unit_code", ""),
            form=form,
            files=files,
            channel=channel,
            idempotency_key=request.headers.get("idempotency-key") or fields.get("idempotency_key") or None,
            applicant_name=fields.get("applicant_name", ""),
            applicant_cccd=fields.get("applicant_cccd", ""),
            applicant_phone=fields.get("applicant_phone", ""),
        )
        return await dossiers.submit(spec, request.scope["user"], client_ip(request))

    @get("/", guards=[authenticated], summary="Hồ sơ của tôi / hàng đợi của cán bộ (khẩn cấp trước)")
    async def list_dossiers(
        self,
        request: Request,
        dossiers: NamedDependency[DossierService],
        status: FromQuery[int | None] = None,
        after: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> list[dict[str, Any]]:
        return await dossiers.queue(
            request.scope["user"], status=status, after=after, limit=max(1, min(limit, 200))
        )

    @get("/{code:str}", summary="Tra cứu hồ sơ (không đăng nhập: mã, thủ tục, trạng thái, ngày hẹn)")
    async def lookup(
        self, request: Request, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> dict[str, Any]:
        return await dossiers.view(
            code, request.scope.get("user"), client_ip(request), fresh=asks_fresh(request)
        )

    @post("/{code:str}/actions", guards=[authenticated], status_code=200, summary="Thực hiện một thao tác")
    async def act(
        self,
        request: Request,
        code: FromPath[str],
        data: JSONBody[ActionBody],
        documents: NamedDependency[DocumentService],
    ) -> Response[dict[str, Any]]:
        view = await documents.act(
            code,
            ActionRequest(data.action, tuple(data.reasons), data.new_due_at),
            request.scope["user"],
            client_ip(request),
        )
        return Response(view, background=BackgroundTask(documents.seal_after, code, data.action))

    @get("/{code:str}/documents", guards=[authenticated], summary="Giấy tờ của hồ sơ (Mẫu 01–05, kết quả)")
    async def documents(
        self, request: Request, code: FromPath[str], documents: NamedDependency[DocumentService]
    ) -> list[dict[str, Any]]:
        return await documents.list(code, request.scope["user"])

    @get("/{code:str}/documents/{kind:str}", guards=[authenticated], summary="Tải một giấy tờ (PDF)")
    async def document(
        self,
        request: Request,
        code: FromPath[str],
        kind: FromPath[str],
        documents: NamedDependency[DocumentService],
    ) -> Response[bytes]:
        return pdf_response(await documents.pdf(code, kind, request.scope["user"]), f"{code}-{kind}.pdf")

    @get("/{code:str}/notifications", guards=[authenticated], summary="Thông báo đã gửi cho người nộp hồ sơ")
    async def notifications(
        self, request: Request, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> list[dict[str, Any]]:
        return await dossiers.notifications(code, request.scope["user"])

    @post(
        "/{code:str}/supplement",
        guards=[authenticated],
        status_code=200,
        request_max_body_size=MAX_SUBMISSION_BYTES,
        summary="Bổ sung hồ sơ (multipart, tệp theo mã giấy tờ)",
    )
    async def supplement(
        self, request: Request, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> dict[str, Any]:
        _, files = await read_multipart(request)
        return await dossiers.supplement(code, files, request.scope["user"], client_ip(request))
