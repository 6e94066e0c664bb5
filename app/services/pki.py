"""The portal's simulated PKI: authorities kept in the database with their keys encrypted,
and the services relying parties call — certificates, CRLs, OCSP, RFC 3161 time-stamps."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import core, tsp
from cryptography import x509
from cryptography.x509 import ocsp

from app.db.engine import current_engine, write_transaction
from app.db.tables import PkiCertificate, User
from app.domain.clock import Clock
from app.domain.directory import Directory, UnitRecord
from app.services import audit
from app.services.accounts import UserView
from app.services.audit import AuditEntry
from app.services.errors import Conflict, Invalid, NotFound
from signing.pades import CachedKeyTimeStamper
from signing.pki import (
    CertStatus,
    Endpoints,
    Issued,
    Kind,
    RevocationReason,
    Revoked,
    StatusAnswer,
    SubjectSpec,
    create_intermediate,
    create_root,
    create_service,
    decrypt_key,
    issue_end_entity,
    make_crl,
    ocsp_respond,
    renew_end_entity,
)

AUTHORITIES = ("root", "intermediate", "ocsp", "tsa")
#: A CRL is reissued every hour and valid for a day (configurable schedule [U]).
CRL_PERIOD = timedelta(hours=1)
CRL_VALIDITY = timedelta(days=1)
_cache: dict[str, Issued] = {}
#: The authorities' service certificates, renewed when they expire.
SERVICES = {"ocsp": Kind.OCSP, "tsa": Kind.TSA}
AUTHORITY_ORDER = {"root": 0, "intermediate": 1, "ocsp": 2, "tsa": 3}
#: One issuance at a time per certificate wanted (per process).
_issuing: dict[str, asyncio.Lock] = {}


def _valid_at(issued: Issued, moment: datetime) -> bool:
    cert = issued.certificate
    return cert.not_valid_before_utc <= moment < cert.not_valid_after_utc


#: Officers who sign results hold personal certificates: the leader signs, the clerk seals.
SIGNING_ROLES = {"leader": "Lãnh đạo", "clerk": "Văn thư"}
REVOCATION_LABELS = {
    "unspecified": "Không nêu lý do",
    "key_compromise": "Lộ khóa bí mật",
    "affiliation_changed": "Thay đổi đơn vị công tác",
    "superseded": "Đã được thay thế",
    "cessation_of_operation": "Ngừng hoạt động",
}


def synthetic_cccd(user_id: int, province_prefix: str = "015") -> str:
    """Officers' seeded accounts carry no CCCD; their simulated certificates get a stable one."""
    return f"{province_prefix}080{user_id:06d}"


def synthetic_mns(unit_code: str) -> str:
    """A stable 7-digit budget-relationship code (mã quan hệ ngân sách) for a simulated unit."""
    return f"{int(hashlib.sha256(unit_code.encode()).hexdigest(), 16) % 9_000_000 + 1_000_000}"


def seal_subject(unit: UnitRecord) -> SubjectSpec:
    return SubjectSpec(unit.name, organization=unit.name, uids=(f"MNS:{synthetic_mns(unit.code)}",))


def personal_subject(user: UserView, unit: UnitRecord) -> SubjectSpec:
    return SubjectSpec(
        user.full_name,
        organization=unit.name,
        title=SIGNING_ROLES.get(user.role.value, ""),
        uids=(f"CCCD:{synthetic_cccd(user.id)}",),
    )


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "serial": row["serial"],
        "kind": row["kind"],
        "unit_code": row["unit_code"],
        "user_id": row["user_id"],
        "subject": row["subject"],
        "not_before": row["not_before"].isoformat(),
        "not_after": row["not_after"].isoformat(),
        "revoked_at": row["revoked_at"].isoformat() if row["revoked_at"] else None,
        "revocation_reason": row["revocation_reason"],
    }


def key_encryption_bytes(secret: str) -> bytes:
    return hashlib.sha256(("kek:" + secret).encode()).digest().hex().encode()


@dataclass
class PkiService:
    clock: Clock
    base_url: str
    key_encryption_key: str

    @classmethod
    def for_settings(cls, clock: Clock, settings) -> "PkiService":
        return cls(clock, settings.base_url, settings.key_encryption_key)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(self.base_url.rstrip("/"))

    async def ensure_authorities(self) -> bool:
        """Create the hierarchy once; True if it was created now."""
        if await PkiCertificate.exists().where(PkiCertificate.name == "root"):
            return False
        now = self.clock.now()
        root = create_root(now)
        intermediate = create_intermediate(root, self.endpoints, now)
        made = {
            "root": root,
            "intermediate": intermediate,
            "ocsp": create_service(intermediate, Kind.OCSP, self.endpoints, now),
            "tsa": create_service(intermediate, Kind.TSA, self.endpoints, now),
        }
        async with write_transaction():
            if await PkiCertificate.exists().where(PkiCertificate.name == "root"):
                return False  # another process won the race
            for name, issued in made.items():
                await self.store(issued, name=name)
            await audit.record(
                self.clock,
                audit.SYSTEM,
                AuditEntry(
                    "pki.create",
                    "pki",
                    "root",
                    details={"serials": {n: f"{i.serial:x}" for n, i in made.items()}},
                ),
            )
        return True

    async def store(
        self,
        issued: Issued,
        *,
        name: str | None = None,
        unit_code: str | None = None,
        user_id: int | None = None,
    ) -> None:
        cert = issued.certificate
        await PkiCertificate.insert(
            PkiCertificate(
                serial=f"{issued.serial:x}",
                kind=issued.kind.value,
                name=name,
                unit_code=unit_code,
                user_id=user_id,
                subject=cert.subject.rfc4514_string(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                cert_der=issued.der,
                key_pem=issued.encrypted_key(key_encryption_bytes(self.key_encryption_key)),
                created_at=self.clock.now(),
            )
        )

    def private_key(self, key_pem: bytes):
        """A stored private key, decrypted with the key-encryption key."""
        return decrypt_key(bytes(key_pem), key_encryption_bytes(self.key_encryption_key))

    async def authority(self, name: str) -> Issued:
        key = f"{id(current_engine())}:{name}"  # one hierarchy per database
        issued = _cache.get(key)
        if issued is None or (name in SERVICES and not _valid_at(issued, self.clock.now())):
            issued = _cache[key] = await self._load_authority(name)
        return issued

    def _issued(self, row: dict[str, Any]) -> Issued:
        return Issued(
            Kind(row["kind"]),
            x509.load_der_x509_certificate(bytes(row["cert_der"])),
            self.private_key(row["key_pem"]),
        )

    async def _load_authority(self, name: str) -> Issued:
        if name not in SERVICES:
            row = await PkiCertificate.select().where(PkiCertificate.name == name).first()
            if row is None:
                raise LookupError(name)
            return self._issued(row)
        # The OCSP responder's and the TSA's certificates live 5 years: the one valid at the
        # portal's clock (which a training session may set in the past), else a new one.
        now = self.clock.now()
        rows = (
            await PkiCertificate.select()
            .where((PkiCertificate.name == name) | PkiCertificate.name.like(f"{name}@%"))
            .order_by(PkiCertificate.id, ascending=False)
        )
        if not rows:
            raise LookupError(name)
        for row in rows:
            if row["not_before"] <= now < row["not_after"]:
                return self._issued(row)
        return await self._renew_service(name)

    async def _renew_service(self, name: str) -> Issued:
        """A new certificate for the OCSP responder or the TSA; the one it replaces stays,
        renamed, for the record and for clocks set back into its life."""
        fresh = create_service(
            await self.authority("intermediate"), SERVICES[name], self.endpoints, self.clock.now()
        )
        async with write_transaction():
            row = (
                await PkiCertificate.select(PkiCertificate.id, PkiCertificate.serial)
                .where(PkiCertificate.name == name)
                .first()
            )
            await PkiCertificate.update({PkiCertificate.name: f"{name}@{row['id']}"}).where(
                PkiCertificate.id == row["id"]
            )
            await self.store(fresh, name=name)
            await audit.record(
                self.clock,
                audit.SYSTEM,
                AuditEntry(
                    "pki.renew", "pki", name, details={"old": row["serial"], "new": f"{fresh.serial:x}"}
                ),
            )
        return fresh

    async def authorities(self) -> list[dict[str, Any]]:
        rows = (
            await PkiCertificate.select(
                PkiCertificate.name,
                PkiCertificate.kind,
                PkiCertificate.serial,
                PkiCertificate.subject,
                PkiCertificate.not_before,
                PkiCertificate.not_after,
            )
            .where(PkiCertificate.name.is_not_null() & PkiCertificate.name.not_like("%@%"))  # not the renewed
            .order_by(PkiCertificate.id)
        )
        rows.sort(key=lambda r: AUTHORITY_ORDER.get(r["name"], len(AUTHORITY_ORDER)))
        return [
            {
                "name": r["name"],
                "kind": r["kind"],
                "serial": r["serial"],
                "subject": r["subject"],
                "not_before": r["not_before"].isoformat(),
                "not_after": r["not_after"].isoformat(),
                "certificate": f"/pki/{r['name']}.crt",
                **({"crl": f"/pki/{r['name']}.crl"} if r["kind"] in ("root", "intermediate") else {}),
            }
            for r in rows
        ]

    async def certificate(self, name: str, pem: bool = False) -> bytes:
        issued = await self.authority(name)
        return issued.pem if pem else issued.der

    async def crl(self, ca: str) -> bytes:
        """A CRL of the CA, as of the start of the current period (fresh by the schedule)."""
        if ca not in ("root", "intermediate"):
            raise LookupError(ca)
        issuer = await self.authority(ca)
        now = self.clock.now()
        this_update = now - timedelta(seconds=now.timestamp() % CRL_PERIOD.total_seconds())
        kinds = ["intermediate"] if ca == "root" else ["ocsp", "tsa", "seal", "personal"]
        rows = await PkiCertificate.select(
            PkiCertificate.serial, PkiCertificate.revoked_at, PkiCertificate.revocation_reason
        ).where(
            PkiCertificate.kind.is_in(kinds)
            & PkiCertificate.revoked_at.is_not_null()
            & (PkiCertificate.revoked_at <= now)
        )
        revoked = [
            Revoked(int(r["serial"], 16), r["revoked_at"], RevocationReason(r["revocation_reason"]))
            for r in rows
        ]
        return make_crl(
            issuer,
            revoked,
            this_update,
            this_update + CRL_VALIDITY,
            number=int(this_update.timestamp() // CRL_PERIOD.total_seconds()),
        )

    async def certificates(self, *, unit_code: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = (
            PkiCertificate.select(
                PkiCertificate.serial,
                PkiCertificate.kind,
                PkiCertificate.unit_code,
                PkiCertificate.user_id,
                PkiCertificate.subject,
                PkiCertificate.not_before,
                PkiCertificate.not_after,
                PkiCertificate.revoked_at,
                PkiCertificate.revocation_reason,
            )
            .where(PkiCertificate.kind.is_in(["seal", "personal"]))
            .order_by(PkiCertificate.id, ascending=False)
        )
        if unit_code:
            query = query.where(PkiCertificate.unit_code == unit_code)
        return [_view(r) for r in await query.limit(limit)]

    # --- issuing and renewing end-entity certificates ------------------------------------

    async def current(
        self, *, kind: Kind, unit_code: str | None = None, user_id: int | None = None
    ) -> Issued | None:
        """The newest certificate of a unit (seal) or a person valid now and not revoked (a
        clock set back into the past finds the one valid then, or gets a new one)."""
        now = self.clock.now()
        query = PkiCertificate.select().where(
            (PkiCertificate.kind == kind.value)
            & PkiCertificate.revoked_at.is_null()
            & (PkiCertificate.not_before <= now)
            & (PkiCertificate.not_after > now)
        )
        query = (
            query.where(PkiCertificate.user_id == user_id)
            if user_id is not None
            else query.where(PkiCertificate.unit_code == unit_code)
        )
        row = await query.order_by(PkiCertificate.id, ascending=False).first()
        if row is None:
            return None
        return Issued(
            kind, x509.load_der_x509_certificate(bytes(row["cert_der"])), self.private_key(row["key_pem"])
        )

    async def seal_of(self, unit: UnitRecord) -> Issued:
        """The unit's seal certificate valid now, issued on first need."""
        return await self._current_or_issue(
            f"seal:{unit.code}",
            lambda: self.current(kind=Kind.SEAL, unit_code=unit.code),
            lambda: self.issue_seal(unit),
        )

    async def personal_of(self, user: UserView, unit: UnitRecord) -> Issued:
        """The signer's personal certificate valid now, issued on first need."""
        return await self._current_or_issue(
            f"personal:{user.id}",
            lambda: self.current(kind=Kind.PERSONAL, user_id=user.id),
            lambda: self.issue_personal(user, unit),
        )

    @staticmethod
    async def _current_or_issue(key: str, find, issue) -> Issued:
        # Many requests needing the same new certificate at once (the first receipts of a
        # morning) wait for one issuance instead of each making its own key.
        if (found := await find()) is not None:
            return found
        async with _issuing.setdefault(key, asyncio.Lock()):
            return await find() or await issue()

    async def issue_seal(self, unit: UnitRecord, actor: audit.Actor = audit.SYSTEM) -> Issued:
        issued = await asyncio.to_thread(  # RSA key generation: off the event loop
            issue_end_entity,
            await self.authority("intermediate"),
            Kind.SEAL,
            seal_subject(unit),
            self.endpoints,
            self.clock.now(),
        )
        await self._record_issue(issued, actor, unit_code=unit.code)
        return issued

    async def issue_personal(
        self, user: UserView, unit: UnitRecord, actor: audit.Actor = audit.SYSTEM
    ) -> Issued:
        issued = await asyncio.to_thread(
            issue_end_entity,
            await self.authority("intermediate"),
            Kind.PERSONAL,
            personal_subject(user, unit),
            self.endpoints,
            self.clock.now(),
        )
        await self._record_issue(issued, actor, unit_code=unit.code, user_id=user.id)
        return issued

    async def _record_issue(
        self,
        issued: Issued,
        actor: audit.Actor,
        *,
        unit_code: str,
        user_id: int | None = None,
        replaces: dict[str, Any] | None = None,
    ) -> None:
        """Store a new certificate, supersede the one it replaces, and audit it: one transaction."""
        serial = f"{issued.serial:x}"
        now = self.clock.now()
        async with write_transaction():
            if replaces is not None:
                superseded = (
                    await PkiCertificate.update(
                        {PkiCertificate.revoked_at: now, PkiCertificate.revocation_reason: "superseded"}
                    )
                    .where((PkiCertificate.id == replaces["id"]) & PkiCertificate.revoked_at.is_null())
                    .returning(PkiCertificate.id)
                )
                if not superseded:  # a second click, or someone revoked it meanwhile
                    raise Conflict("Chứng thư số này đã bị thu hồi; hãy cấp chứng thư mới.")
            await self.store(issued, unit_code=unit_code, user_id=user_id)
            details = {
                "kind": issued.kind.value,
                "subject": issued.certificate.subject.rfc4514_string(),
                "unit_code": unit_code,
                "user_id": user_id,
                "not_after": issued.certificate.not_valid_after_utc.isoformat(),
            }
            if replaces is not None:
                details["replaces"] = replaces["serial"]
            await audit.record(
                self.clock,
                actor,
                AuditEntry("pki.renew" if replaces else "pki.issue", "certificate", serial, details=details),
            )

    async def issue(
        self, directory: Directory, actor: audit.Actor, *, unit_code: str = "", username: str = ""
    ) -> dict[str, Any]:
        """From the admin page or CLI: a seal certificate for a unit, or a personal one for
        a leader or clerk (by user name)."""
        username, unit_code = username.strip(), unit_code.strip()
        if bool(username) == bool(unit_code):
            raise Invalid(
                "Hãy chọn một đơn vị (chứng thư con dấu) hoặc nhập một tên đăng nhập (chứng thư cá nhân).",
                {"unit_code": "Chọn đơn vị hoặc nhập tên đăng nhập, không cả hai."},
            )
        if username:
            row = await User.select().where(User.username == username).first()
            if row is None:
                raise Invalid("Không có tài khoản này.", {"username": f"Không có tài khoản {username}."})
            user = UserView.from_row(row)
            unit = directory.get(user.unit_code or "")
            if user.role.value not in SIGNING_ROLES or unit is None:
                raise Invalid(
                    "Chỉ lãnh đạo và văn thư của một đơn vị được cấp chứng thư số cá nhân để ký văn bản.",
                    {"username": "Tài khoản này không ký văn bản."},
                )
            issued = await self.issue_personal(user, unit, actor)
        else:
            unit = directory.get(unit_code)
            if unit is None:
                raise Invalid("Đơn vị không tồn tại.", {"unit_code": f"Không có đơn vị {unit_code}."})
            issued = await self.issue_seal(unit, actor)
        return await self.describe(f"{issued.serial:x}")

    async def renew(self, serial: str, actor: audit.Actor) -> dict[str, Any]:
        """A new key and certificate for the same holder; the old one is revoked as superseded."""
        row = await self._end_entity(serial)
        if row["revoked_at"] is not None:
            raise Conflict("Chứng thư số này đã bị thu hồi; hãy cấp chứng thư mới.")
        kind = Kind(row["kind"])
        issued = renew_end_entity(
            await self.authority("intermediate"),
            kind,
            x509.load_der_x509_certificate(bytes(row["cert_der"])),
            self.endpoints,
            self.clock.now(),
        )
        await self._record_issue(
            issued, actor, unit_code=row["unit_code"], user_id=row["user_id"], replaces=row
        )
        return await self.describe(f"{issued.serial:x}")

    async def describe(self, serial: str) -> dict[str, Any]:
        return _view(await self._end_entity(serial))

    async def _end_entity(self, serial: str) -> dict[str, Any]:
        serial = serial.strip().lower().removeprefix("0x")
        row = await PkiCertificate.select().where(PkiCertificate.serial == serial).first()
        if row is None or row["kind"] not in ("seal", "personal"):
            raise NotFound(f"Không có chứng thư số sê-ri {serial}.")
        return row

    async def revoke(
        self, serial: str, reason: str, actor: audit.Actor, at: datetime | None = None
    ) -> dict[str, Any]:
        """Revoke an end-entity certificate from ``at`` (default now); CRL and OCSP follow."""
        try:
            why = RevocationReason(reason)
        except ValueError:
            raise Invalid(
                "Lý do thu hồi không hợp lệ.", {"reason": ", ".join(r.value for r in RevocationReason)}
            ) from None
        now = self.clock.now()
        when = at or now
        if when.tzinfo is None:
            raise Invalid("Thời điểm thu hồi cần có múi giờ.", {"at": "Ví dụ: 2021-03-15T10:00:00+07:00."})
        if when > now:
            raise Invalid(
                "Không thu hồi trước cho một thời điểm trong tương lai.",
                {"at": "Thời điểm thu hồi không được sau thời điểm hiện tại."},
            )
        async with write_transaction():
            row = await self._end_entity(serial)
            serial = row["serial"]
            if row["revoked_at"] is not None:
                raise Conflict("Chứng thư số này đã bị thu hồi.")
            await PkiCertificate.update(
                {PkiCertificate.revoked_at: when, PkiCertificate.revocation_reason: why.value}
            ).where(PkiCertificate.id == row["id"])
            await audit.record(
                self.clock,
                actor,
                AuditEntry(
                    "pki.revoke", "certificate", serial, details={"reason": why.value, "at": when.isoformat()}
                ),
            )
        return {"serial": serial, "revoked_at": when.isoformat(), "reason": why.value}

    async def ocsp(self, request_der: bytes) -> bytes:
        issuer, responder = await self.authority("intermediate"), await self.authority("ocsp")
        now = self.clock.now()
        try:
            asked = ocsp.load_der_ocsp_request(request_der).serial_number
        except Exception:  # noqa: BLE001 - ocsp_respond answers malformedRequest itself
            asked = None
        found = None
        if asked is not None:
            found = await PkiCertificate.select().where(PkiCertificate.serial == f"{asked:x}").first()

        def lookup(serial: int) -> StatusAnswer:
            row = found if serial == asked else None
            if row is None or row["kind"] in ("root", "intermediate"):
                return StatusAnswer(CertStatus.UNKNOWN)
            cert = x509.load_der_x509_certificate(bytes(row["cert_der"]))
            if row["revoked_at"] is not None and row["revoked_at"] <= now:
                return StatusAnswer(
                    CertStatus.REVOKED,
                    cert,
                    Revoked(serial, row["revoked_at"], RevocationReason(row["revocation_reason"])),
                )
            return StatusAnswer(CertStatus.GOOD, cert)

        return ocsp_respond(request_der, issuer, responder, lookup, now)

    async def timestamp(self, request_der: bytes) -> bytes:
        """RFC 3161: a granted token, or a rejection with the protocol's failure info."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            _ = request.native  # parse fully now: a broken request is the client's error
        except Exception:  # noqa: BLE001
            return _rejection("bad_data_format", "Yêu cầu dấu thời gian không hợp lệ")
        tsa, intermediate, root = [await self.authority(n) for n in ("tsa", "intermediate", "root")]
        stamper = CachedKeyTimeStamper(tsa, [intermediate.certificate, root.certificate], self.clock.now())
        try:
            response = await stamper.async_request_tsa_response(request)
        except Exception:  # noqa: BLE001 - e.g. an unsupported hash algorithm
            return _rejection("bad_alg", "Thuật toán băm không được hỗ trợ")
        return response.dump()


class StatusOnlyTimeStampResp(core.Sequence):
    """TimeStampResp without a token (asn1crypto's class insists on one)."""

    _fields = [("status", tsp.PKIStatusInfo)]


def _rejection(fail_info: str, text: str) -> bytes:
    return StatusOnlyTimeStampResp(
        {
            "status": {
                "status": "rejection",
                "fail_info": tsp.PKIFailureInfo({fail_info}),
                "status_string": [text],
            }
        }
    ).dump()
