"""The outbox: messages are written in the state change's transaction; a sender delivers them.

The default sender only records (status "recorded"): a simulator sends nothing real.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Protocol

from app.db.dialect import Dialect
from app.db.engine import engine_name, write_transaction
from app.db.queries import run
from app.db.tables import Notification
from app.domain.messages import Message


@functools.cache
def waiting_sql(dialect: str) -> str:
    """The oldest messages not yet handed on, along the partial index notification_outbox
    (migration 0019), each its batch's until the transaction ends: one another server
    process's batch holds is skipped, not waited for."""
    return (
        'SELECT "id", "channel", "recipient", "subject", "body" FROM "notification" '
        'WHERE "status" = \'pending\' ORDER BY "id" LIMIT {}' + Dialect(dialect).skip_locked()
    )


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

    A batch at a time, each in one write transaction: read, handed on, marked. Two server
    processes never send one message twice (PostgreSQL's row locks, skipped by the other;
    SQLite's one writer at a time), and a batch whose transaction does not commit (the process
    stopped, the sender raised) stays pending for the next tick: at least once, never lost.
    It runs until none is left: 200 a tick fell behind a busy hour's submissions, two messages
    each. (A sender that waits on the network holds SQLite's writers for its batch: give it a
    smaller ``batch`` there.)"""
    status = "recorded" if isinstance(sender, RecordingSender) else "sent"
    waiting = waiting_sql(engine_name())
    handled = 0
    while True:
        async with write_transaction():
            rows = await run(Notification, waiting, batch)
            outcome: dict[str, list[int]] = {status: [], "failed": []}
            for row in rows:
                ok = await sender.send(row["channel"], row["recipient"], row["subject"], row["body"])
                outcome[status if ok else "failed"].append(row["id"])
            for marked, ids in outcome.items():
                if ids:
                    changes = {Notification.status: marked, Notification.sent_at: now}
                    await Notification.update(changes).where(Notification.id.is_in(ids))
        handled += len(rows)
        if len(rows) < batch:
            return handled


async def for_dossier(code: str) -> list[dict]:
    return await Notification.select().where(Notification.dossier_code == code).order_by(Notification.id)
