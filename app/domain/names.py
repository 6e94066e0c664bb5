"""Deterministic synthetic Vietnamese personal names for seeded officers and citizens."""

from __future__ import annotations

import itertools
import random

# Rough frequencies of Vietnamese family names (Nguyễn ≈ 38 %).
FAMILY = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Vũ", 4),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 1),
    ("Ngô", 1),
    ("Dương", 1),
    ("Lý", 1),
    ("Hà", 2),
    ("Lò", 1),
    ("Sầm", 1),
    ("Giàng", 1),
    ("Vàng", 1),
    ("Triệu", 1),
]
MIDDLE_MALE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Tiến", "Công"]
MIDDLE_FEMALE = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Kim", "Phương", "Thùy", "Hải"]
GIVEN_MALE = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hùng",
    "Huy",
    "Khánh",
    "Long",
    "Mạnh",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Thắng",
    "Toàn",
    "Trung",
    "Tuấn",
    "Việt",
]
GIVEN_FEMALE = [
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phượng",
    "Quyên",
    "Thảo",
    "Trang",
    "Vân",
    "Yến",
]


_FAMILY_NAMES = [f for f, _ in FAMILY]
_FAMILY_CUMULATIVE = list(itertools.accumulate(w for _, w in FAMILY))


def person_name(rng: random.Random) -> tuple[str, bool]:
    """(full name, female)."""
    family = rng.choices(_FAMILY_NAMES, cum_weights=_FAMILY_CUMULATIVE)[0]
    female = rng.random() < 0.5
    middle = rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE)
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    return f"{family} {middle} {given}", female


def synthetic_applicant(rng: random.Random, cccd_prefix: str) -> tuple[str, str, str]:
    """A made-up applicant: name, a well-formed CCCD of the province (born 1950–2005), a
    mobile number."""
    name, female = person_name(rng)
    born = rng.randrange(1950, 2006)
    century = (0 if born < 2000 else 2) + int(female)
    cccd = f"{cccd_prefix}{century}{born % 100:02d}{rng.randrange(10**6):06d}"
    return name, cccd, f"09{rng.randrange(10**8):08d}"
