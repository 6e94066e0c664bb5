"""A province's administrative geography as data, flattened into units.

A province file (``fixtures/provinces/<key>/province.toml``) lists the provincial
People's Committee, its departments, the Public Administrative Service Centre,
the district-level units with their communes, and templates for the offices
(phòng) of every district and the agencies (e.g. police) of every commune.
``expand()`` turns it into a flat, ordered list of ``UnitSpec`` with QCVN 102
style identifier codes ``V1V2V3.Z1Z2.Y1Y2.MX1X2``:

    000.00.00.H63   provincial People's Committee (level 1)
    000.00.YY.H63   a department, the Centre or a district (level 2, YY = 01..99)
    000.ZZ.YY.H63   a commune (ZZ = 01..59) or a district office (ZZ = 60..99) (level 3)
    VVV.ZZ.YY.H63   an agency under a commune, e.g. its police (VVV = 001..) (level 4)

The 2025 two-level structure simply has no districts: its communes hang off the
province directly (``000.ZZ.00.H38``-style codes are then given explicitly).
Pure: parsing and expansion only; reading the file is the caller's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from app.domain.text import slugify

UnitKind = Literal[
    "province",
    "department",
    "center",
    "district",
    "district_office",
    "commune",
    "commune_agency",
]
Level = Literal["province", "district", "commune"]
UNIT_CODE = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
UNIT_CODE_RE = re.compile(UNIT_CODE)
SLUG = r"^[a-z0-9][a-z0-9-]*$"

Code = Annotated[str, msgspec.Meta(pattern=UNIT_CODE)]
Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]


class Staffing(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How many officers of each role a unit of some kind has."""

    reception: int = 0
    specialist: int = 0
    leader: int = 0
    clerk: int = 0


class NamedUnit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: Slug
    name: str
    code: Code
    short_name: str = ""
    #: Name of its one-stop unit when it receives dossiers itself.
    one_stop_name: str = ""
    staffing: Staffing | None = None


class AgencyTemplate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An office or agency present in every district (or commune).

    ``name`` may use ``{parent}``, the parent unit's name without its kind word
    (e.g. "Công an {parent_full}" or "Phòng Tư pháp").
    """

    key: Slug
    name: str
    #: ZZ segment for district offices, VVV for commune agencies.
    number: Annotated[int, msgspec.Meta(ge=1, le=999)]
    one_stop_name: str = ""


class Commune(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    kind: Literal["xa", "phuong", "thi_tran"]
    code: Code
    key: Slug = ""
    #: True when the name is invented (the reference did not give the real one).
    synthetic: bool = False


class District(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: Slug
    name: str
    kind: Literal["thanh_pho", "thi_xa", "huyen"]
    code: Code
    communes: tuple[Commune, ...] = ()
    one_stop_name: str = ""


class ProvinceFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: Slug
    name: str
    #: The place name written on documents' date lines ("Yên Bái, ngày …").
    place: str
    as_of: str
    regime: Literal["2018", "2025"]
    level1_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]\d{2}$")]
    cccd_prefix: Annotated[str, msgspec.Meta(pattern=r"^\d{3}$")]
    levels: tuple[Level, ...]
    province: NamedUnit
    center: NamedUnit
    departments: tuple[NamedUnit, ...]
    districts: tuple[District, ...] = ()
    #: Communes attached directly to the province (two-level structure).
    communes: tuple[Commune, ...] = ()
    district_offices: tuple[AgencyTemplate, ...] = ()
    commune_agencies: tuple[AgencyTemplate, ...] = ()
    staffing: dict[str, Staffing] = {}
    #: Where procedures of a level that does not exist are handled (2025: district → commune).
    level_map: dict[str, Level] = {}
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitSpec:
    code: str
    key: str
    name: str
    kind: UnitKind
    level: Level
    parent_code: str | None
    one_stop_name: str
    staffing: Staffing
    synthetic: bool = False

    @property
    def is_one_stop(self) -> bool:
        return bool(self.one_stop_name)


COMMUNE_KIND_NAMES = {"xa": "Xã", "phuong": "Phường", "thi_tran": "Thị trấn"}
DISTRICT_KIND_NAMES = {"thanh_pho": "Thành phố", "thi_xa": "Thị xã", "huyen": "Huyện"}


def parse_province(text: str) -> ProvinceFile:
    import tomllib

    return msgspec.convert(tomllib.loads(text), ProvinceFile)


def _segments(code: str) -> tuple[int, int, int, str]:
    v, z, y, m = code.split(".")
    return int(v), int(z), int(y), m


def _code(v: int, z: int, y: int, m: str) -> str:
    return f"{v:03d}.{z:02d}.{y:02d}.{m}"


def expand(pf: ProvinceFile) -> list[UnitSpec]:
    """All units of the province, parents before children, with their codes."""
    staff = pf.staffing
    none = Staffing()
    units: list[UnitSpec] = []

    def add(u: UnitSpec) -> None:
        units.append(u)

    p = pf.province
    add(
        UnitSpec(
            p.code,
            p.key,
            p.name,
            "province",
            "province",
            None,
            p.one_stop_name,
            p.staffing or staff.get("province", none),
        )
    )
    c = pf.center
    add(
        UnitSpec(
            c.code,
            c.key,
            c.name,
            "center",
            "province",
            p.code,
            c.one_stop_name or c.name,
            c.staffing or staff.get("center", none),
        )
    )
    for d in pf.departments:
        add(
            UnitSpec(
                d.code,
                d.key,
                d.name,
                "department",
                "province",
                p.code,
                d.one_stop_name,
                d.staffing or staff.get("department", none),
            )
        )

    used_keys: set[str] = set()

    def add_commune(cm: Commune, parent: str, prefix: str) -> None:
        full = f"{COMMUNE_KIND_NAMES[cm.kind]} {cm.name}"
        ck = cm.key or "-".join(filter(None, [prefix, slugify(full)]))
        if ck in used_keys:  # two communes of one name under one parent: the code decides
            ck = f"{ck}-{cm.code.split('.')[1]}"
        used_keys.add(ck)
        add(
            UnitSpec(
                cm.code,
                ck,
                full,
                "commune",
                "commune",
                parent,
                f"Bộ phận Tiếp nhận và Trả kết quả {full.lower()[0]}{full[1:]}",
                staff.get("commune", none),
                cm.synthetic,
            )
        )
        v, z, y, m = _segments(cm.code)
        for t in pf.commune_agencies:
            add(
                UnitSpec(
                    _code(t.number, z, y, m),
                    f"{ck}-{t.key}",
                    t.name.format(parent=full),
                    "commune_agency",
                    "commune",
                    cm.code,
                    t.one_stop_name.format(parent=full),
                    staff.get(f"commune:{t.key}", staff.get("commune_agency", none)),
                    cm.synthetic,
                )
            )

    for d in pf.districts:
        full = f"{DISTRICT_KIND_NAMES[d.kind]} {d.name}"
        add(
            UnitSpec(
                d.code,
                d.key,
                f"Ủy ban nhân dân {full.lower()[0]}{full[1:]}",
                "district",
                "district",
                p.code,
                d.one_stop_name or f"Bộ phận Tiếp nhận và Trả kết quả {full.lower()[0]}{full[1:]}",
                staff.get("district", none),
            )
        )
        _, _, y, m = _segments(d.code)
        for t in pf.district_offices:
            add(
                UnitSpec(
                    _code(0, t.number, y, m),
                    f"{d.key}-{t.key}",
                    f"{t.name} {full.lower()[0]}{full[1:]}",
                    "district_office",
                    "district",
                    d.code,
                    t.one_stop_name,
                    staff.get(f"district:{t.key}", staff.get("district_office", none)),
                )
            )
        for cm in d.communes:
            add_commune(cm, d.code, d.key)
    for cm in pf.communes:
        add_commune(cm, p.code, "")
    return units


def check_province(pf: ProvinceFile, units: list[UnitSpec]) -> list[str]:
    """Consistency problems (duplicate codes or keys, foreign level-1 codes); empty if fine."""
    problems: list[str] = []
    seen_codes: dict[str, str] = {}
    seen_keys: dict[str, str] = {}
    for u in units:
        if not UNIT_CODE_RE.match(u.code):
            problems.append(f"{u.name}: malformed code {u.code}")
        if not u.code.endswith("." + pf.level1_code):
            problems.append(f"{u.name}: code {u.code} is not under {pf.level1_code}")
        if u.code in seen_codes:
            problems.append(f"{u.name}: code {u.code} already used by {seen_codes[u.code]}")
        if u.key in seen_keys:
            problems.append(f"{u.name}: key {u.key} already used by {seen_keys[u.key]}")
        seen_codes[u.code] = u.name
        seen_keys[u.key] = u.name
    if "district" in pf.levels and not pf.districts:
        problems.append("levels include district but no districts are listed")
    if "district" not in pf.levels and pf.districts:
        problems.append("districts listed but 'district' is not among the levels")
    return problems
