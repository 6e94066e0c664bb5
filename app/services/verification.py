"""Verifying a PDF against the portal's PKI, and recognising the results the portal issued."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from app.db.tables import Dossier, DossierDocument
from app.domain.dossier_code import DOSSIER_CODE
from app.services.pki import PkiService
from signing.verify import MAX_BYTES, verify_pdf

CODE_IN_TEXT = re.compile(DOSSIER_CODE.pattern.strip("^$").encode())

INDICATION_LABELS = {
    "TOTAL_PASSED": "Hợp lệ",
    "INDETERMINATE": "Chưa xác định được",
    "TOTAL_FAILED": "Không hợp lệ",
}


@dataclass
class VerificationService:
    pki: PkiService

    async def verify(self, data: bytes) -> dict[str, Any]:
        if len(data) > MAX_BYTES:
            return {
                "indication": "TOTAL_FAILED",
                "sub_indication": "FORMAT_FAILURE",
                "problem": f"Tệp vượt quá {MAX_BYTES // (1024 * 1024)} MB.",
                "signatures": [],
            }
        root = x509.load_der_x509_certificate(await self.pki.certificate("root"))
        crls = [await self.pki.crl("intermediate"), await self.pki.crl("root")]
        now = self.pki.clock.now()

        def run():
            return asyncio.run(verify_pdf(data, [root], now=now, current_crls=crls))

        report = (await asyncio.to_thread(run)).as_dict()
        report["indication_label"] = INDICATION_LABELS[report["indication"]]
        report["issued_by_portal"] = await self.recognise(data)
        return report

    async def recognise(self, data: bytes) -> dict[str, Any] | None:
        """Which dossier's result this is, and whether the bytes are exactly those issued."""
        digest = hashlib.sha256(data).hexdigest()
        exact = (
            await DossierDocument.select(DossierDocument.dossier_id)
            .where((DossierDocument.sha256 == digest) & (DossierDocument.kind == "result"))
            .first()
        )
        if exact:
            row = await Dossier.select(Dossier.code).where(Dossier.id == exact["dossier_id"]).first()
            return {"dossier_code": row["code"], "matches": True}
        # Not the issued bytes: is it a (modified) copy of one? The document's title names the dossier.
        for match in CODE_IN_TEXT.finditer(data[:200_000]):
            code = match.group(0).decode()
            row = await Dossier.select(Dossier.id).where(Dossier.code == code).first()
            if row and await DossierDocument.exists().where(
                (DossierDocument.dossier_id == row["id"]) & (DossierDocument.kind == "result")
            ):
                return {"dossier_code": code, "matches": False}
        return None

    async def document(self, code: str) -> dict[str, Any] | None:
        """What the QR code shows: the issued result's metadata, no personal data."""
        row = (
            await Dossier.select(
                Dossier.id, Dossier.code, Dossier.procedure_code, Dossier.receiving_unit, Dossier.status
            )
            .where(Dossier.code == code)
            .first()
        )
        if row is None:
            return None
        issued = (
            await DossierDocument.select()
            .where((DossierDocument.dossier_id == row["id"]) & (DossierDocument.kind == "result"))
            .order_by(DossierDocument.id, ascending=False)
            .first()
        )
        return {"dossier": row, "issued": issued}
