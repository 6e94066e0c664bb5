"""The outbox's delivery (app/services/notifications.deliver_pending): every waiting message
handed to the sender once, however many there are and however many server processes deliver
at the same time; a claim whose process died is taken again after the lease; a failed send is
marked and does not stop the others; the waiting ones are found along their partial index."""

import asyncio
from datetime import datetime, timedelta, timezone

from app.db.queries import insert_rows, run
from app.db.tables import Notification
from app.services import notifications
from app.services.notifications import CLAIM_LEASE, deliver_pending

NOW = datetime(2021, 3, 15, 2, 0, tzinfo=timezone.utc)


class CountingSender:
    """Remembers what it was handed; refuses the recipients in ``refuse``; lets other tasks
    run between two sends, as a sender waiting on the network would."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.sent: list[str] = []
        self.refuse = refuse

    async def send(self, channel: str, recipient: str, subject: str, body: str) -> bool:
        await asyncio.sleep(0)
        self.sent.append(recipient)
        return recipient not in self.refuse


async def _drained() -> None:
    """Nothing left waiting from earlier tests (the shared database's submissions)."""
    await deliver_pending(notifications.RecordingSender(), NOW)


async def _write(prefix: str, count: int, **more) -> list[str]:
    recipients = [f"{prefix}.{n}@example.vn" for n in range(count)]
    await insert_rows(
        Notification,
        *[
            {
                "dossier_code": f"OUTBOX-{prefix}",
                "channel": "email",
                "recipient": r,
                "subject": "Thông báo",
                "body": "Hồ sơ của ông/bà đã được tiếp nhận.",
                "created_at": NOW,
                **more,
            }
            for r in recipients
        ],
    )
    return recipients


async def _statuses(prefix: str) -> dict[str, tuple[str, datetime | None]]:
    rows = await Notification.select(Notification.recipient, Notification.status, Notification.sent_at).where(
        Notification.dossier_code == f"OUTBOX-{prefix}"
    )
    return {r["recipient"]: (r["status"], r["sent_at"]) for r in rows}


async def test_a_backlog_larger_than_a_batch_is_delivered_whole(backend):
    await _drained()
    recipients = await _write("backlog", 23)
    sender = CountingSender()
    later = NOW + timedelta(minutes=1)
    assert await deliver_pending(sender, later, batch=5) == 23
    assert sender.sent == recipients  # oldest first, each once
    assert set((await _statuses("backlog")).values()) == {("sent", later)}
    assert await deliver_pending(sender, later, batch=5) == 0


async def test_two_processes_delivering_at_once_send_each_message_once(backend):
    await _drained()
    recipients = await _write("together", 40)
    first, second = CountingSender(), CountingSender()
    handled = await asyncio.gather(
        deliver_pending(first, NOW, batch=4), deliver_pending(second, NOW, batch=4)
    )
    assert sum(handled) == 40
    assert sorted(first.sent + second.sent) == sorted(recipients)  # none twice, none missed
    assert {s for s, _ in (await _statuses("together")).values()} == {"sent"}


async def test_a_claim_left_unmarked_is_taken_again_after_the_lease(backend):
    await _drained()
    # Claimed by a process that died before marking them: one within the lease, one past it.
    [recent] = await _write("claimed-recent", 1, status="sending", sent_at=NOW - CLAIM_LEASE / 2)
    [stale] = await _write("claimed-stale", 1, status="sending", sent_at=NOW - CLAIM_LEASE * 2)
    sender = CountingSender()
    assert await deliver_pending(sender, NOW) == 1
    assert sender.sent == [stale]
    assert (await _statuses("claimed-recent"))[recent] == ("sending", NOW - CLAIM_LEASE / 2)
    assert await deliver_pending(sender, NOW + CLAIM_LEASE) == 1  # its lease over
    assert sender.sent == [stale, recent]


async def test_a_refused_message_is_marked_failed_and_the_others_go_on(backend):
    await _drained()
    recipients = await _write("refused", 3)
    sender = CountingSender(refuse=frozenset({recipients[1]}))
    assert await deliver_pending(sender, NOW) == 3
    assert sender.sent == recipients
    statuses = await _statuses("refused")
    assert [statuses[r][0] for r in recipients] == ["sent", "failed", "sent"]
    assert await deliver_pending(sender, NOW + CLAIM_LEASE * 2) == 0  # failed is final


async def test_the_recording_sender_marks_recorded(backend):
    await _drained()
    await _write("recorded", 2)
    assert await deliver_pending(notifications.RecordingSender(), NOW) == 2
    assert {s for s, _ in (await _statuses("recorded")).values()} == {"recorded"}


async def test_waiting_messages_are_found_along_their_partial_index(backend):
    kind, _ = backend
    claim = notifications._CLAIM_POSTGRES if kind == "postgres" else notifications._CLAIM_SQLITE
    select = claim[claim.index("SELECT") : claim.rindex(")")]
    if kind == "postgres":
        async with Notification._meta.db.transaction():  # one connection for both
            await run(Notification, "SET LOCAL enable_seqscan = off")  # the table small: as if large
            plan = await run(Notification, "EXPLAIN " + select, NOW, 10)
        text = "\n".join(r["QUERY PLAN"] for r in plan)
    else:
        plan = await run(Notification, "EXPLAIN QUERY PLAN " + select, NOW, 10)
        text = "\n".join(r["detail"] for r in plan)
    assert "notification_outbox" in text, text
