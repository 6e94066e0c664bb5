"""Signing results: certificates issued on demand, PAdES B-LT off the event loop.

The leader signs with a personal certificate (blue signature between title and name), then
a clerk applies the agency's seal certificate (red seal over the left third of it), each an
incremental update (Decree 30/2020 Phụ lục I §5.3).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from app.db.engine import write_transaction
from app.db.tables import PkiCertificate
from app.documents.forms import RESULT_LAYOUT, render_artwork
from app.domain.directory import UnitRecord
from app.services.accounts import UserView
from app.services.pki import PkiService
from signing.pades import (
    Appearance,
    CachedKeySigner,
    CachedKeyTimeStamper,
    Revocation,
    SignatureSpec,
    sign_pdf,
)
from signing.pki import Issued, Kind, SubjectSpec, issue_end_entity

ROLE_TITLES = {"leader": "Lãnh đạo", "clerk": "Văn thư"}


def synthetic_cccd(user_id: int, province_prefix: str = "015") -> str:
    """Officers' seeded accounts carry no CCCD; their simulated certificates get a stable one."""
    return f"{province_prefix}080{user_id:06d}"


def synthetic_mns(unit_code: str) -> str:
    """A stable 7-digit budget-relationship code (mã quan hệ ngân sách) for a simulated unit."""
    return f"{int(hashlib.sha256(unit_code.encode()).hexdigest(), 16) % 9_000_000 + 1_000_000}"


@dataclass
class SigningService:
    pki: PkiService
    artwork_dir: Path

    async def _stored(
        self, *, unit_code: str | None = None, user_id: int | None = None, kind: Kind
    ) -> Issued | None:
        query = PkiCertificate.select().where(
            (PkiCertificate.kind == kind.value) & PkiCertificate.revoked_at.is_null()
        )
        query = (
            query.where(PkiCertificate.user_id == user_id)
            if user_id is not None
            else query.where(PkiCertificate.unit_code == unit_code)
        )
        row = await query.order_by(PkiCertificate.id, ascending=False).first()
        if row is None:
            return None
        cert = x509.load_der_x509_certificate(bytes(row["cert_der"]))
        if cert.not_valid_after_utc <= self.pki.clock.now():
            return None
        return Issued(kind, cert, self.pki.private_key(row["key_pem"]))

    async def personal(self, user: UserView, unit: UnitRecord) -> Issued:
        if (issued := await self._stored(user_id=user.id, kind=Kind.PERSONAL)) is not None:
            return issued
        ca = await self.pki.authority("intermediate")
        issued = issue_end_entity(
            ca,
            Kind.PERSONAL,
            SubjectSpec(
                user.full_name,
                organization=unit.name,
                title=ROLE_TITLES.get(user.role.value, ""),
                uids=(f"CCCD:{synthetic_cccd(user.id)}",),
            ),
            self.pki.endpoints,
            self.pki.clock.now(),
        )
        async with write_transaction():
            await self.pki.store(issued, user_id=user.id, unit_code=unit.code)
        return issued

    async def seal(self, unit: UnitRecord) -> Issued:
        if (issued := await self._stored(unit_code=unit.code, kind=Kind.SEAL)) is not None:
            return issued
        ca = await self.pki.authority("intermediate")
        issued = issue_end_entity(
            ca,
            Kind.SEAL,
            SubjectSpec(unit.name, organization=unit.name, uids=(f"MNS:{synthetic_mns(unit.code)}",)),
            self.pki.endpoints,
            self.pki.clock.now(),
        )
        async with write_transaction():
            await self.pki.store(issued, unit_code=unit.code)
        return issued

    async def revocation(self, signer: Issued) -> Revocation:
        root, intermediate, tsa = [await self.pki.authority(n) for n in ("root", "intermediate", "tsa")]
        answers = []
        for cert in (signer.certificate, tsa.certificate):
            request = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(cert, intermediate.certificate, hashes.SHA1())
                .build()
            )
            answers.append(await self.pki.ocsp(request.public_bytes(serialization.Encoding.DER)))
        responder = await self.pki.authority("ocsp")
        return Revocation(
            (root.certificate,),
            (intermediate.certificate, responder.certificate),
            (await self.pki.crl("intermediate"), await self.pki.crl("root")),
            tuple(answers),
        )

    def _artwork(self, kind: str, text: str) -> str:
        pdf = render_artwork(kind, text)
        path = self.artwork_dir / f"{kind}-{hashlib.sha256(pdf).hexdigest()[:16]}.pdf"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pdf)
        return str(path)

    async def seal_form(self, pdf: bytes, *, issued: Issued, place: str, at: datetime) -> bytes:
        """Forms 01–05 carry the unit's seal signature, without an image (Decree 30/2020
        Phụ lục I §5.3 for separate files)."""
        root, intermediate, tsa = [await self.pki.authority(n) for n in ("root", "intermediate", "tsa")]
        chain = [intermediate.certificate, root.certificate]
        revocation = await self.revocation(issued)
        spec = SignatureSpec(field_name="ChuKyCoQuan", reason="Ký số phiếu", location=place)
        signer = CachedKeySigner(issued, chain)
        stamper = CachedKeyTimeStamper(tsa, chain, at + timedelta(seconds=1))
        return await asyncio.to_thread(
            lambda: asyncio.run(sign_pdf(pdf, spec, signer, stamper, revocation, at))
        )

    async def sign(
        self, pdf: bytes, *, as_seal: bool, issued: Issued, display: str, place: str, at: datetime
    ) -> bytes:
        """One visible PAdES B-LT signature, computed in a worker thread (CPU-bound)."""
        root, intermediate, tsa = [await self.pki.authority(n) for n in ("root", "intermediate", "tsa")]
        chain = [intermediate.certificate, root.certificate]
        revocation = await self.revocation(issued)
        layout = RESULT_LAYOUT
        spec = SignatureSpec(
            field_name="ChuKyCoQuan" if as_seal else "ChuKyLanhDao",
            reason="Đóng dấu cơ quan" if as_seal else "Phê duyệt",
            location=place,
            appearance=Appearance(
                0,
                layout.seal_box if as_seal else layout.signature_box,
                self._artwork("seal" if as_seal else "signature", display),
            ),
        )
        signer = CachedKeySigner(issued, chain)
        stamper = CachedKeyTimeStamper(tsa, chain, at + timedelta(seconds=1))

        def run() -> bytes:
            return asyncio.run(sign_pdf(pdf, spec, signer, stamper, revocation, at))

        return await asyncio.to_thread(run)
