"""What the citizen is told when their dossier moves (Vietnamese, plain text). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.clock import format_vn_datetime


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    #: The SMS text: one line, with diacritics (sent as UCS-2, a few segments).
    sms: str


def message_for(
    action: str,
    *,
    code: str,
    procedure: str,
    name: str,
    due_at: datetime | None,
    reasons: tuple[str, ...] = (),
    portal: str = "",
) -> Message | None:
    appointment = format_vn_datetime(due_at) if due_at else ""
    greet = f"Kính gửi ông/bà {name},\n\n" if name else ""
    sign = f"\n\nTra cứu hồ sơ: {portal}/tra-cuu?ma={code}\nCổng Dịch vụ công (hệ thống mô phỏng)"
    lines = "\n".join(f"- {r}" for r in reasons)
    texts = {
        "submit": (
            "Đã nhận hồ sơ trực tuyến",
            f"Hồ sơ {code} ({procedure}) đã được gửi đến Bộ phận Một cửa và đang chờ kiểm tra, tiếp nhận.",
            f"Hồ sơ {code} đã được gửi, đang chờ tiếp nhận.",
        ),
        "receive": (
            "Hồ sơ đã được tiếp nhận",
            f"Hồ sơ {code} ({procedure}) đã được tiếp nhận. Ngày hẹn trả kết quả: {appointment}.",
            f"Hồ sơ {code} đã được tiếp nhận. Hẹn trả: {appointment}.",
        ),
        "request_supplement": (
            "Yêu cầu bổ sung hồ sơ",
            f"Hồ sơ {code} cần bổ sung, hoàn thiện các nội dung sau:\n{lines}\n"
            "Thời hạn giải quyết được tính lại từ khi hồ sơ bổ sung đầy đủ.",
            f"Hồ sơ {code} cần bổ sung. Xem chi tiết trên Cổng Dịch vụ công.",
        ),
        "reject": (
            "Hồ sơ không được tiếp nhận",
            f"Hồ sơ {code} ({procedure}) không được tiếp nhận vì:\n{lines}",
            f"Hồ sơ {code} không được tiếp nhận. Xem lý do trên Cổng Dịch vụ công.",
        ),
        "refuse": (
            "Hồ sơ bị từ chối giải quyết",
            f"Hồ sơ {code} ({procedure}) bị từ chối giải quyết vì:\n{lines}",
            f"Hồ sơ {code} bị từ chối giải quyết. Xem lý do trên Cổng Dịch vụ công.",
        ),
        "approve": (
            "Đã có kết quả giải quyết",
            f"Hồ sơ {code} ({procedure}) đã được giải quyết xong; "
            "kết quả sẽ được trả theo hình thức đã đăng ký.",
            f"Hồ sơ {code} đã có kết quả.",
        ),
        "apologize": (
            "Thư xin lỗi và hẹn lại ngày trả kết quả",
            f"Cơ quan giải quyết trân trọng xin lỗi vì hồ sơ {code} chưa có kết quả đúng hẹn.\n"
            f"Lý do:\n{lines}\nNgày hẹn trả kết quả mới: {appointment}.",
            f"Xin lỗi: hồ sơ {code} hẹn trả lại {appointment}.",
        ),
        "return_result": (
            "Đã trả kết quả",
            f"Kết quả giải quyết hồ sơ {code} ({procedure}) đã được trả. "
            "Mời ông/bà đánh giá mức độ hài lòng.",
            f"Hồ sơ {code} đã trả kết quả. Mời đánh giá mức độ hài lòng.",
        ),
        "request_payment": (
            "Yêu cầu nộp phí, lệ phí",
            f"Hồ sơ {code} cần nộp phí, lệ phí để tiếp tục giải quyết. Ông/bà có thể thanh toán trực tuyến.",
            f"Hồ sơ {code} cần nộp phí, lệ phí.",
        ),
        "pay": (
            "Đã thanh toán phí, lệ phí",
            f"Đã ghi nhận thanh toán phí, lệ phí cho hồ sơ {code}.",
            f"Đã thanh toán phí, lệ phí hồ sơ {code}.",
        ),
        "withdraw": (
            "Đã nhận yêu cầu rút hồ sơ",
            f"Yêu cầu rút hồ sơ {code} đã được ghi nhận.",
            f"Đã nhận yêu cầu rút hồ sơ {code}.",
        ),
        "stop": (
            "Hồ sơ đã dừng xử lý",
            f"Hồ sơ {code} đã dừng xử lý theo yêu cầu rút hồ sơ của ông/bà.",
            f"Hồ sơ {code} đã dừng xử lý.",
        ),
    }
    if action not in texts:
        return None
    subject, body, sms = texts[action]
    return Message(f"[{code}] {subject}", greet + body + sign, sms)
