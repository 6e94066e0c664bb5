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


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
