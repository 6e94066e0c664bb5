"""The outbox: messages are written in the state change's transaction; a sender delivers them.

The default sender only records (status "recorded"): a simulator sends nothing real.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from app.db.tables import Notification
from app.domain.messages import Message


class Sender(Protocol):
    async def send(self, channel: str, recipient: str, subject: str, body: str) -> bool: ...


class RecordingSender:
    async def send(self, channel: str, recipient: str, subject: str, body: str) -> bool:
        return True


def rows(
    message: Message, dossier_code: str, user_id: int | None, email: str, phone: str, now: datetime
) -> list[dict[str, Any]]:
    """The outbox's rows for ``message``: by e-mail and by SMS, where the person has them."""
    return [
        {
            "dossier_code": dossier_code,
            "user_id": user_id,
            "channel": channel,
            "recipient": recipient,
            "subject": message.subject,
            "body": body,
            "created_at": now,
        }
        for channel, recipient, body in (("email", email, message.body), ("sms", phone, message.sms))
        if recipient
    ]


async def deliver_pending(sender: Sender, now: datetime, limit: int = 200) -> int:
    """Hand pending messages to the sender; returns how many were handled."""
    pending = (
        await Notification.select()
        .where(Notification.status == "pending")
        .order_by(Notification.id)
        .limit(limit)
    )
    status = "recorded" if isinstance(sender, RecordingSender) else "sent"
    for row in pending:
        ok = await sender.send(row["channel"], row["recipient"], row["subject"], row["body"])
        await Notification.update(
            {Notification.status: status if ok else "failed", Notification.sent_at: now}
        ).where(Notification.id == row["id"])
    return len(pending)


async def for_dossier(code: str) -> list[dict]:
    return await Notification.select().where(Notification.dossier_code == code).order_by(Notification.id)
