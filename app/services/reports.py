"""The quarterly report of the province (JSON and a PDF sealed by the provincial office) and
the tables the dashboards offer for download (CSV, XLSX)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import xlsxwriter

from app.documents.reports import render_report
from app.domain.clock import Clock
from app.domain.periods import Period
from app.services.signing import SigningService
from app.services.stats import Scope, StatsService

#: The unit whose seal certifies the province's reports, and the fallback.
REPORTING_UNIT_KEYS = ("van-phong", "ubnd-tinh")

SUMMARY_COLUMNS = (
    ("name", "Đơn vị / nhóm"),
    ("received", "Tiếp nhận"),
    ("received_online", "Trực tuyến"),
    ("online_pct", "Tỷ lệ trực tuyến (%)"),
    ("resolved", "Đã giải quyết"),
    ("early", "Trước hạn"),
    ("early_pct", "Trước hạn (%)"),
    ("on_time", "Đúng hạn"),
    ("on_time_pct", "Đúng hạn (%)"),
    ("late", "Trễ hạn"),
    ("late_pct", "Trễ hạn (%)"),
    ("refused", "Từ chối"),
    ("withdrawn", "Rút hồ sơ"),
    ("open_in_time", "Đang xử lý trong hạn"),
    ("open_overdue", "Đang xử lý quá hạn"),
    ("in_time_pct", "Đúng hạn theo 766 (%)"),
    ("average_days", "Thời gian TB (ngày)"),
    ("rated", "Phiếu đánh giá"),
    ("satisfaction_pct", "Hài lòng (%)"),
)

RANKING_COLUMNS = (
    ("rank", "Hạng"),
    ("name", "Cơ quan, đơn vị"),
    ("dossiers", "Hồ sơ"),
    *((f"i{i}", f"Chỉ số {i}") for i in range(1, 10)),
    ("score", "Điểm"),
    ("max_score", "Điểm tối đa có dữ liệu"),
    ("classification", "Xếp loại"),
)


def ranking_rows(agencies: list[dict]) -> list[dict]:
    return [
        {**a, **{f"i{i}": a["indices"].get(i, a["indices"].get(str(i))) for i in range(1, 10)}}
        for a in agencies
    ]


def to_csv(columns, rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows the diacritics."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in columns])
    for r in rows:
        writer.writerow(["" if r.get(k) is None else r.get(k) for k, _ in columns])
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(sheets: list[tuple[str, Any, list[dict]]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    for name, columns, rows in sheets:
        sheet = book.add_worksheet(name[:31])
        for c, (_, title) in enumerate(columns):
            sheet.write(0, c, title, bold)
            sheet.set_column(c, c, 40 if c == 0 or title.startswith("Cơ quan") else 14)
        for r, row in enumerate(rows, 1):
            for c, (key, _) in enumerate(columns):
                value = row.get(key)
                if value is not None:
                    sheet.write(r, c, value)
        sheet.freeze_panes(1, 1)
    book.close()
    return buffer.getvalue()


@dataclass
class ReportService:
    stats: StatsService
    signing: SigningService

    @classmethod
    async def for_settings(cls, clock: Clock, settings) -> ReportService:
        """The service as the CLI uses it: the configured province, catalogue and PKI."""
        from app.services.catalogue import CatalogueService
        from app.services.directory import load_directory
        from app.services.pki import PkiService
        from procedures.loader import default_catalogue

        directory = await load_directory()
        stats = StatsService(clock, directory, CatalogueService(default_catalogue(), directory))
        signing = SigningService(PkiService.for_settings(clock, settings), settings.uploads_dir / "artwork")
        return cls(stats, signing)

    async def build(self, period: Period) -> dict[str, Any]:
        stats = self.stats
        total = await stats.total(period)
        evaluation = await stats.evaluation(period)
        return {
            "title": f"Báo cáo kết quả giải quyết thủ tục hành chính {period.label.lower()}",
            "province": stats.directory.place,
            "period": period.key,
            "period_label": period.label,
            "generated_at": stats.clock.now().isoformat(timespec="seconds"),
            "summary": total,
            "by_level": await stats.summary(period, Scope(), "level"),
            "by_unit": await stats.summary(period, Scope(), "unit"),
            "trend": await stats.trend(period),
            "ranking": evaluation["agencies"],
            "officers": evaluation["officers"],
            "index_766": await stats.index_766(period),
        }

    def reporting_unit(self):
        directory = self.stats.directory
        for key in REPORTING_UNIT_KEYS:
            if (unit := directory.by_key.get(key)) is not None:
                return unit
        return next(u for u in directory.units if u.parent_code is None)

    async def pdf(self, period: Period) -> tuple[bytes, dict[str, Any]]:
        """The report rendered and sealed (PAdES, invisible) with the provincial office's
        seal certificate; returns the PDF and the JSON it was made from."""
        report = await self.build(period)
        unit = self.reporting_unit()
        now = self.stats.clock.now()
        place = self.stats.directory.place or ""
        pdf = render_report(report, issuer=unit.name, place=place, issued_at=now)
        seal = await self.signing.seal(unit)
        signed = await self.signing.seal_form(pdf, issued=seal, place=place, at=now, reason="Ký số báo cáo")
        return signed, {**report, "sealed_by": unit.name}
