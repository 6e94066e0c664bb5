"""The province's quarterly report as a PDF (A4, Vietnamese): figures, rankings, the 766
groups and a chart. Pure rendering from the report's JSON; sealing happens in the service."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.documents.forms import FONT, _style, date_line, register_fonts
from app.domain.text import vn_number, vn_percent


#: The report's first table: a label, the count shown and the share shown (either may be absent).
SUMMARY_LINES = (
    ("Hồ sơ tiếp nhận", "received", None),
    ("  trong đó trực tuyến", "received_online", "online_pct"),
    ("Hồ sơ đã giải quyết", "resolved", None),
    ("  trước hạn", "early", "early_pct"),
    ("  đúng hạn", "on_time", "on_time_pct"),
    ("  trễ hạn", "late", "late_pct"),
    ("  trong đó từ chối giải quyết", "refused", None),
    ("Hồ sơ rút (dừng xử lý)", "withdrawn", None),
    ("Đang giải quyết trong hạn", "open_in_time", None),
    ("Đang giải quyết quá hạn", "open_overdue", None),
    ("Tỷ lệ xử lý trước hạn, đúng hạn (766, chỉ số 2.1)", None, "in_time_pct"),
    ("Thời gian giải quyết trung bình (ngày)", "average_days", None),
    ("Tỷ lệ hài lòng (phiếu đánh giá)", "rated", "satisfaction_pct"),
)


def _grid(size: float = 8.5) -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, size),
            ("FONT", (0, 0), (-1, 0), FONT + "-Bold", size),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ]
    )


def _bar_chart(rows: list[dict]) -> Drawing:
    rows = [r for r in rows if r["resolved"]]
    drawing = Drawing(170 * mm, 12 * mm + 9 * mm * max(len(rows), 1))
    chart = HorizontalBarChart()
    chart.x, chart.y = 45 * mm, 8 * mm
    chart.width, chart.height = 115 * mm, 9 * mm * max(len(rows), 1)
    chart.data = [
        [100 * r["early"] / r["resolved"] for r in rows],
        [100 * r["on_time"] / r["resolved"] for r in rows],
        [100 * r["late"] / r["resolved"] for r in rows],
    ]
    chart.categoryAxis.categoryNames = [r["name"] for r in rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
    chart.valueAxis.labels.fontName = FONT
    chart.categoryAxis.style = "stacked"
    for i, colour in enumerate(("#00703c", "#1d70b8", "#d4351c")):
        chart.bars[i].fillColor = colors.HexColor(colour)
    drawing.add(chart)
    return drawing


def render_report(report: dict, *, issuer: str, place: str, issued_at: datetime) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Báo cáo kết quả giải quyết thủ tục hành chính – {report['period_label']}",
        author=issuer,
        creator="Cổng Dịch vụ công (mô phỏng)",
        lang="vi",
    )
    width = A4[0] - 35 * mm
    header = Table(
        [
            [
                Paragraph(f"<b>{issuer.upper()}</b>", _style(10, align=TA_CENTER)),
                Paragraph(
                    "<b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br/><b>Độc lập - Tự do - Hạnh phúc</b>",
                    _style(10, align=TA_CENTER),
                ),
            ],
            ["", Paragraph(f"<i>{date_line(place, issued_at)}</i>", _style(10, align=TA_CENTER))],
        ],
        colWidths=[width * 0.42, width * 0.58],
    )
    total = report["summary"] or {}
    story = [
        header,
        Spacer(1, 6 * mm),
        Paragraph("<b>BÁO CÁO</b>", _style(14, align=TA_CENTER)),
        Paragraph(
            f"<b>Kết quả tiếp nhận, giải quyết thủ tục hành chính {report['period_label'].lower()}</b>",
            _style(12, align=TA_CENTER),
        ),
        Paragraph(
            "<i>(số liệu tính từ hồ sơ trên Cổng Dịch vụ công mô phỏng; tiêu chí theo"
            " Thông tư 01/2018/TT-VPCP và Quyết định 766/QĐ-TTg)</i>",
            _style(9, align=TA_CENTER),
        ),
        Spacer(1, 5 * mm),
        Paragraph("<b>1. Tình hình tiếp nhận, giải quyết</b>", _style(11)),
        Spacer(1, 2 * mm),
    ]
    figures = [["Chỉ tiêu", "Số lượng", "Tỷ lệ"]] + [
        [label, vn_number(total.get(count)) if count else "", vn_percent(total.get(share)) if share else ""]
        for label, count, share in SUMMARY_LINES
    ]
    story.append(Table(figures, colWidths=[width * 0.6, width * 0.2, width * 0.2], style=_grid(9)))
    story += [Spacer(1, 4 * mm), Paragraph("<b>2. Theo cấp</b>", _style(11)), Spacer(1, 2 * mm)]
    levels = [["Cấp", "Tiếp nhận", "Đã giải quyết", "Trước hạn", "Đúng hạn", "Trễ hạn", "Trực tuyến"]]
    for r in report["by_level"]:
        levels.append(
            [
                r["name"],
                vn_number(r["received"]),
                vn_number(r["resolved"]),
                vn_percent(r["early_pct"]),
                vn_percent(r["on_time_pct"]),
                vn_percent(r["late_pct"]),
                vn_percent(r["online_pct"]),
            ]
        )
    story.append(Table(levels, colWidths=[width * 0.22] + [width * 0.13] * 6, style=_grid()))
    if report["by_level"]:
        story += [Spacer(1, 3 * mm), _bar_chart(report["by_level"])]
    story += [
        Spacer(1, 4 * mm),
        Paragraph("<b>3. Xếp hạng cơ quan, đơn vị (Thông tư 01/2018, Điều 15)</b>", _style(11)),
        Spacer(1, 2 * mm),
    ]
    ranking = [["Hạng", "Cơ quan, đơn vị", "Hồ sơ", "Điểm", "Xếp loại"]]
    for a in report["ranking"][:30]:
        ranking.append(
            [
                str(a["rank"]),
                Paragraph(a["name"], _style(8.5)),
                vn_number(a["dossiers"]),
                f"{vn_number(a['score'])}/{a['max_score']}",
                a["classification"] or "—",
            ]
        )
    story.append(
        Table(
            ranking,
            colWidths=[width * 0.08, width * 0.52, width * 0.1, width * 0.12, width * 0.18],
            style=_grid(),
        )
    )
    story += [
        Spacer(1, 4 * mm),
        Paragraph("<b>4. Bộ chỉ số 766 (các chỉ số tính được từ dữ liệu của Cổng)</b>", _style(11)),
        Spacer(1, 2 * mm),
    ]
    groups = [["Nhóm", "Điểm tối đa", "Điểm có dữ liệu", "Đạt"]]
    for g in report["index_766"]["groups"]:
        groups.append(
            [
                f"{g['number']}. {g['name']}",
                str(g["max_points"]),
                vn_number(g["available_points"]),
                vn_number(g["points"]),
            ]
        )
    groups.append(
        [
            "Tổng",
            "100",
            vn_number(report["index_766"]["available_points"]),
            vn_number(report["index_766"]["points"]),
        ]
    )
    story.append(
        Table(groups, colWidths=[width * 0.55, width * 0.15, width * 0.15, width * 0.15], style=_grid())
    )
    story += [
        Spacer(1, 2 * mm),
        Paragraph(
            "Các chỉ số cần dữ liệu ngoài Cổng (công bố TTHC, đồng bộ Cổng DVCQG, tái sử dụng dữ liệu)"
            " được ghi là không có dữ liệu, không tự suy đoán.",
            _style(8.5, italic=True),
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
