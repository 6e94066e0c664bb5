"""People and access: officers created by the admin, citizens who register, logins."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date

import msgspec

from app.db.engine import write_transaction
from app.db.queries import one_by
from app.db.row_cache import user_cache
from app.db.tables import User
from app.domain.cccd import CccdError, check_matches, parse_cccd
from app.domain.clock import Clock
from app.domain.directory import Directory
from app.domain.roles import Role
from app.services import audit
from app.services.audit import Actor, AuditEntry
from app.services.errors import Conflict, Invalid
from app.services.security import dummy_hash, hash_password, verify_password

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^(\+84|0)\d{9,10}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: Role
    unit_code: str | None
    full_name: str
    email: str = ""
    phone: str = ""
    active: bool = True

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username, self.role.value)

    @classmethod
    def from_row(cls, row: dict) -> "UserView":
        return cls(
            row["id"],
            row["username"],
            Role(row["role"]),
            row["unit_code"],
            row["full_name"],
            row["email"],
            row["phone"],
            row["active"],
        )


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An account the admin creates (also the body of POST /api/v1/admin/users)."""

    username: str
    password: str
    role: str
    full_name: str
    unit_code: str | None = None
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class CitizenRegistration:
    cccd: str
    full_name: str
    birth_year: int | None
    female: bool | None
    password: str
    password_confirm: str
    phone: str = ""
    email: str = ""


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự."
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        return "Mật khẩu phải có cả chữ cái và chữ số."
    return None


def _contact_errors(email: str, phone: str) -> dict[str, str]:
    errors = {}
    if email and not EMAIL.match(email):
        errors["email"] = "Địa chỉ thư điện tử không đúng định dạng."
    if phone and not PHONE.match(phone):
        errors["phone"] = "Số điện thoại phải có 10–11 chữ số, bắt đầu bằng 0 hoặc +84."
    return errors


class AccountService:
    def __init__(self, clock: Clock, directory: Directory) -> None:
        self.clock = clock
        self.directory = directory

    async def get(self, user_id: int) -> UserView | None:
        """The active account ``user_id`` (every signed-in request asks), kept in memory until
        the database says it changed (app/db/row_cache.py)."""

        async def read() -> UserView | None:
            row = await one_by(User, User.id, user_id)
            return UserView.from_row(row) if row and row["active"] else None

        return await user_cache(User._meta.db).kept(str(user_id), read)

    async def officer_for(self, username: str) -> UserView:
        """An officer by username; ``<role>.<unit>.N`` beyond the seeded staff (a simulated
        scenario may add officers) is the unit's first one of that role."""
        first_of_unit = re.sub(r"\.\d+$", "", username)
        rows = (
            await User.select()
            .where(User.username.is_in([username, first_of_unit]))
            .order_by(User.username, ascending=False)
        )
        if not rows:
            raise LookupError(f"no officer {username}")
        return UserView.from_row(rows[0])

    async def authenticate(self, username: str, password: str, ip: str = "") -> UserView | None:
        username = username.strip().lower()
        row = await User.select().where(User.username == username).first()
        # argon2 is slow on purpose: keep it off the event loop.
        ok = await asyncio.to_thread(verify_password, row["password_hash"] if row else dummy_hash(), password)
        ok = ok and row is not None and row["active"]
        async with write_transaction():
            if ok:
                await User.update({User.last_login_at: self.clock.now()}).where(User.id == row["id"])
            await audit.record(
                self.clock,
                Actor(row["id"] if row else None, username, row["role"] if row else "", ip),
                AuditEntry("auth.login" if ok else "auth.login_failed", "user", username),
            )
        return UserView.from_row(row) if ok else None

    async def create_user(self, spec: NewUser, actor: Actor) -> UserView:
        errors: dict[str, str] = {}
        username = spec.username.strip().lower()
        if not USERNAME.match(username):
            errors["username"] = (
                "Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới."
            )
        try:
            role = Role(spec.role)
        except ValueError:
            role = None
            errors["role"] = "Vai trò không hợp lệ: " + ", ".join(r.value for r in Role) + "."
        if role is Role.CITIZEN:
            errors["role"] = "Tài khoản công dân được tạo bằng đăng ký với số căn cước công dân."
        if role is not None and role.is_officer:
            if not spec.unit_code:
                errors["unit_code"] = "Cán bộ phải thuộc một đơn vị."
            elif self.directory.get(spec.unit_code) is None:
                errors["unit_code"] = f"Không có đơn vị mã {spec.unit_code}."
        elif spec.unit_code and self.directory.get(spec.unit_code) is None:
            errors["unit_code"] = f"Không có đơn vị mã {spec.unit_code}."
        if not spec.full_name.strip():
            errors["full_name"] = "Vui lòng nhập họ và tên."
        if problem := password_problem(spec.password):
            errors["password"] = problem
        errors.update(_contact_errors(spec.email, spec.phone))
        if errors:
            raise Invalid("Thông tin tài khoản chưa hợp lệ.", errors)
        assert role is not None
        password_hash = await asyncio.to_thread(hash_password, spec.password)  # outside the transaction
        async with write_transaction():
            if await User.exists().where(User.username == username):
                raise Conflict(f"Tên đăng nhập {username} đã được sử dụng.", {"username": "Đã được sử dụng."})
            row = (
                await User.insert(
                    User(
                        username=username,
                        password_hash=password_hash,
                        role=role.value,
                        unit_code=spec.unit_code or None,
                        full_name=spec.full_name.strip(),
                        email=spec.email,
                        phone=spec.phone,
                        created_at=self.clock.now(),
                    )
                ).returning(User.id)
            )[0]
            await audit.record(
                self.clock,
                actor,
                AuditEntry(
                    "user.create",
                    "user",
                    username,
                    details={"role": role.value, "unit_code": spec.unit_code},
                ),
            )
        return UserView(
            row["id"], username, role, spec.unit_code or None, spec.full_name.strip(), spec.email, spec.phone
        )

    async def register_citizen(self, spec: CitizenRegistration, ip: str = "") -> UserView:
        errors: dict[str, str] = {}
        today: date = self.clock.now().date()
        cccd = spec.cccd.strip()
        try:
            info = parse_cccd(cccd, today=today)
            if spec.birth_year is not None and spec.female is not None:
                check_matches(info, birth_year=spec.birth_year, female=spec.female)
        except CccdError as exc:
            errors["cccd"] = str(exc)
        if spec.birth_year is None:
            errors["birth_year"] = "Vui lòng nhập năm sinh (4 chữ số)."
        if spec.female is None:
            errors["gender"] = "Vui lòng chọn giới tính."
        if not spec.full_name.strip():
            errors["full_name"] = "Vui lòng nhập họ và tên."
        if problem := password_problem(spec.password):
            errors["password"] = problem
        elif spec.password != spec.password_confirm:
            errors["password_confirm"] = "Mật khẩu nhập lại không khớp."
        errors.update(_contact_errors(spec.email, spec.phone))
        if errors:
            raise Invalid("Thông tin đăng ký chưa hợp lệ.", errors)
        password_hash = await asyncio.to_thread(hash_password, spec.password)
        async with write_transaction():
            if await User.exists().where((User.cccd == cccd) | (User.username == cccd)):
                raise Conflict("Số căn cước công dân này đã có tài khoản.", {"cccd": "Đã có tài khoản."})
            row = (
                await User.insert(
                    User(
                        username=cccd,
                        password_hash=password_hash,
                        role=Role.CITIZEN.value,
                        full_name=spec.full_name.strip(),
                        cccd=cccd,
                        birth_year=spec.birth_year,
                        female=spec.female,
                        email=spec.email,
                        phone=spec.phone,
                        created_at=self.clock.now(),
                    )
                ).returning(User.id)
            )[0]
            await audit.record(
                self.clock,
                Actor(row["id"], cccd, Role.CITIZEN.value, ip),
                AuditEntry("user.register", "user", cccd),
            )
        return UserView(row["id"], cccd, Role.CITIZEN, None, spec.full_name.strip(), spec.email, spec.phone)

    async def list_users(
        self, *, unit_code: str | None = None, role: str | None = None, after_id: int = 0, limit: int = 50
    ) -> list[UserView]:
        query = User.select().where(User.id > after_id)
        if unit_code:
            query = query.where(User.unit_code == unit_code)
        if role:
            query = query.where(User.role == role)
        rows = await query.order_by(User.id).limit(limit)
        return [UserView.from_row(r) for r in rows]
