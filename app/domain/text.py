"""Vietnamese text helpers: accent-insensitive search keys, slugs, money."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case, diacritics removed, đ → d: "Đăng ký" and "dang ky" fold alike."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped).strip().lower()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def format_vnd(amount: int) -> str:
    """12345 → "12.345 đồng" (Vietnamese groups thousands with dots)."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def vn_number(value: float | None, decimals: int | None = None) -> str:
    """1.234.567 and 1,3: Vietnamese separators; a dash for no value. Without ``decimals``,
    whole numbers show none and others at most two."""
    if value is None:
        return "—"
    places = decimals if decimals is not None else (0 if float(value).is_integer() else 2)
    text = f"{value:,.{places}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text.rstrip("0").rstrip(",") if decimals is None and places else text


def vn_percent(value: float | None) -> str:
    """62,5% — at most two decimals; a dash for no value."""
    return "—" if value is None else vn_number(round(value, 2)) + "%"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def answer(value, field_type: str = "") -> str:
    """A form answer as a person reads it: dates dd/mm/yyyy, money with dots, yes/no."""
    if value is None or value == "":
        return "—"
    if value is True:
        return "Có"
    if field_type == "date" and isinstance(value, str) and len(value) == 10:
        y, m, d = value.split("-")
        return f"{d}/{m}/{y}"
    if field_type == "money" and isinstance(value, int):
        return format_vnd(value)
    return str(value)
