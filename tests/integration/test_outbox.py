"""The outbox's delivery (app/services/notifications.deliver_pending): every pending message
handed to the sender once, however many there are and however many server processes deliver
at the same time; a batch cut short stays pending (at least once, never lost); a refused send
is marked and does not stop the others; the pending ones are found along their partial index."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from app.db.queries import insert_rows, run
from app.db.tables import Notification
from app.services import notifications
from app.services.notifications import deliver_pending

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


class BrokenSender(CountingSender):
    """Fails (raises, as a lost connection to the mail server would) at its ``after``-th send."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    async def send(self, channel: str, recipient: str, subject: str, body: str) -> bool:
        if len(self.sent) == self.after:
            raise ConnectionError("mail server gone")
        return await super().send(channel, recipient, subject, body)


async def test_a_batch_cut_short_stays_pending_for_the_next_tick(backend):
    await _drained()
    recipients = await _write("cut-short", 7)
    broken = BrokenSender(after=5)
    with pytest.raises(ConnectionError):
        await deliver_pending(broken, NOW, batch=3)
    # The first batch was marked; the second stopped midway and left all of its messages
    # pending (at least once: the two it handed on go again), the third was never read.
    assert broken.sent == recipients[:5]
    statuses = await _statuses("cut-short")
    assert [statuses[r][0] for r in recipients] == ["sent"] * 3 + ["pending"] * 4
    again = CountingSender()
    assert await deliver_pending(again, NOW, batch=3) == 4
    assert again.sent == recipients[3:]


async def test_a_refused_message_is_marked_failed_and_the_others_go_on(backend):
    await _drained()
    recipients = await _write("refused", 3)
    sender = CountingSender(refuse=frozenset({recipients[1]}))
    assert await deliver_pending(sender, NOW) == 3
    assert sender.sent == recipients
    statuses = await _statuses("refused")
    assert [statuses[r][0] for r in recipients] == ["sent", "failed", "sent"]
    assert await deliver_pending(sender, NOW) == 0  # failed is final


async def test_the_recording_sender_marks_recorded(backend):
    await _drained()
    await _write("recorded", 2)
    assert await deliver_pending(notifications.RecordingSender(), NOW) == 2
    assert {s for s, _ in (await _statuses("recorded")).values()} == {"recorded"}


async def test_waiting_messages_are_found_along_their_partial_index(backend):
    kind, _ = backend
    select = notifications.waiting_sql(kind)
    if kind == "postgres":
        async with Notification._meta.db.transaction():  # one connection for both
            await run(Notification, "SET LOCAL enable_seqscan = off")  # the table small: as if large
            plan = await run(Notification, "EXPLAIN " + select, 10)
        text = "\n".join(r["QUERY PLAN"] for r in plan)
    else:
        plan = await run(Notification, "EXPLAIN QUERY PLAN " + select, 10)
        text = "\n".join(r["detail"] for r in plan)
    assert "notification_outbox" in text, text
