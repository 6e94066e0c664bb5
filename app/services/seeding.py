"""`portal seed`: the province, its officers and demo accounts. Idempotent.

Units are upserted by code, people by username, so running it twice leaves the
same database. Seeded officers share one demo password (hashed once: argon2 is
deliberately slow); the admin account gets PORTAL_ADMIN_PASSWORD.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from app.db.engine import write_transaction
from app.db.tables import Setting, Unit, User
from app.domain.clock import Clock
from app.domain.geography import ProvinceFile, UnitSpec, check_province, expand, parse_province
from app.domain.names import person_name
from app.domain.roles import Role
from app.services import audit, directory
from app.services.audit import SYSTEM, AuditEntry
from app.services.pki import PkiService
from app.services.security import hash_password
from app.settings import FIXTURES_DIR

ROLE_PREFIX = {
    Role.RECEPTION: "motcua",
    Role.SPECIALIST: "chuyenvien",
    Role.LEADER: "lanhdao",
    Role.CLERK: "vanthu",
}
NAME_SEED = 2021


class SeedError(ValueError):
    pass


def province_path(key: str) -> Path:
    return FIXTURES_DIR / "provinces" / key / "province.toml"


def load_province(key: str) -> tuple[ProvinceFile, list[UnitSpec]]:
    path = province_path(key)
    if not path.exists():
        known = sorted(p.name for p in (FIXTURES_DIR / "provinces").iterdir() if p.is_dir())
        raise SeedError(f"no province data {key!r} (known: {', '.join(known)})")
    try:
        pf = parse_province(path.read_text(encoding="utf-8"))
    except Exception as exc:  # msgspec names the field; keep the file in the message
        raise SeedError(f"{path}: {exc}") from exc
    units = expand(pf)
    if problems := check_province(pf, units):
        raise SeedError(f"{path}: " + "; ".join(problems))
    return pf, units


@dataclass(frozen=True)
class SeededAccount:
    username: str
    role: Role
    unit_code: str | None
    unit_name: str
    full_name: str
    unit_kind: str = ""


@dataclass
class SeedReport:
    province: str
    units: int = 0
    officers: int = 0
    accounts: list[SeededAccount] = field(default_factory=list)


def officer_username(role: Role | str, unit_key: str, number: int = 1) -> str:
    """``motcua.<unit key>``, then ``motcua.<unit key>.2`` … for a unit's further officers."""
    return f"{ROLE_PREFIX[Role(role)]}.{unit_key}" + (f".{number}" if number > 1 else "")


def officer_accounts(units: list[UnitSpec]) -> list[SeededAccount]:
    rng = random.Random(NAME_SEED)
    out: list[SeededAccount] = []
    for unit in units:
        for role in (Role.LEADER, Role.RECEPTION, Role.SPECIALIST, Role.CLERK):
            count = getattr(unit.staffing, role.value)
            for i in range(1, count + 1):
                username = officer_username(role, unit.key, i)
                name, _ = person_name(rng)
                out.append(SeededAccount(username, role, unit.code, unit.name, name, unit.kind))
    return out


def demo_citizens(pf: ProvinceFile) -> list[tuple[SeededAccount, str, int, bool]]:
    """A few citizens with well-formed CCCD numbers of the province."""
    rng = random.Random(NAME_SEED + 1)
    out = []
    for year in (1985, 1992, 2001):
        name, female = person_name(rng)
        century_digit = (0 if year < 2000 else 2) + (1 if female else 0)
        cccd = f"{pf.cccd_prefix}{century_digit}{year % 100:02d}{rng.randrange(10**6):06d}"
        out.append((SeededAccount(cccd, Role.CITIZEN, None, "", name), cccd, year, female))
    return out


async def seed(
    clock: Clock, *, province: str, admin_password: str, demo_password: str, pki: PkiService | None = None
) -> SeedReport:
    pf, units = load_province(province)
    now = clock.now()
    report = SeedReport(pf.name)
    officers = officer_accounts(units)
    citizens = demo_citizens(pf)
    # argon2 is slow by design: hash each password once, outside the transaction.
    demo_hash = hash_password(demo_password)
    admin_hash = hash_password(admin_password)
    top = units[0].code
    specials = [
        SeededAccount("admin", Role.ADMIN, None, "", "Quản trị hệ thống"),
        SeededAccount("kiemtra", Role.AUDITOR, top, units[0].name, "Kiểm tra viên tỉnh", "province"),
    ]
    async with write_transaction():
        unit_rows = [
            Unit(
                code=u.code,
                key=u.key,
                name=u.name,
                kind=u.kind,
                level=u.level,
                parent_code=u.parent_code,
                one_stop_name=u.one_stop_name,
                synthetic=u.synthetic,
                position=i,
                province=pf.key,
            )
            for i, u in enumerate(units)
        ]
        for chunk in _chunks(unit_rows, 200):
            await Unit.insert(*chunk).on_conflict(
                target=Unit.code,
                action="DO UPDATE",
                values=[
                    Unit.key,
                    Unit.name,
                    Unit.kind,
                    Unit.level,
                    Unit.parent_code,
                    Unit.one_stop_name,
                    Unit.synthetic,
                    Unit.position,
                    Unit.province,
                ],
            )
        user_rows = (
            [
                User(
                    username=a.username,
                    password_hash=demo_hash,
                    role=a.role.value,
                    unit_code=a.unit_code,
                    full_name=a.full_name,
                    created_at=now,
                )
                for a in officers + specials[1:]
            ]
            + [
                User(
                    username=a.username,
                    password_hash=demo_hash,
                    role=a.role.value,
                    full_name=a.full_name,
                    cccd=cccd,
                    birth_year=year,
                    female=female,
                    created_at=now,
                    # a reserved example domain, and a number range no operator assigns
                    email=f"{cccd}@example.vn",
                    phone=f"0900{cccd[-6:]}",
                )
                for a, cccd, year, female in citizens
            ]
            + [
                User(
                    username="admin",
                    password_hash=admin_hash,
                    role=Role.ADMIN.value,
                    full_name="Quản trị hệ thống",
                    created_at=now,
                )
            ]
        )
        for chunk in _chunks(user_rows, 200):
            await User.insert(*chunk).on_conflict(
                target=User.username,
                action="DO UPDATE",
                values=[
                    User.password_hash,
                    User.role,
                    User.unit_code,
                    User.full_name,
                    User.active,
                    User.email,
                    User.phone,
                ],
            )
        for key, value in (
            ("province", pf.key),
            ("level_map", json.dumps(pf.level_map)),
            ("place", pf.place),
        ):
            await Setting.insert(Setting(key=key, value=value)).on_conflict(
                target=Setting.key, action="DO UPDATE", values=[Setting.value]
            )
        await audit.record(
            clock,
            SYSTEM,
            AuditEntry(
                "seed.province",
                "province",
                pf.key,
                details={"units": len(units), "officers": len(officers), "citizens": len(citizens)},
            ),
        )
    directory.invalidate()
    if pki is not None:
        await pki.ensure_authorities()
    report.units = len(units)
    report.officers = len(officers)
    report.accounts = specials + officers + [c[0] for c in citizens]
    return report


def _chunks(rows: list, size: int):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]
