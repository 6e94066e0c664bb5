"""The PKI's public services (DESIGN.md, "Public contract"): certificates, CRLs, OCSP, TSA."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app.services.pki import PkiService

MAX_PROTOCOL_REQUEST = 64 * 1024


class PkiController(Controller):
    path = "/pki"
    tags = ["PKI (mô phỏng)"]

    @get("/", summary="Các tổ chức chứng thực mô phỏng")
    async def list_authorities(self, pki: NamedDependency[PkiService]) -> list[dict[str, Any]]:
        return await pki.authorities()

    @get("/{filename:str}", summary="Chứng thư (.crt, DER) hoặc danh sách thu hồi (.crl, DER)")
    async def file(self, filename: FromPath[str], pki: NamedDependency[PkiService]) -> Response[bytes]:
        name, _, suffix = filename.rpartition(".")
        try:
            if suffix == "crt" and name in ("root", "intermediate", "ocsp", "tsa"):
                return Response(await pki.certificate(name), media_type="application/pkix-cert")
            if suffix == "crl":
                return Response(
                    await pki.crl(name),
                    media_type="application/pkix-crl",
                    headers={"Cache-Control": "max-age=300"},
                )
        except LookupError:
            pass
        raise NotFoundException(f"Không có tệp {filename} trong hạ tầng khóa công khai mô phỏng.")

    @post(
        "/ocsp",
        status_code=200,
        request_max_body_size=MAX_PROTOCOL_REQUEST,
        summary="OCSP (RFC 6960): good / revoked / unknown",
    )
    async def ocsp(self, request: Request, pki: NamedDependency[PkiService]) -> Response[bytes]:
        return Response(await pki.ocsp(await request.body()), media_type="application/ocsp-response")

    @post(
        "/tsa",
        status_code=200,
        request_max_body_size=MAX_PROTOCOL_REQUEST,
        summary="Dấu thời gian (RFC 3161)",
    )
    async def tsa(self, request: Request, pki: NamedDependency[PkiService]) -> Response[bytes]:
        return Response(await pki.timestamp(await request.body()), media_type="application/timestamp-reply")
