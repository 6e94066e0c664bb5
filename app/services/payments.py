"""Online fee payment through a simulated gateway (the portal's own pages under /pay).

Like GOV.UK Pay: the portal creates a payment, the citizen is sent to the gateway's
page, the gateway reports the outcome by a callback signed with HMAC-SHA256, and the
portal checks the signature. Final states: succeeded, failed, cancelled, expired
(90 minutes). A callback is idempotent: the same outcome again changes nothing; a
different outcome for a finished payment is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.db.engine import write_transaction
from app.db.tables import Dossier, Payment
from app.domain.lifecycle import Action, Status
from app.services import audit, rollup
from app.services.accounts import UserView
from app.services.audit import AuditEntry
from app.services.dossiers import DossierService
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

EXPIRY = timedelta(minutes=90)
FINAL = {"succeeded", "failed", "cancelled", "expired"}
STATE_LABELS = {
    "created": "Đang chờ thanh toán",
    "succeeded": "Thành công",
    "failed": "Thất bại",
    "cancelled": "Đã hủy",
    "expired": "Hết hạn",
}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class PaymentService:
    dossiers: DossierService
    secret: str

    async def create(self, code: str, user: UserView, ip: str = "") -> dict[str, Any]:
        row = await self.dossiers.load_row(code)
        if user.id != row["applicant_id"]:
            raise Forbidden("Chỉ người nộp hồ sơ được thanh toán trực tuyến cho hồ sơ này.")
        if not row["fee_due"] or row["paid"]:
            raise Conflict("Hồ sơ không có khoản phí, lệ phí chờ thanh toán.")
        if Status(row["status"]).is_terminal:
            raise Conflict("Hồ sơ đã kết thúc, không thể thanh toán.")
        now = self.dossiers.clock.now()
        reference = "PAY-" + secrets.token_hex(8).upper()
        async with write_transaction():
            await Payment.insert(
                Payment(
                    reference=reference,
                    dossier_code=code,
                    amount=row["fee_total"],
                    created_at=now,
                    created_by=user.id,
                )
            )
            await audit.record(
                self.dossiers.clock,
                audit.Actor(user.id, user.username, user.role.value, ip),
                AuditEntry(
                    "payment.create",
                    "payment",
                    reference,
                    dossier_code=code,
                    details={"amount": row["fee_total"]},
                ),
            )
        return await self.get(reference)

    async def get(self, reference: str) -> dict[str, Any]:
        row = await Payment.select().where(Payment.reference == reference).first()
        if row is None:
            raise NotFound("Không tìm thấy giao dịch thanh toán.")
        if row["state"] == "created" and self.dossiers.clock.now() - row["created_at"] > EXPIRY:
            await self._finish(row, "expired")
            row = await Payment.select().where(Payment.reference == reference).first()
        return {
            "reference": row["reference"],
            "dossier_code": row["dossier_code"],
            "amount": row["amount"],
            "state": row["state"],
            "state_name": STATE_LABELS[row["state"]],
            "created_at": row["created_at"].isoformat(),
            "next_url": f"/pay/{row['reference']}",
            "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        }

    def callback_body(self, reference: str, state: str, amount: int) -> bytes:
        """What the gateway posts back (also used by the gateway's own pages)."""
        return json.dumps({"reference": reference, "state": state, "amount": amount}, sort_keys=True).encode()

    async def handle_callback(self, body: bytes, signature: str) -> dict[str, Any]:
        if not hmac.compare_digest(sign(self.secret, body), signature or ""):
            raise Unauthorized("Chữ ký của cổng thanh toán không hợp lệ.")
        try:
            message = json.loads(body)
            reference, state, amount = message["reference"], message["state"], int(message["amount"])
        except (ValueError, KeyError, TypeError):
            raise Invalid("Nội dung thông báo thanh toán không hợp lệ.") from None
        if state not in FINAL - {"expired"}:
            raise Invalid(f"Trạng thái thanh toán không hợp lệ: {state}.")
        row = await Payment.select().where(Payment.reference == reference).first()
        if row is None:
            raise NotFound("Không tìm thấy giao dịch thanh toán.")
        if amount != row["amount"]:
            raise Invalid("Số tiền không khớp với giao dịch.")
        if row["state"] == state:
            return await self.get(reference)  # a replayed callback: already done
        if row["state"] in FINAL:
            raise Conflict(f"Giao dịch đã kết thúc ({STATE_LABELS[row['state']]}).")
        await self._finish(row, state)
        return await self.get(reference)

    async def _finish(self, row: dict, state: str) -> None:
        clock = self.dossiers.clock
        async with write_transaction(), rollup.tracked(row["dossier_code"]):
            updated = (
                await Payment.update({Payment.state: state, Payment.finished_at: clock.now()})
                .where((Payment.id == row["id"]) & (Payment.state == "created"))
                .returning(Payment.id)
            )
            if not updated:
                return
            await audit.record(
                clock,
                audit.SYSTEM,
                AuditEntry(f"payment.{state}", "payment", row["reference"], dossier_code=row["dossier_code"]),
            )
        if state == "succeeded":
            paid = await Dossier.select(Dossier.paid).where(Dossier.code == row["dossier_code"]).first()
            if paid and not paid["paid"]:
                await self.dossiers.system_action(row["dossier_code"], Action.PAY)
