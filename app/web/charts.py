"""Charts drawn as inline SVG on the server: no script, no CDN, readable without colour
(each bar carries its numbers in a <title>, and every chart sits beside its table)."""

from __future__ import annotations

from html import escape

EARLY, ON_TIME, LATE = "#00703c", "#1d70b8", "#d4351c"


def stacked_bars(rows: list[dict], *, label: str = "name", limit: int = 15, title: str = "") -> str:
    """One horizontal bar per row: resolved early / on time / late, as shares of 100 %."""
    rows = [r for r in rows if r.get("resolved")][:limit]
    if not rows:
        return ""
    bar_h, gap, left, width = 18, 8, 260, 420
    height = len(rows) * (bar_h + gap) + 40
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {left + width + 60} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title or "Tỷ lệ hồ sơ trước hạn, đúng hạn, trễ hạn")}</title>',
    ]
    for i, r in enumerate(rows):
        y = 10 + i * (bar_h + gap)
        name = str(r[label])
        short = name if len(name) <= 38 else name[:37] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h - 5}" text-anchor="end" font-size="11">'
            f"{escape(short)}</text>"
        )
        x = float(left)
        for key, colour, text in (
            ("early", EARLY, "trước hạn"),
            ("on_time", ON_TIME, "đúng hạn"),
            ("late", LATE, "trễ hạn"),
        ):
            share = r[key] / r["resolved"]
            w = width * share
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                    f"<title>{escape(name)}: {r[key]} hồ sơ {text} ({100 * share:.2f}%)</title></rect>"
                )
            x += w
        parts.append(
            f'<text x="{left + width + 4}" y="{y + bar_h - 5}" font-size="11">{r["resolved"]}</text>'
        )
    y = height - 14
    for i, (colour, text) in enumerate(((EARLY, "Trước hạn"), (ON_TIME, "Đúng hạn"), (LATE, "Trễ hạn"))):
        x = left + i * 110
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_lines(points: list[dict], *, title: str = "") -> str:
    """Month by month: dossiers received (bars) and the in-time rate (line, 0–100 %)."""
    if not points:
        return ""
    left, top, width, height = 50, 20, 560, 180
    n = len(points)
    step = width / max(n, 1)
    most = max((p["received"] for p in points), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {left + width + 50} {top + height + 50}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="trend-title">',
        f'<title id="trend-title">{escape(title or "Diễn biến theo tháng")}</title>',
        f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" stroke="#505a5f"/>',
    ]
    line = []
    for i, p in enumerate(points):
        x = left + i * step
        h = height * p["received"] / most
        parts.append(
            f'<rect x="{x + step * 0.2:.1f}" y="{top + height - h:.1f}" width="{step * 0.6:.1f}" '
            f'height="{h:.1f}" fill="#b1b4b6"><title>{escape(p["label"])}: {p["received"]} hồ sơ tiếp nhận'
            "</title></rect>"
        )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{top + height + 16}" font-size="10" text-anchor="middle">'
            f"{escape(p['period'][-2:])}/{escape(p['period'][:4])}</text>"
        )
        if p.get("in_time_pct") is not None:
            y = top + height * (1 - p["in_time_pct"] / 100)
            line.append((x + step / 2, y, p))
    if line:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _) in enumerate(line))
        parts.append(f'<path d="{path}" fill="none" stroke="{EARLY}" stroke-width="2"/>')
        for x, y, p in line:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{EARLY}"><title>{escape(p["label"])}: '
                f"{p['in_time_pct']:.2f}% đúng hạn</title></circle>"
            )
    parts.append(
        f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end">100%</text>'
        f'<text x="{left - 6}" y="{top + height}" font-size="10" text-anchor="end">0%</text>'
        f'<text x="{left}" y="{top + height + 36}" font-size="11">■ hồ sơ tiếp nhận (cột, tối đa {most})'
        "   — tỷ lệ đúng hạn (đường)</text></svg>"
    )
    return "".join(parts)
