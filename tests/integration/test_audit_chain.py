"""The audit chain as the services append to it, on both databases: on PostgreSQL the event's
place and hash are computed in SQL (audit_append, migration 0012) from the canonical text's
parts, and must be exactly what the Python definition (event_hash) gives."""

from __future__ import annotations

import asyncio
import json

from app.db.engine import write_transaction
from app.db.tables import AuditEvent
from app.domain.clock import ManualClock
from app.services import audit

#: Content that JSON escapes, or that is not ASCII: the canonical text is UTF-8, unescaped.
AWKWARD = {
    "lý do": ['Thiếu "bản sao"', "dòng 1\ndòng 2", "a\\b", "tab\there", "😀", ""],
    "số": [0, -1, 2**40, 1.5],
    "lồng": {"z": None, "a": True, "giữa": {"k": "v"}},
}


async def test_appended_events_link_and_hash_as_the_python_definition_says(backend):
    from datetime import datetime, timedelta, timezone

    clock = ManualClock(datetime(2021, 3, 15, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=7))))
    actors = [audit.Actor(id=n, username=f"cán.bộ.{n}", role="reception", ip="127.0.0.1") for n in range(6)]

    async def append(n: int) -> dict:
        async with write_transaction():
            return await audit.record(
                clock,
                actors[n],
                audit.AuditEntry(
                    "test.chain",
                    "dossier",
                    f"T-{n}",
                    dossier_code=None if n % 2 else f"T-{n}",
                    status_before=n % 3 or None,
                    status_after=4,
                    details={**AWKWARD, "n": n},
                ),
            )

    events = await asyncio.gather(*(append(n) for n in range(6)))  # concurrent writers
    try:
        seqs = sorted(e["seq"] for e in events)
        assert seqs == list(range(seqs[0], seqs[0] + 6))  # one place each, no gap
        by_seq = {e["seq"]: e for e in events}
        for seq in seqs[1:]:
            assert by_seq[seq]["prev_hash"] == by_seq[seq - 1]["hash"]
        stored = {r["seq"]: r for r in await AuditEvent.select().where(AuditEvent.action == "test.chain")}
        for e in events:
            assert audit.event_hash(e) == e["hash"] == stored[e["seq"]]["hash"]
            assert audit.event_hash(stored[e["seq"]]) == e["hash"]  # recomputed from the row as read
            assert json.loads(stored[e["seq"]]["details"]) == e["details"]
        count, breaks = await audit.verify_chain()
        assert breaks == [] and count >= 6
    finally:
        await AuditEvent.delete().where(AuditEvent.action == "test.chain")


def test_the_canonical_text_is_its_parts_around_the_events_place():
    from datetime import datetime, timezone

    row = {
        "at": datetime(2021, 3, 15, 2, 0, tzinfo=timezone.utc),
        "actor_id": None,
        "actor": 'Lò "Thị" Mai',
        "actor_role": "citizen",
        "action": "dossier.submit",
        "object_type": "dossier",
        "object_id": "X",
        "dossier_code": "X",
        "status_before": None,
        "status_after": 1,
        "details": AWKWARD,
        "ip": "::1",
    }
    head, tail = audit.canonical_around_place(row)
    for seq, prev in ((1, audit.GENESIS), (10**12, "ab" * 32)):
        whole = audit._canonical({**row, "seq": seq, "prev_hash": prev}).decode()
        assert whole == f'{head},"prev_hash":"{prev}","seq":{seq},{tail}'


async def test_the_chain_keeps_one_index_on_seq_and_it_stays_unique(backend):
    """Migration 0018 dropped the indexes no query needs (seq's duplicate, action's): seq is
    still unique, so two events can never take the same place in the chain."""
    from app.db.engine import engine_name, violates_unique

    if engine_name() == "postgres":
        rows = await AuditEvent.raw(
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'audit_event'"
        )
    else:
        rows = await AuditEvent.raw(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event'"
        )
    names = {r["name"] for r in rows}
    assert not names & {"audit_event_seq", "audit_event_action"}, names
    assert "audit_event_dossier_code" in names
    from datetime import datetime, timezone

    clock = ManualClock(datetime(2021, 3, 15, 2, 0, tzinfo=timezone.utc))
    async with write_transaction():
        event = await audit.record(clock, audit.SYSTEM, audit.AuditEntry("test.unique", "dossier", "U"))
    try:
        await AuditEvent.insert(AuditEvent(**{**event, "details": "{}"}))
    except Exception as error:  # noqa: BLE001 - which driver's error it is differs
        assert violates_unique(error, AuditEvent.seq), error
    else:
        raise AssertionError("a second event took the same seq")
