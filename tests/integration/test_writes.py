"""Writes committed together (app/db/queries.Writes): on PostgreSQL one statement, on SQLite one
write transaction — either all of them are stored or none, a later write uses an earlier one's
row, and an audit event appended among them chains like any other."""

from datetime import datetime, timezone

import pytest

from app.db.queries import Writes
from app.db.tables import AuditEvent, Dossier, DossierDocument
from app.services import audit
from app.services.audit import Actor, AuditEntry
from app.domain.clock import ManualClock

NOW = datetime(2021, 3, 15, 2, 0, tzinfo=timezone.utc)


def _dossier(code: str, **more) -> dict:
    return {
        "code": code,
        "procedure_code": "2.000635",
        "receiving_unit": "000.01.60.H63",
        "channel": 2,
        "applicant_name": "Nguyễn Văn An",
        "form": "{}",
        "status": 1,
        "step_unit": "000.01.60.H63",
        "step_role": "reception",
        "submitted_at": NOW,
        "updated_at": NOW,
        **more,
    }


def _document(dossier_id, name: str) -> dict:
    return {
        "dossier_id": dossier_id,
        "kind": "upload",
        "key": "to_khai",
        "filename": name,
        "content_type": "application/pdf",
        "size": 1,
        "sha256": "0" * 64,
        "path": f"/nowhere/{name}",
        "created_at": NOW,
    }


async def test_a_later_write_takes_an_earlier_ones_row(backend):
    writes = Writes()
    dossier = writes.insert(
        Dossier, _dossier("W-REF-1"), returning=(Dossier.id, Dossier.code, Dossier.status)
    )
    writes.insert(
        DossierDocument,
        _document(writes.ref(dossier, Dossier.id), "a.pdf"),
        _document(writes.ref(dossier, Dossier.id), "b.pdf"),
    )
    append = audit.Append.of(
        ManualClock(NOW),
        Actor(username="tester", role="citizen"),
        AuditEntry("test.writes", "dossier", "W-REF-1", dossier_code="W-REF-1", details={"n": 1}),
    )
    event = writes.add(append)
    rows = await writes.commit(Dossier)

    stored = await Dossier.select(Dossier.id, Dossier.code).where(Dossier.code == "W-REF-1").first()
    assert rows[dossier] == {"id": stored["id"], "code": "W-REF-1", "status": 1}
    assert rows[1] is None  # nothing asked of it
    documents = await DossierDocument.select(DossierDocument.filename).where(
        DossierDocument.dossier_id == stored["id"]
    )
    assert sorted(d["filename"] for d in documents) == ["a.pdf", "b.pdf"]
    chained = await AuditEvent.select().where(AuditEvent.seq == rows[event]["seq"]).first()
    assert chained["hash"] == rows[event]["hash"] == audit.event_hash(append.event(rows[event]))
    assert chained["action"] == "test.writes" and chained["dossier_code"] == "W-REF-1"
    assert (await audit.verify_chain())[1] == []


async def test_none_is_stored_when_one_is_refused(backend):
    events_before = await AuditEvent.count()
    writes = Writes()
    writes.insert(Dossier, _dossier("W-ALL-1"))
    writes.add(audit.Append.of(ManualClock(NOW), Actor(username="tester"), AuditEntry("test.refused")))
    writes.insert(Dossier, _dossier("W-ALL-1"))  # the same code again: the unique key refuses it
    with pytest.raises(Exception) as refused:
        await writes.commit(Dossier)
    from app.db.engine import violates_unique

    assert violates_unique(refused.value, Dossier.code)
    assert await Dossier.count().where(Dossier.code == "W-ALL-1") == 0
    assert await AuditEvent.count() == events_before


def test_a_wanted_row_is_one_row():
    with pytest.raises(ValueError):
        Writes().insert(Dossier, _dossier("A"), _dossier("B"), returning=(Dossier.id,))


async def test_a_number_taken_in_the_statement_stands_in_every_later_text(backend):
    """DossierService.submit's writes: the day's number (DayNumber) comes as the statement runs,
    and a mark stands for it in the code, the messages and the audit event's canonical text —
    whose hash, computed by the database on PostgreSQL, still verifies from the row."""
    from app.db.tables import DossierCounter, Notification
    from app.services.dossiers import DayNumber

    key = "W-SPLICE|210315"
    await DossierCounter.insert(DossierCounter(key=key, last=41))
    writes = Writes()
    number = writes.add(DayNumber(key))
    mark = writes.splice(number, "digits")
    code = f"W-SPLICE-{mark}"
    dossier = writes.insert(Dossier, _dossier(code), returning=(Dossier.code,))
    writes.insert(
        Notification,
        {"dossier_code": code, "channel": "sms", "recipient": "0912345678", "subject": f"[{code}]",
         "body": f"Hồ sơ {code} đã gửi; tra cứu: /tra-cuu?ma={code}", "created_at": NOW},
    )  # fmt: skip
    append = audit.Append.of(
        ManualClock(NOW),
        Actor(username="tester"),
        AuditEntry("test.splice", "dossier", code, dossier_code=code),
    )
    event = writes.add(append)
    rows = await writes.commit(Dossier)

    assert rows[number] == {"digits": "0042"} and rows[dossier] == {"code": "W-SPLICE-0042"}
    message = await Notification.select().where(Notification.dossier_code == "W-SPLICE-0042").first()
    assert message["subject"] == "[W-SPLICE-0042]"
    assert message["body"] == "Hồ sơ W-SPLICE-0042 đã gửi; tra cứu: /tra-cuu?ma=W-SPLICE-0042"
    chained = await AuditEvent.select().where(AuditEvent.seq == rows[event]["seq"]).first()
    assert chained["object_id"] == chained["dossier_code"] == "W-SPLICE-0042"
    told = append.replacing(mark, rows[number]["digits"]).event(rows[event])
    assert told["dossier_code"] == "W-SPLICE-0042" and audit.event_hash(told) == chained["hash"]
    assert (await audit.verify_chain())[1] == []
    assert (await DossierCounter.select().where(DossierCounter.key == key).first())["last"] == 42


async def test_the_number_past_the_days_last_stores_nothing_and_uses_nothing(backend):
    from app.db.engine import violates_check
    from app.db.tables import DossierCounter
    from app.services.dossiers import DAY_NUMBERS_CHECK, DayNumber, DayNumbersExhausted

    key = "W-FULL|210315"
    await DossierCounter.insert(DossierCounter(key=key, last=9999))
    events_before = await AuditEvent.count()
    writes = Writes()
    mark = writes.splice(writes.add(DayNumber(key)), "digits")
    writes.insert(Dossier, _dossier(f"W-FULL-{mark}"))
    writes.add(audit.Append.of(ManualClock(NOW), Actor(username="tester"), AuditEntry("test.full")))
    with pytest.raises(Exception) as refused:
        await writes.commit(Dossier)
    assert isinstance(refused.value, DayNumbersExhausted) or violates_check(refused.value, DAY_NUMBERS_CHECK)
    assert await Dossier.count().where(Dossier.code.like("W-FULL-%")) == 0
    assert await AuditEvent.count() == events_before
    assert (await DossierCounter.select().where(DossierCounter.key == key).first())["last"] == 9999
