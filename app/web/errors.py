"""Every error answers in Vietnamese: RFC 9457 problem details for the API, a page otherwise."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_500_INTERNAL_SERVER_ERROR

from app.services.errors import ServiceError

log = logging.getLogger("portal")

TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Chưa đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột trạng thái",
    413: "Dữ liệu quá lớn",
    415: "Định dạng không được hỗ trợ",
    422: "Dữ liệu không hợp lệ",
    429: "Quá nhiều yêu cầu",
    500: "Lỗi hệ thống",
    503: "Dịch vụ tạm thời không sẵn sàng",
}
DETAILS = {
    400: "Yêu cầu không hợp lệ.",
    401: "Vui lòng đăng nhập để tiếp tục.",
    403: "Bạn không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy trang hoặc tài nguyên được yêu cầu.",
    405: "Phương thức HTTP này không được hỗ trợ tại địa chỉ này.",
    413: "Dữ liệu gửi lên vượt quá dung lượng cho phép.",
    415: "Định dạng dữ liệu gửi lên không được hỗ trợ.",
    429: "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.",
    500: "Hệ thống đang gặp sự cố. Vui lòng thử lại sau.",
}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/pki/", "/health", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _is_english(detail: Any) -> bool:
    """Litestar's own messages are English; ours always carry Vietnamese letters."""
    text = str(detail or "")
    return not text or all(ord(c) < 128 for c in text)


def problem(
    request: Request,
    status: int,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_json(request):
        return ProblemDetailsException(
            status_code=status,
            title=TITLES.get(status, TITLES[400]),
            detail=detail,
            extra=extra or None,
            headers=headers,
            type_="about:blank",
        ).to_response(request)
    if status == HTTP_401_UNAUTHORIZED and request.method == "GET":
        return Redirect(f"/dang-nhap?next={quote(request.url.path)}")
    return Template(
        "errors/error.html",
        context={
            "user": request.scope.get("user"),
            "path": request.url.path,
            "status": status,
            "title": TITLES.get(status, TITLES[400]),
            "detail": detail,
            "errors": (extra or {}).get("errors"),
        },
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def service_error_handler(request: Request, exc: ServiceError) -> Response:
    extra = {"errors": exc.errors} if exc.errors else None
    return problem(request, exc.status, exc.detail, extra)


def validation_error_handler(request: Request, exc: ValidationException) -> Response:
    fields: dict[str, str] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            fields[key] = f"Giá trị không hợp lệ hoặc thiếu ({item.get('message', '')})."
    detail = "Dữ liệu gửi lên không hợp lệ: sai kiểu, thiếu trường bắt buộc hoặc không đọc được."
    return problem(request, 400, detail, {"errors": fields} if fields else None)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500:
        log.error("error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = DETAILS.get(status, DETAILS[400]) if _is_english(exc.detail) else str(exc.detail)
    headers = dict(exc.headers or {})
    return problem(request, status, detail, headers=headers or None)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, HTTP_500_INTERNAL_SERVER_ERROR, DETAILS[500])


EXCEPTION_HANDLERS = {
    ServiceError: service_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
