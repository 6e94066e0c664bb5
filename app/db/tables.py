"""Plain Piccolo tables. Queries live in app/services, never here."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Unit(Table, tablename="unit"):
    """An agency of the province: committee, department, centre, district, office, commune."""

    id = Serial(primary_key=True)
    code = Varchar(length=20, unique=True, index=True)  # QCVN 102 style identifier
    key = Varchar(length=120, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=20, index=True)
    level = Varchar(length=10)
    parent_code = Varchar(length=20, null=True, default=None, index=True)
    one_stop_name = Varchar(length=200, default="")
    synthetic = Boolean(default=False)
    position = Integer(default=0)
    province = Varchar(length=40, default="")


class User(Table, tablename="portal_user"):
    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True, index=True)
    password_hash = Varchar(length=200)
    role = Varchar(length=20, index=True)
    unit_code = Varchar(length=20, null=True, default=None, index=True)
    full_name = Varchar(length=120)
    cccd = Varchar(length=12, null=True, default=None, unique=True)
    birth_year = SmallInt(null=True, default=None)
    female = Boolean(null=True, default=None)
    email = Varchar(length=254, default="")
    phone = Varchar(length=20, default="")
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only, hash-chained record of every action (see app/services/audit.py)."""

    id = Serial(primary_key=True)
    seq = BigInt(unique=True, index=True)
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=64, default="")
    actor_role = Varchar(length=20, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=40, default="")
    object_id = Varchar(length=64, default="")
    dossier_code = Varchar(length=40, null=True, default=None, index=True)
    status_before = SmallInt(null=True, default=None)
    status_after = SmallInt(null=True, default=None)
    details = JSON(default="{}")
    ip = Varchar(length=64, default="")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class Setting(Table, tablename="portal_setting"):
    """Small key/value facts about this installation (loaded province, seed version)."""

    key = Varchar(length=64, primary_key=True)
    value = Text(default="")
