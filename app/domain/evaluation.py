"""The scoring rules of Circular 01/2018 (Art. 13–15) and Decision 766/QĐ-TTg, as data and
pure functions. The per-dossier indices are computed in SQL (app/services/stats.py) with
the same rules; this module classifies and scores the aggregates.

Reference: ../shared/reference/vn-admin-procedures.md §1.6.3 and §4.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


def one_decimal(value: float | None) -> float | None:
    """Art. 15: averages rounded to one decimal place (half away from zero)."""
    if value is None:
        return None
    value = float(value)  # PostgreSQL's AVG is a Decimal
    return float(int(abs(value) * 10 + 0.5)) / 10 * (1 if value >= 0 else -1)


# --- Circular 01/2018 -----------------------------------------------------------------------

#: Indices scored per dossier and summed for an officer (max 10).
OFFICER_INDICES = (1, 2, 3, 4, 7)
#: Indices scored per unit (index 6, publication, needs the posted board: no data here).
UNIT_INDICES = (5, 6, 8, 9)

INDEX_NAMES = {
    1: "Tổng thời gian giải quyết so với quy định",
    2: "Thời gian thực hiện của từng cơ quan so với quy định",
    3: "Số lần liên hệ với nơi tiếp nhận để hoàn thiện hồ sơ",
    4: "Số cơ quan phải liên hệ để hoàn thiện hồ sơ",
    5: "Giải quyết tại chỗ tại Bộ phận Một cửa",
    6: "Công khai thủ tục hành chính",
    7: "Thái độ của cán bộ",
    8: "Xử lý phản ánh, kiến nghị",
    9: "Cung cấp dịch vụ công trực tuyến",
}


class OfficerClass(enum.IntEnum):
    BELOW_70 = 0
    FROM_70 = 1
    FULL = 2

    @property
    def label(self) -> str:
        return {
            OfficerClass.FULL: "Hoàn thành 100% nhiệm vụ",
            OfficerClass.FROM_70: "Hoàn thành từ 70% đến dưới 100%",
            OfficerClass.BELOW_70: "Hoàn thành dưới 70%",
        }[self]


def classify_officer(score: float) -> OfficerClass:
    if score >= 5:
        return OfficerClass.FULL
    if score >= 3.5:
        return OfficerClass.FROM_70
    return OfficerClass.BELOW_70


class AgencyClass(enum.IntEnum):
    WEAK = 0
    AVERAGE = 1
    FAIR = 2
    GOOD = 3
    EXCELLENT = 4

    @property
    def label(self) -> str:
        return ("Yếu", "Trung bình", "Khá", "Tốt", "Xuất sắc")[self]


def classify_agency(score: float) -> AgencyClass:
    for threshold, klass in (
        (15, AgencyClass.EXCELLENT),
        (12, AgencyClass.GOOD),
        (9, AgencyClass.FAIR),
        (6, AgencyClass.AVERAGE),
    ):
        if score >= threshold:
            return klass
    return AgencyClass.WEAK


#: Index 5: share resolved inside the unit that earns 2 points, by level (Art. 13.5).
IN_UNIT_SHARE = {"province": 0.20, "department": 0.20, "district": 0.50, "commune": 1.00}


def index5(in_unit: int, total: int, level: str) -> int | None:
    """Every procedure in the portal is received and returned at the one-stop unit, so
    the floor is 1 point [U]; 2 when enough is also appraised and approved there."""
    if total == 0:
        return None
    return 2 if in_unit / total >= IN_UNIT_SHARE.get(level, 1.0) - 1e-9 else 1


def index8(filed: int, on_time: int, protracted: int) -> int:
    if filed == 0 or (on_time == filed and protracted == 0):
        return 2
    if on_time / filed >= 0.9 and protracted == 0:
        return 1
    return 0


def index9(
    online_procedures: int, procedures: int, online: int, dossiers: int, late_online: int
) -> int | None:
    if procedures == 0 or dossiers == 0:
        return None
    offered = online_procedures / procedures
    share = online / dossiers
    if offered >= 0.20 and share >= 0.30 and late_online == 0:
        return 2
    if online_procedures > 0 and share >= 0.15 and late_online == 0:
        return 1
    return 0


# --- Decision 766 ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One indicator: its share of the group's points and the rate that earns them all."""

    code: str
    name: str
    points: float
    #: The rate at which full points are earned (below it: rate × points / full_at).
    full_at: float = 1.0
    formula: str = ""
    #: Monitoring only (no points), e.g. the average resolution time.
    monitoring: bool = False


@dataclass(frozen=True)
class Group:
    number: int
    name: str
    points: int
    indicators: tuple[Indicator, ...]


#: Point allocations inside the groups are unconfirmed [U] except where the reference
#: gives them (1.2: 4 of 18; 2.1: up to 20; 5.3: 6 of 18). See the README.
GROUPS_766 = (
    Group(
        1,
        "Công khai, minh bạch",
        18,
        (
            Indicator(
                "1.1", "Tỷ lệ TTHC công bố đúng hạn", 6, formula="TTHC công bố đúng hạn / TTHC công bố"
            ),
            Indicator(
                "1.2",
                "Tỷ lệ TTHC được cập nhật, công khai đúng hạn",
                4,
                formula="TTHC công khai đúng hạn / TTHC",
            ),
            Indicator(
                "1.3",
                "Tỷ lệ TTHC công khai đầy đủ các bộ phận tạo thành",
                4,
                formula="TTHC có đủ tên, trình tự, cách thức, thành phần, thời hạn, đối tượng,"
                " cơ quan / TTHC",
            ),
            Indicator(
                "1.4", "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", 4, formula="Hồ sơ đồng bộ / tổng số hồ sơ"
            ),
        ),
    ),
    Group(
        2,
        "Tiến độ, kết quả giải quyết",
        20,
        (
            Indicator(
                "2.1",
                "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
                20,
                formula="(hồ sơ đã xử lý trước hạn, đúng hạn + đang xử lý trong hạn)"
                " / hồ sơ đã và đang xử lý; bổ sung quá 1 lần hoặc đã xin lỗi tính là trễ hạn",
            ),
            Indicator(
                "2.2",
                "Thời gian giải quyết trung bình (ngày)",
                0,
                formula="tổng thời gian giải quyết / số hồ sơ đã giải quyết",
                monitoring=True,
            ),
        ),
    ),
    Group(
        3,
        "Cung cấp dịch vụ trực tuyến",
        22,
        (
            Indicator(
                "3.1", "Tỷ lệ TTHC cung cấp DVCTT", 4, 0.8, "TTHC có DVCTT một phần hoặc toàn trình / TTHC"
            ),
            Indicator(
                "3.2", "Tỷ lệ DVCTT có phát sinh hồ sơ", 4, formula="DVCTT có hồ sơ trực tuyến / DVCTT"
            ),
            Indicator("3.3", "Tỷ lệ hồ sơ trực tuyến", 6, 0.5, "hồ sơ nộp trực tuyến / tổng số hồ sơ"),
            Indicator(
                "3.5",
                "Tỷ lệ TTHC có nghĩa vụ tài chính được tích hợp thanh toán trực tuyến",
                4,
                0.8,
                "TTHC có phí, lệ phí thanh toán trực tuyến được / TTHC có phí, lệ phí",
            ),
            Indicator(
                "3.6",
                "Tỷ lệ hồ sơ thanh toán trực tuyến",
                4,
                formula="hồ sơ đã thanh toán trực tuyến / hồ sơ phải nộp phí, lệ phí",
            ),
        ),
    ),
    Group(
        4,
        "Số hóa hồ sơ",
        22,
        (
            Indicator(
                "4.1",
                "Tỷ lệ hồ sơ có kết quả giải quyết điện tử",
                6,
                formula="hồ sơ có kết quả điện tử (ký số) / hồ sơ giải quyết có kết quả",
            ),
            Indicator(
                "4.2",
                "Tỷ lệ hồ sơ thực hiện số hóa",
                6,
                0.8,
                "hồ sơ có thành phần số hóa và kết quả điện tử / hồ sơ giải quyết",
            ),
            Indicator(
                "4.3",
                "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa",
                5,
                0.8,
                "hồ sơ dùng lại ít nhất một thành phần đã số hóa / tổng số hồ sơ",
            ),
            Indicator(
                "4.4",
                "Tỷ lệ hồ sơ số hóa đồng bộ kho dữ liệu cá nhân trên Cổng DVCQG",
                5,
                formula="hồ sơ số hóa đồng bộ / hồ sơ số hóa",
            ),
        ),
    ),
    Group(
        5,
        "Mức độ hài lòng",
        18,
        (
            Indicator(
                "5.1",
                "Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn",
                6,
                formula="PAKN xử lý trước hạn, đúng hạn / PAKN thuộc thẩm quyền",
            ),
            Indicator(
                "5.2",
                "Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị",
                6,
                formula="(PAKN − PAKN không hài lòng, lặp lại hoặc trễ hạn) / PAKN",
            ),
            Indicator(
                "5.3",
                "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
                6,
                0.9,
                "100% − (tỷ lệ hồ sơ trễ hạn + tỷ lệ hồ sơ bị phản ánh hoặc đánh giá không hài lòng)",
            ),
        ),
    ),
)


def indicator_points(indicator: Indicator, rate: float | None) -> float | None:
    """Points earned at ``rate`` (0..1): full from ``full_at``, proportional below."""
    if rate is None or indicator.monitoring:
        return None
    return round(indicator.points * min(1.0, max(rate, 0.0) / indicator.full_at), 2)


# --- ratings ----------------------------------------------------------------------------------

RATING_LEVELS = {4: "Rất hài lòng", 3: "Hài lòng", 2: "Bình thường", 1: "Không hài lòng"}
#: Ratings that count as satisfied in the satisfaction rate [U].
SATISFIED_FROM = 3
