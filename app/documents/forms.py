"""Forms 01–06 of Circular 01/2018/TT-VPCP and the (unsigned) result, as PDFs.

Layout after Decree 30/2020/NĐ-CP Phụ lục I: the issuing agency top left (parent in
capitals, the unit in bold capitals with a short rule under it), the national motto top
right (Quốc hiệu bold capitals, Tiêu ngữ bold with a rule as long as the text), the
place-and-date line in italics, the title in bold capitals, Times-like type (Liberation
Serif, metric-compatible with Times New Roman). Forms are A5, the register A4.
Field lists follow the reference §2.2 (reconstructed from implementations [U]).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.domain.clock import VN_TZ
from app.settings import STATIC_DIR

FONT = "LiberationSerif"

FORM_TITLES = {
    "receipt": ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
    "supplement_request": ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
    "refusal": ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
    "apology": ("04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
    "control_sheet": ("05", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
}


@functools.cache
def register_fonts() -> str:
    """Register Liberation Serif once per process (reportlab keeps it)."""
    fonts = STATIC_DIR / "fonts"
    for suffix, style in (
        ("", "Regular"),
        ("-Bold", "Bold"),
        ("-Italic", "Italic"),
        ("-BoldItalic", "BoldItalic"),
    ):
        pdfmetrics.registerFont(TTFont(FONT + suffix, str(fonts / f"LiberationSerif-{style}.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT + "-Bold", italic=FONT + "-Italic", boldItalic=FONT + "-BoldItalic"
    )
    return FONT


def _style(
    size: float = 12,
    *,
    bold: bool = False,
    italic: bool = False,
    align=TA_LEFT,
    leading: float | None = None,
    space_after: float = 0,
    first_indent: float = 0,
) -> ParagraphStyle:
    name = FONT + ("-BoldItalic" if bold and italic else "-Bold" if bold else "-Italic" if italic else "")
    return ParagraphStyle(
        name=f"s{size}{bold}{italic}{align}",
        fontName=name,
        fontSize=size,
        leading=leading or size * 1.25,
        alignment=align,
        spaceAfter=space_after,
        firstLineIndent=first_indent,
    )


class Rule(Flowable):
    """A centred solid line of the given width (under the motto and the unit name)."""

    def __init__(self, width: float, available: float) -> None:
        super().__init__()
        self.line_width, self.width, self.height = width, available, 2

    def draw(self) -> None:
        self.canv.setLineWidth(0.6)
        x = (self.width - self.line_width) / 2
        self.canv.line(x, 1, x + self.line_width, 1)


@dataclass(frozen=True)
class Agency:
    parent: str  # e.g. "ỦY BAN NHÂN DÂN HUYỆN TRẤN YÊN"
    name: str  # e.g. "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
    place: str  # place name for the date line, e.g. "Yên Bái"


@dataclass(frozen=True)
class Step:
    from_unit: str
    to_unit: str
    at: datetime
    due_at: datetime
    finished_at: datetime | None
    timeliness: str | None


@dataclass(frozen=True)
class FormData:
    agency: Agency
    code: str
    procedure: str
    applicant: str
    address: str = ""
    phone: str = ""
    email: str = ""
    issued_at: datetime | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    new_due_at: datetime | None = None
    time_limit: str = ""
    documents: tuple[tuple[str, int, int], ...] = ()  # (name, originals, copies)
    reasons: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    competent_unit: str = ""
    officer: str = ""
    watermark: str = ""


def date_line(place: str, when: datetime) -> str:
    d = when.astimezone(VN_TZ)
    return f"{place}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


def clock_text(when: datetime | None) -> str:
    if when is None:
        return "…"
    d = when.astimezone(VN_TZ)
    return f"{d.hour:02d} giờ {d.minute:02d} phút, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


TIMELINESS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn", None: ""}


def _header(data: FormData, width: float) -> list:
    left_w, right_w = width * 0.4, width * 0.6
    p = lambda text, **kw: Paragraph(escape(text), _style(**kw))  # noqa: E731
    motto1_text, motto2_text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
    # 12–13 pt on A4 (Decree 30/2020); scaled down until the Quốc hiệu fits one line (A5).
    size = 12.0
    while size > 7 and pdfmetrics.stringWidth(motto1_text, FONT + "-Bold", size) > right_w - 4:
        size -= 0.5
    parent = p(data.agency.parent.upper(), size=size, align=TA_CENTER)
    unit = p(data.agency.name.upper(), size=size, bold=True, align=TA_CENTER)
    motto1 = p(motto1_text, size=size, bold=True, align=TA_CENTER)
    motto2 = p(motto2_text, size=size + 1, bold=True, align=TA_CENTER)
    motto_width = pdfmetrics.stringWidth(motto2_text, FONT + "-Bold", size + 1)
    table = Table(
        [[parent, motto1], [unit, motto2], [Rule(left_w / 3, left_w), Rule(motto_width, right_w)]],
        colWidths=[left_w, right_w],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    when = data.issued_at or data.received_at
    return [
        table,
        Spacer(1, 3 * mm),
        Table(
            [
                [
                    "",
                    Paragraph(
                        escape(date_line(data.agency.place, when)) if when else "",
                        _style(11, italic=True, align=TA_CENTER),
                    ),
                ]
            ],
            colWidths=[left_w, right_w],
            style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)],
        ),
        Spacer(1, 4 * mm),
    ]


def _title(number: str, title: str, code: str) -> list:
    return [
        Paragraph(escape(title), _style(12.5, bold=True, align=TA_CENTER, space_after=2)),
        Paragraph(f"Mã hồ sơ: <b>{escape(code)}</b>", _style(11, align=TA_CENTER)),
        Paragraph(f"(Mẫu số {number}, Thông tư số 01/2018/TT-VPCP)", _style(9, italic=True, align=TA_CENTER)),
        Spacer(1, 4 * mm),
    ]


def _line(text: str, size: float = 11) -> Paragraph:
    return Paragraph(text, _style(size, align=TA_JUSTIFY, space_after=3))


def _signatures(left: str, right: str, width: float, names: tuple[str, str] = ("", "")) -> Table:
    cell = lambda title, name: [  # noqa: E731
        Paragraph(f"<b>{escape(title)}</b>", _style(10.5, align=TA_CENTER)),
        Paragraph("(Ký và ghi rõ họ tên)", _style(9, italic=True, align=TA_CENTER)),
        Spacer(1, 14 * mm),
        Paragraph(f"<b>{escape(name)}</b>", _style(10.5, align=TA_CENTER)),
    ]
    return Table(
        [[cell(left, names[0]), cell(right, names[1])]],
        colWidths=[width / 2, width / 2],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
    )


def _body(kind: str, data: FormData, width: float) -> list:
    b = []
    who = [
        _line(
            f"{'Kính gửi' if kind == 'apology' else 'Tiếp nhận hồ sơ của'}: <b>{escape(data.applicant)}</b>"
        )
    ]
    if data.address:
        who.append(_line(f"Địa chỉ: {escape(data.address)}"))
    who.append(_line(f"Số điện thoại: {escape(data.phone or '…')}    Email: {escape(data.email or '…')}"))
    unit_line = _line(f"Bộ phận tiếp nhận và trả kết quả: {escape(data.agency.name)}")
    request = _line(f"Nội dung yêu cầu giải quyết: {escape(data.procedure)}")
    if kind == "receipt":
        b += [unit_line, *who, request, _line("1. Thành phần hồ sơ nộp gồm:")]
        rows = [["TT", "Tên giấy tờ", "Bản chính", "Bản sao"]] + [
            [str(i), Paragraph(escape(n), _style(9.5)), str(o), str(c)]
            for i, (n, o, c) in enumerate(data.documents, 1)
        ]
        b.append(Table(rows, colWidths=[8 * mm, width - 46 * mm, 19 * mm, 19 * mm], style=_grid(9.5)))
        b += [
            Spacer(1, 2 * mm),
            _line("2. Số lượng hồ sơ: 01 (bộ)"),
            _line(f"3. Thời gian giải quyết hồ sơ theo quy định là: {escape(data.time_limit)}"),
            _line(f"4. Thời gian nhận hồ sơ: {clock_text(data.received_at)}"),
            _line(f"5. Thời gian trả kết quả giải quyết hồ sơ: {clock_text(data.due_at)}"),
            _line(
                "6. Đăng ký nhận kết quả tại: Bộ phận tiếp nhận và trả kết quả nơi nộp hồ sơ hoặc trực tuyến."
            ),
            Spacer(1, 2 * mm),
            _signatures("NGƯỜI NỘP HỒ SƠ", "NGƯỜI TIẾP NHẬN HỒ SƠ", width, (data.applicant, data.officer)),
        ]
    elif kind in ("supplement_request", "refusal"):
        b += [unit_line, *who, request]
        lead = (
            "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:"
            if kind == "supplement_request"
            else "Cơ quan, đơn vị không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:"
        )
        b.append(_line(lead))
        b += [_line(f"{i}. {escape(r)}") for i, r in enumerate(data.reasons, 1)]
        if kind == "supplement_request":
            b.append(
                _line(
                    "Hồ sơ chỉ yêu cầu bổ sung một lần. "
                    "Thời hạn giải quyết được tính lại từ khi hồ sơ đầy đủ."
                )
            )
        b += [
            Spacer(1, 3 * mm),
            _signatures(
                "",
                "NGƯỜI HƯỚNG DẪN" if kind == "supplement_request" else "NGƯỜI TIẾP NHẬN",
                width,
                ("", data.officer),
            ),
        ]
    elif kind == "apology":
        b += [
            *who,
            _line(
                f"Ngày {clock_text(data.received_at)}, {escape(data.agency.name)} "
                f"tiếp nhận hồ sơ đề nghị giải "
                f"quyết thủ tục {escape(data.procedure)} của ông/bà."
            ),
            _line(
                f"Mã hồ sơ: {escape(data.code)}. "
                f"Ngày hẹn trả kết quả giải quyết hồ sơ: {clock_text(data.due_at)}."
            ),
            _line(
                "Tuy nhiên đến nay, cơ quan giải quyết chưa trả kết quả giải quyết hồ sơ cho ông/bà đúng hẹn."
            ),
            _line("Lý do: " + escape("; ".join(data.reasons)) + "."),
            _line(
                "Sự chậm trễ này đã gây phiền hà cho ông/bà. "
                "Cơ quan giải quyết trân trọng xin lỗi và mong nhận "
                "được sự thông cảm của ông/bà."
            ),
            _line(f"Thời gian hẹn trả kết quả lại: {clock_text(data.new_due_at)}."),
            Spacer(1, 3 * mm),
            _signatures("", "THỦ TRƯỞNG CƠ QUAN", width, ("", data.officer)),
        ]
    elif kind == "control_sheet":
        b += [
            *who,
            _line(f"Thời gian nhận hồ sơ: {clock_text(data.received_at)}"),
            _line(f"Thời gian trả kết quả: {clock_text(data.due_at)}"),
            _line(f"Cơ quan (bộ phận) giải quyết hồ sơ: {escape(data.competent_unit)}"),
        ]
        rows = [
            [
                Paragraph(f"<b>{h}</b>", _style(8))
                for h in (
                    "TÊN CƠ QUAN",
                    "THỜI GIAN GIAO, NHẬN HỒ SƠ",
                    "KẾT QUẢ GIẢI QUYẾT HỒ SƠ (Trước hạn/đúng hạn/quá hạn)",
                    "GHI CHÚ",
                )
            ]
        ]
        for s in data.steps:
            rows.append(
                [
                    Paragraph(
                        f"1. Giao: {escape(s.from_unit)}<br/>2. Nhận: {escape(s.to_unit)}", _style(8.5)
                    ),
                    Paragraph(clock_text(s.at), _style(8.5)),
                    Paragraph(TIMELINESS.get(s.timeliness, "Đang xử lý") or "Đang xử lý", _style(8.5)),
                    Paragraph(f"Hạn: {clock_text(s.due_at)}", _style(8)),
                ]
            )
        b.append(
            Table(
                rows,
                colWidths=[width * 0.32, width * 0.26, width * 0.2, width * 0.22],
                style=_grid(8.5),
                repeatRows=1,
            )
        )
    return b


def _grid(size: float) -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, size),
            ("FONT", (0, 0), (-1, 0), FONT + "-Bold", size),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (2, 1), (-1, -1), "CENTER"),
        ]
    )


def _watermark(text: str):
    def draw(canvas, doc) -> None:
        if not text:
            return
        canvas.saveState()
        canvas.setFont(FONT + "-Bold", 9)
        canvas.setFillColor(colors.HexColor("#b71c1c"))
        canvas.drawRightString(doc.pagesize[0] - 10 * mm, doc.pagesize[1] - 8 * mm, text)
        canvas.restoreState()

    return draw


def render_form(kind: str, data: FormData) -> bytes:
    """One of Forms 01–05 as an A5 PDF."""
    register_fonts()
    number, title = FORM_TITLES[kind]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A5,
        leftMargin=20 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=12 * mm,
        title=f"Mẫu số {number} – {data.code}",
        author=data.agency.name,
        subject=title,
        creator="Cổng Dịch vụ công (mô phỏng)",
        lang="vi",
    )
    story = _header(data, doc.width) + _title(number, title, data.code) + _body(kind, data, doc.width)
    mark = _watermark(data.watermark)
    doc.build(story, onFirstPage=mark, onLaterPages=mark)
    return buffer.getvalue()


@dataclass(frozen=True)
class RegisterRow:
    number: int
    code: str
    applicant: str
    procedure: str
    received_at: datetime | None
    due_at: datetime | None
    finished_at: datetime | None
    timeliness: str | None
    status: str


def render_register(agency: Agency, year: int, rows: list[RegisterRow], issued_at: datetime) -> bytes:
    """Form 06, the register of one unit for one year: A4 landscape, continuous numbering."""
    register_fonts()
    buffer = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=20 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Sổ theo dõi hồ sơ năm {year} – {agency.name}",
        author=agency.name,
        creator="Cổng Dịch vụ công (mô phỏng)",
        lang="vi",
    )
    data = FormData(agency=agency, code="", procedure="", applicant="", issued_at=issued_at)
    short = lambda d: d.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if d else ""  # noqa: E731
    table = [
        [
            "Số TT",
            "Mã hồ sơ",
            "Người nộp",
            "Thủ tục",
            "Ngày nhận",
            "Hẹn trả",
            "Ngày xong",
            "Kết quả",
            "Trạng thái",
        ]
    ]
    for r in rows:
        table.append(
            [
                str(r.number),
                Paragraph(escape(r.code), _style(8)),
                Paragraph(escape(r.applicant), _style(8)),
                Paragraph(escape(r.procedure), _style(8)),
                short(r.received_at),
                short(r.due_at),
                short(r.finished_at),
                TIMELINESS.get(r.timeliness, ""),
                Paragraph(escape(r.status), _style(8)),
            ]
        )
    w = doc.width
    story = _header(data, w) + [
        Paragraph(f"SỔ THEO DÕI HỒ SƠ NĂM {year}", _style(13, bold=True, align=TA_CENTER)),
        Paragraph("(Mẫu số 06, Thông tư số 01/2018/TT-VPCP)", _style(9, italic=True, align=TA_CENTER)),
        Spacer(1, 4 * mm),
        Table(
            table,
            colWidths=[w * f for f in (0.05, 0.15, 0.13, 0.22, 0.09, 0.09, 0.09, 0.07, 0.11)],
            style=_grid(8),
            repeatRows=1,
        ),
        Spacer(1, 3 * mm),
        Paragraph(
            f"Sổ gồm {len(rows)} hồ sơ, đánh số liên tục từ 01 trong năm {year}.", _style(10, italic=True)
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class ResultData:
    agency: Agency
    code: str
    number: str  # "Số: 15/GKS-UBND"
    title: str
    fields: tuple[tuple[str, str], ...]
    signer_title: str
    signer_name: str
    issued_at: datetime
    recipients: tuple[str, ...]
    refused: bool = False
    reasons: tuple[str, ...] = ()
    #: Printed as a QR code: the public page that shows this document's metadata.
    verify_url: str = ""
    #: Marked on every page until the document carries its digital signatures.
    unsigned_mark: str = "BẢN CHƯA KÝ SỐ — chỉ có giá trị tham khảo"


@dataclass(frozen=True)
class ResultLayout:
    """Where the signatures go on page 1 (PDF points, origin bottom-left), Decree 30/2020 §5.3:
    the leader's blue signature centred between title and name; the red seal, at its actual
    size (36 mm), over the left third of that signature."""

    signature_box: tuple[float, float, float, float] = (372.0, 226.0, 492.0, 286.0)
    seal_box: tuple[float, float, float, float] = (361.0, 205.0, 463.0, 307.0)
    block_centre_x: float = 432.0
    title_y: float = 300.0
    name_y: float = 205.0


RESULT_LAYOUT = ResultLayout()


def render_result(data: ResultData) -> bytes:
    """The result document, A4, in the Decree 30/2020 layout, with its verification QR."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    register_fonts()
    layout = RESULT_LAYOUT
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=30 * mm,
        rightMargin=15 * mm,
        topMargin=20 * mm,
        bottomMargin=layout.title_y + 30,
        title=f"{data.title} – {data.code}",
        keywords=data.code,  # ASCII in the Info dictionary: the verifier finds the dossier by it
        author=data.agency.name,
        creator="Cổng Dịch vụ công (mô phỏng)",
        lang="vi",
    )
    form = FormData(agency=data.agency, code=data.code, procedure="", applicant="", issued_at=data.issued_at)
    header = _header(form, doc.width)
    number = Table(
        [[Paragraph(escape(data.number), _style(13, align=TA_CENTER)), ""]],
        colWidths=[doc.width * 0.4, doc.width * 0.6],
        style=[("LEFTPADDING", (0, 0), (-1, -1), 0)],
    )
    story = (
        header[:1]
        + [number]
        + header[1:]
        + [
            Paragraph(escape(data.title.upper()), _style(14, bold=True, align=TA_CENTER, space_after=2)),
            Paragraph(f"Mã hồ sơ: {escape(data.code)}", _style(11, italic=True, align=TA_CENTER)),
            Spacer(1, 5 * mm),
        ]
    )
    if data.refused:
        story += [_line("Sau khi thẩm định, cơ quan giải quyết từ chối giải quyết hồ sơ với lý do:", 13)]
        story += [_line(f"{i}. {escape(r)}", 13) for i, r in enumerate(data.reasons, 1)]
    else:
        story += [_line(f"{escape(k)}: <b>{escape(v)}</b>", 12.5) for k, v in data.fields]

    def first_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT + "-Bold", 13)
        lines = data.signer_title.upper().split("\n")
        for n, line in enumerate(lines):
            canvas.drawCentredString(
                layout.block_centre_x, layout.title_y + 6 - 16 * (n - len(lines) + 1), line
            )
        canvas.drawCentredString(layout.block_centre_x, layout.name_y - 18, data.signer_name)
        canvas.setFont(FONT + "-BoldItalic", 12)
        canvas.drawString(30 * mm, layout.title_y + 6, "Nơi nhận:")
        canvas.setFont(FONT, 11)
        for n, r in enumerate([*data.recipients, "Lưu: VT"]):
            canvas.drawString(30 * mm, layout.title_y - 10 - 14 * n, f"- {r}{'.' if r == 'Lưu: VT' else ';'}")
        if data.verify_url:
            qr = QrCodeWidget(data.verify_url)
            x0, y0, x1, y1 = qr.getBounds()
            size = 64
            drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
            drawing.add(qr)
            renderPDF.draw(drawing, canvas, 30 * mm, 20 * mm)
            canvas.setFont(FONT + "-Italic", 8.5)
            canvas.drawString(30 * mm + size + 6, 20 * mm + 38, "Kiểm tra tính xác thực của văn bản:")
            canvas.drawString(30 * mm + size + 6, 20 * mm + 26, data.verify_url)
        canvas.restoreState()
        if data.unsigned_mark:
            _watermark(data.unsigned_mark)(canvas, doc)

    doc.build(story, onFirstPage=first_page, onLaterPages=_watermark(data.unsigned_mark))
    return buffer.getvalue()


def render_artwork(kind: str, text: str) -> bytes:
    """The image drawn in a visible signature: a blue handwritten-like signature, or the
    agency's red round seal with its name (a vector PDF page; transparent background)."""
    from reportlab.pdfgen import canvas as pdf_canvas

    register_fonts()
    buffer = io.BytesIO()
    if kind == "seal":
        size = 36 * mm
        c = pdf_canvas.Canvas(buffer, pagesize=(size, size))
        red = colors.HexColor("#d4161c")
        c.setStrokeColor(red)
        c.setFillColor(red)
        c.setLineWidth(1.6)
        c.circle(size / 2, size / 2, size / 2 - 1.5)
        c.setLineWidth(0.8)
        c.circle(size / 2, size / 2, size / 2 - 6)
        c.setFont(FONT + "-Bold", 7)
        words, lines, line = text.upper().split(), [], ""
        for w in words:
            if len(line) + len(w) > 16:
                lines.append(line)
                line = w
            else:
                line = f"{line} {w}".strip()
        lines.append(line)
        start = size / 2 + 4.5 * (len(lines) - 1)
        for n, text_line in enumerate(lines[:5]):
            c.drawCentredString(size / 2, start - 9 * n, text_line)
        c.setFont(FONT, 5)
        c.drawCentredString(size / 2, 9, "MÔ PHỎNG")
    else:
        c = pdf_canvas.Canvas(buffer, pagesize=(120, 60))
        c.setStrokeColor(colors.HexColor("#1f3fbf"))
        c.setLineWidth(1.8)
        c.bezier(8, 18, 30, 58, 48, -6, 66, 30)
        c.bezier(66, 30, 80, 52, 92, 8, 112, 34)
        c.setFillColor(colors.HexColor("#1f3fbf"))
        c.setFont(FONT + "-Italic", 8)
        c.drawCentredString(60, 4, text)
    c.showPage()
    c.save()
    return buffer.getvalue()
