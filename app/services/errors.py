"""Errors a use case raises; app/web turns them into problem details or page messages.

``detail`` is Vietnamese and meant for the person in front of the screen;
``errors`` maps form fields to Vietnamese messages shown next to the fields.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    title = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class Invalid(ServiceError):
    status = 422
    title = "Dữ liệu không hợp lệ"


class NotFound(ServiceError):
    status = 404
    title = "Không tìm thấy"


class Forbidden(ServiceError):
    status = 403
    title = "Không có quyền"


class Conflict(ServiceError):
    status = 409
    title = "Xung đột trạng thái"


class Unauthorized(ServiceError):
    status = 401
    title = "Chưa đăng nhập"


class Unavailable(ServiceError):
    status = 503
    title = "Dịch vụ tạm thời không sẵn sàng"
