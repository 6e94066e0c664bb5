"""Roles of the portal (DESIGN.md, "Authentication")."""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    CITIZEN = "citizen"
    RECEPTION = "reception"  # Bộ phận Một cửa
    SPECIALIST = "specialist"  # chuyên viên
    LEADER = "leader"  # lãnh đạo: approves and signs
    CLERK = "clerk"  # văn thư: applies the agency seal signature
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def is_officer(self) -> bool:
        return self in OFFICER_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


OFFICER_ROLES = frozenset({Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.CLERK})

ROLE_LABELS = {
    Role.CITIZEN: "Công dân",
    Role.RECEPTION: "Cán bộ Bộ phận Một cửa",
    Role.SPECIALIST: "Chuyên viên",
    Role.LEADER: "Lãnh đạo",
    Role.CLERK: "Văn thư",
    Role.AUDITOR: "Kiểm tra viên",
    Role.ADMIN: "Quản trị hệ thống",
}
