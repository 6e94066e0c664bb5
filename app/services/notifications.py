"""The outbox: messages are written in the state change's transaction; a sender delivers them.

The default sender only records (status "recorded"): a simulator sends nothing real.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, Protocol

from app.db.engine import engine_name, write_transaction
from app.db.queries import run
from app.db.tables import Notification
from app.domain.messages import Message

#: How long a message claimed for sending stays its claimer's: past it, a message still
#: "sending" (its process died before marking it) is claimed again, and may go out twice.
CLAIM_LEASE = timedelta(minutes=10)


def _claim(lock: str) -> str:
    """The oldest waiting messages — pending, or claimed longer than the lease ago — marked
    "sending" at once, found along the partial index notification_outbox (migration 0019)."""
    return (
        'UPDATE "notification" SET "status" = \'sending\', "sent_at" = {} WHERE "id" IN ('
        'SELECT "id" FROM "notification" WHERE "status" IN (\'pending\', \'sending\') '
        'AND ("status" = \'pending\' OR "sent_at" < {}) ORDER BY "id" LIMIT {}' + lock + ") "
        'RETURNING "id", "channel", "recipient", "subject", "body"'
    )


_CLAIM_POSTGRES = _claim(" FOR UPDATE SKIP LOCKED")  # another process's claim under way: skip it
_CLAIM_SQLITE = _claim("")  # one writer at a time


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


async def deliver_pending(sender: Sender, now: datetime, batch: int = 500) -> int:
    """Hand every pending message to the sender, oldest first; returns how many were handled.

    A batch at a time: claimed in one short write transaction (``sending``, ``sent_at`` the
    claim's time), sent outside any transaction (a real sender waits on the network; SQLite's
    writers would wait with it), then marked in a second one. Each server process runs this
    on its own tick: a claimed message is no other's to send (PostgreSQL's ``SKIP LOCKED``;
    SQLite has one writer at a time), and one whose sender died before marking it is claimed
    again after ``CLAIM_LEASE``. It runs until the outbox is empty: a few hundred messages a
    tick fell behind a busy hour's submissions, two messages each."""
    status = "recorded" if isinstance(sender, RecordingSender) else "sent"
    claim = _CLAIM_POSTGRES if engine_name() == "postgres" else _CLAIM_SQLITE
    handled = 0
    while True:
        async with write_transaction():
            claimed = await run(Notification, claim, now, now - CLAIM_LEASE, batch)
        if not claimed:
            return handled
        outcome: dict[str, list[int]] = {status: [], "failed": []}
        for row in sorted(claimed, key=itemgetter("id")):
            ok = await sender.send(row["channel"], row["recipient"], row["subject"], row["body"])
            outcome[status if ok else "failed"].append(row["id"])
        async with write_transaction():
            for marked, ids in outcome.items():
                if ids:
                    changes = {Notification.status: marked, Notification.sent_at: now}
                    await Notification.update(changes).where(Notification.id.is_in(ids))
        handled += len(claimed)
        if len(claimed) < batch:
            return handled


async def for_dossier(code: str) -> list[dict]:
    return await Notification.select().where(Notification.dossier_code == code).order_by(Notification.id)
