"""Jinja filters: Vietnamese dates, money and labels."""

from __future__ import annotations

from datetime import datetime

from app.domain.clock import format_vn_date, format_vn_datetime
from app.domain.roles import Role
from app.domain.text import answer, format_vnd, vn_number, vn_percent
from app.services.catalogue import LEVEL_LABELS, ONLINE_LABELS

ROLE_STEP_LABELS = {
    "reception": "Bộ phận Một cửa",
    "specialist": "Chuyên viên",
    "leader": "Lãnh đạo",
    "clerk": "Văn thư",
}
HANDOFF_LABELS = {
    "internal": "Trong đơn vị",
    "inter_agency": "Liên thông cùng cấp",
    "inter_level": "Liên thông giữa các cấp",
}
UNIT_LABELS = {
    "receiving": "Bộ phận Một cửa tiếp nhận",
    "center": "Trung tâm Phục vụ hành chính công",
    "province": "UBND tỉnh",
    "district": "UBND cấp huyện",
    "commune": "UBND cấp xã",
}


def unit_selector_label(selector: str, directory=None) -> str:
    kind, _, key = selector.partition(":")
    if not key:
        return UNIT_LABELS.get(kind, selector)
    if kind == "department" and directory is not None:
        unit = directory.by_key.get(key)
        if unit:
            return unit.name
    if kind == "district":
        return f"Phòng chuyên môn cấp huyện ({key})"
    if kind == "commune" and key == "cong-an":
        return "Công an cấp xã"
    return selector


def hours_text(hours: float) -> str:
    if hours >= 8 and hours % 8 == 0:
        return f"{int(hours // 8)} ngày làm việc"
    return f"{hours:g} giờ làm việc"


def vn_iso(value: str | datetime | None) -> str:
    """An ISO 8601 instant (as the API gives it) shown as dd/mm/yyyy HH:MM (+07:00)."""
    if not value:
        return ""
    return format_vn_datetime(datetime.fromisoformat(value) if isinstance(value, str) else value)


FILTERS = {
    "vnd": format_vnd,
    "vn_date": lambda d: format_vn_date(d) if isinstance(d, datetime) else "",
    "vn_datetime": lambda d: format_vn_datetime(d) if isinstance(d, datetime) else "",
    "level_label": lambda v: LEVEL_LABELS.get(v, v),
    "online_label": lambda v: ONLINE_LABELS.get(v, v),
    "role_label": lambda v: Role(v).label if v in Role._value2member_map_ else v,
    "step_role_label": lambda v: ROLE_STEP_LABELS.get(v, v),
    "handoff_label": lambda v: HANDOFF_LABELS.get(v, v),
    "hours_text": hours_text,
    "vn_iso": vn_iso,
    "answer": answer,
    "num": vn_number,
    "pct": vn_percent,
}
