"""The tamper-evident audit trail: append-only events chained by SHA-256.

Each event's hash covers its own content and the previous event's hash, so an
edited or deleted row breaks the chain at that point. ``record()`` must be
called inside the write transaction of the state change it documents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from app.db.queries import Writes, insert_rows, replaced, run, select_by
from app.db.tables import AuditEvent
from app.domain.clock import Clock

GENESIS = "0" * 64
#: The canonical form's encoder, made once (``json.dumps`` with options builds one per call;
#: the output is the same, and bulk loads hash millions of events).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
#: Arbitrary constant: the PostgreSQL advisory lock that serialises chain appends (taken by
#: audit_append, migration 0012, and by the bulk loader).
_CHAIN_LOCK = 761_018
_CHAIN_HEAD = 'SELECT "seq", "hash" FROM "audit_event" ORDER BY "seq" DESC LIMIT 1'
#: PostgreSQL: audit_append's arguments after the canonical text's parts, in its order.
_APPENDED = (
    "at", "actor_id", "actor", "actor_role", "action", "object_type", "object_id",
    "dossier_code", "status_before", "status_after", "details", "ip",
)  # fmt: skip
_APPEND = (
    'SELECT "seq", "prev_hash", "hash" FROM audit_append(' + ", ".join(["{}"] * (2 + len(_APPENDED))) + ")"
)
#: A dossier's events in order, without or with the views of it (the detail page's history).
_HISTORY = select_by(
    AuditEvent, AuditEvent.dossier_code, tail=' AND "action" <> \'dossier.view\' ORDER BY "seq"'
)
_HISTORY_WITH_VIEWS = select_by(AuditEvent, AuditEvent.dossier_code, tail=' ORDER BY "seq"')


@dataclass(frozen=True)
class Actor:
    id: int | None = None
    username: str = ""
    role: str = ""
    ip: str = ""


SYSTEM = Actor(username="system", role="system")


@dataclass(frozen=True)
class AuditEntry:
    action: str
    object_type: str = ""
    object_id: str = ""
    dossier_code: str | None = None
    status_before: int | None = None
    status_after: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _content(row: dict[str, Any]) -> dict[str, Any]:
    """What the hash covers besides the event's place in the chain (``seq``, ``prev_hash``)."""
    at = row["at"]
    return {
        # UTC, so the hash recomputes identically from what either database returns.
        "at": at.astimezone(timezone.utc).isoformat() if isinstance(at, datetime) else str(at),
        "actor_id": row["actor_id"],
        "actor": row["actor"],
        "actor_role": row["actor_role"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "dossier_code": row["dossier_code"],
        "status_before": row["status_before"],
        "status_after": row["status_after"],
        "details": row["details"] if isinstance(row["details"], dict) else json.loads(row["details"] or "{}"),
        "ip": row["ip"],
    }


def _canonical(row: dict[str, Any]) -> bytes:
    return _CANONICAL.encode({**_content(row), "seq": row["seq"], "prev_hash": row["prev_hash"]}).encode()


def canonical_around_place(row: dict[str, Any]) -> tuple[str, str]:
    """The canonical text before and after the event's place in the chain: with its keys
    sorted, ``"prev_hash"`` and ``"seq"`` come next to each other, so the canonical text is
    ``head + ',"prev_hash":"' + prev_hash + '","seq":' + seq + ',' + tail`` (tested), which
    PostgreSQL's ``audit_append`` completes under the chain's lock."""
    content = _content(row)
    head = _CANONICAL.encode({k: v for k, v in content.items() if k < "prev_hash"})
    tail = _CANONICAL.encode({k: v for k, v in content.items() if k > "seq"})
    return head[:-1], tail[1:]


def event_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(row)).hexdigest()


async def record(clock: Clock, actor: Actor, entry: AuditEntry) -> dict[str, Any]:
    """Append one event. Call inside the caller's write transaction."""
    append = Append.of(clock, actor, entry)
    writes = Writes()  # on PostgreSQL one round trip under the chain's lock (migration 0012)
    step = writes.add(append)
    return append.event((await writes.commit(AuditEvent))[step])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Append:
    """An event appended to the chain, as a step of ``app.db.queries.Writes`` (or alone:
    ``record``). ``event(place)`` is the event as stored, from the place the append returns."""

    row: dict[str, Any]
    returning = ("seq", "prev_hash", "hash")

    @classmethod
    def of(cls, clock: Clock, actor: Actor, entry: AuditEntry) -> Append:
        return cls(
            {
                "at": clock.now(),
                "actor_id": actor.id,
                "actor": actor.username,
                "actor_role": actor.role,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "dossier_code": entry.dossier_code,
                "status_before": entry.status_before,
                "status_after": entry.status_after,
                "details": entry.details,
                "ip": actor.ip,
            }
        )

    def clause(self) -> tuple[str, list[Any]]:
        """PostgreSQL: ``audit_append`` completes the canonical text under the chain's lock."""
        head, tail = canonical_around_place(self.row)
        stored = {**self.row, "details": _details(self.row)}
        return _APPEND, [head, tail, *(stored[c] for c in _APPENDED)]

    async def run(self, earlier: Any) -> dict[str, Any]:
        """SQLite: the write transaction holds the database's one write lock already."""
        last = next(iter(await run(AuditEvent, _CHAIN_HEAD)), None)
        place = {"seq": (last["seq"] + 1) if last else 1, "prev_hash": last["hash"] if last else GENESIS}
        place["hash"] = event_hash({**self.row, **place})
        await insert_rows(AuditEvent, {**self.row, **place, "details": _details(self.row)})
        return place

    def event(self, place: dict[str, Any]) -> dict[str, Any]:
        return {**self.row, **place}

    def replacing(self, mark: str, text: str) -> Append:
        """The event with ``text`` for a ``Writes.splice`` mark in its text (not its details)."""
        return Append(replaced(self.row, mark, text))


def _details(row: dict[str, Any]) -> str:
    return json.dumps(row["details"], ensure_ascii=False)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


async def verify_chain(batch: int = 5000) -> tuple[int, list[ChainBreak]]:
    """Walk the whole chain; return the number of events and every break found."""
    breaks: list[ChainBreak] = []
    prev_hash, prev_seq, count, after = GENESIS, 0, 0, 0
    while True:
        rows = await AuditEvent.select().where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        if not rows:
            break
        for row in rows:
            count += 1
            if row["seq"] != prev_seq + 1:
                breaks.append(ChainBreak(prev_seq + 1, "missing (deleted) event"))
            if row["prev_hash"] != prev_hash:
                breaks.append(ChainBreak(row["seq"], "does not link to the previous event"))
            if event_hash(row) != row["hash"]:
                breaks.append(ChainBreak(row["seq"], "content altered after it was written"))
            prev_hash, prev_seq = row["hash"], row["seq"]
        after = rows[-1]["seq"]
    return count, breaks


async def list_events(
    *, dossier_code: str | None = None, before_seq: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Newest first; keyset pagination on ``seq``."""
    query = AuditEvent.select().order_by(AuditEvent.seq, ascending=False).limit(limit)
    if dossier_code:
        query = query.where(AuditEvent.dossier_code == dossier_code)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    return _with_details(await query)


async def dossier_history(code: str, *, include_views: bool = False) -> list[dict[str, Any]]:
    """A dossier's events, oldest first (viewing is audited too, but is not history)."""
    return _with_details(await run(AuditEvent, _HISTORY_WITH_VIEWS if include_views else _HISTORY, code))


def _with_details(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"] or "{}")
    return rows
