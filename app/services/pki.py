"""The portal's simulated PKI: authorities kept in the database with their keys encrypted,
and the services relying parties call — certificates, CRLs, OCSP, RFC 3161 time-stamps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import core, tsp
from cryptography import x509
from cryptography.x509 import ocsp

from app.db.engine import current_engine, write_transaction
from app.db.tables import PkiCertificate
from app.domain.clock import Clock
from app.services import audit
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
    create_intermediate,
    create_root,
    create_service,
    decrypt_key,
    make_crl,
    ocsp_respond,
)

AUTHORITIES = ("root", "intermediate", "ocsp", "tsa")
#: A CRL is reissued every hour and valid for a day (configurable schedule [U]).
CRL_PERIOD = timedelta(hours=1)
CRL_VALIDITY = timedelta(days=1)
_cache: dict[str, Issued] = {}


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
        if key in _cache:
            return _cache[key]
        row = await PkiCertificate.select().where(PkiCertificate.name == name).first()
        if row is None:
            raise LookupError(name)
        issued = Issued(
            Kind(row["kind"]),
            x509.load_der_x509_certificate(bytes(row["cert_der"])),
            self.private_key(row["key_pem"]),
        )
        _cache[key] = issued
        return issued

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
            .where(PkiCertificate.name.is_not_null())
            .order_by(PkiCertificate.id)
        )
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
        return [
            {
                **r,
                "not_before": r["not_before"].isoformat(),
                "not_after": r["not_after"].isoformat(),
                "revoked_at": r["revoked_at"].isoformat() if r["revoked_at"] else None,
            }
            for r in await query.limit(limit)
        ]

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
        serial = serial.lower().removeprefix("0x")
        when = at or self.clock.now()
        async with write_transaction():
            row = await PkiCertificate.select().where(PkiCertificate.serial == serial).first()
            if row is None or row["kind"] not in ("seal", "personal"):
                raise NotFound(f"Không có chứng thư số sê-ri {serial}.")
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
            request.native  # parse fully now: a broken request is the client's error
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
