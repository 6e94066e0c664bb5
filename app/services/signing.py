"""Signing results: certificates issued on demand, PAdES B-LT in a signing process of its
own (signing/process.py), away from the event loop and its GIL.

The leader signs with a personal certificate (blue signature between title and name), then
a clerk applies the agency's seal certificate (red seal over the left third of it), each an
incremental update (Decree 30/2020 Phụ lục I §5.3).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from app.documents.forms import RESULT_LAYOUT, render_artwork
from app.domain.directory import UnitRecord
from app.services.accounts import UserView
from app.services.errors import Unavailable
from app.services.pki import PkiService
from signing.pades import Appearance, Revocation, SignatureSpec
from signing.pki import Issued
from signing.process import SignatureRefused, sign_elsewhere

log = logging.getLogger("portal.signing")


@dataclass
class SigningService:
    pki: PkiService
    artwork_dir: Path
    #: PAdES B-LTA: a document time-stamp over the signature and its validation data.
    lta: bool = False

    async def personal(self, user: UserView, unit: UnitRecord) -> Issued:
        """The signer's current certificate; one is issued the first time it is needed."""
        return await self.pki.personal_of(user, unit)

    async def seal(self, unit: UnitRecord) -> Issued:
        return await self.pki.seal_of(unit)

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

    async def seal_form(
        self, pdf: bytes, *, issued: Issued, place: str, at: datetime, reason: str = "Ký số phiếu"
    ) -> bytes:
        """Forms 01–05 carry the unit's seal signature, without an image (Decree 30/2020
        Phụ lục I §5.3 for separate files)."""
        spec = SignatureSpec(field_name="ChuKyCoQuan", reason=reason, location=place)
        return await self._signed(pdf, spec, issued, at)

    async def sign(
        self, pdf: bytes, *, as_seal: bool, issued: Issued, display: str, place: str, at: datetime
    ) -> bytes:
        """One visible PAdES B-LT signature, computed in the signing process (CPU-bound)."""
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
            lta=self.lta,
        )
        return await self._signed(pdf, spec, issued, at)

    async def _signed(self, pdf: bytes, spec: SignatureSpec, issued: Issued, at: datetime) -> bytes:
        """``pdf`` signed by ``issued`` as ``spec`` says, with the portal's time-stamp and the
        revocation data embedded, in the signing process (signing/process.py). A signature
        pyHanko refuses to make (a certificate or time-stamp that does not validate) is the
        service's failure, reported clearly and changing nothing."""
        root, intermediate, tsa = [await self.pki.authority(n) for n in ("root", "intermediate", "tsa")]
        chain = [intermediate.certificate, root.certificate]
        revocation = await self.revocation(issued)
        stamped_at = at + timedelta(seconds=1)
        try:
            return await sign_elsewhere(pdf, spec, issued, chain, tsa, stamped_at, revocation, at)
        except SignatureRefused as exc:
            log.error("signing failed: %s", exc)
            raise Unavailable(
                "Không ký số được: chứng thư số hoặc dịch vụ cấp dấu thời gian không hợp lệ lúc này."
                " Hồ sơ giữ nguyên trạng thái; vui lòng báo quản trị hệ thống."
            ) from exc
