"""The simulator writing into a database (both kinds): the history passes the audit-chain
check, the dashboards' SQL shows the figures the run counted in memory, and the portal goes
on from it — a live officer acts on a simulated dossier still open at the end."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import msgspec
import pytest

from app.db.tables import AuditEvent, Dossier
from app.domain.clock import VN_TZ, ManualClock
from app.domain.periods import covering
from app.services import rollup
from app.services.audit import verify_chain
from app.services.calendar import default_calendar
from app.services.catalogue import CatalogueService
from app.services.directory import load_directory
from app.services.stats import Scope, StatsService
from app.simulation.engine import Province
from app.simulation.model import load_model
from app.simulation.runs import run_into_database
from app.simulation.shards import Job, run_sharded
from procedures.loader import default_catalogue
from app.settings import Settings
from tests.conftest import KEK, app_client, bearer, seeded_private_database

START, DAYS = date(2021, 6, 7), 12  # Monday 7 … Friday 18 June 2021
END = datetime.combine(START + timedelta(days=DAYS), time(0), VN_TZ)


@pytest.fixture(scope="module")
async def simulated(backend):
    async with seeded_private_database(backend[0], "portal_simulation_test"):
        base = load_model("base")
        model = msgspec.structs.replace(
            base, arrivals=msgspec.structs.replace(base.arrivals, per_working_day=150)
        )
        province = Province.from_fixtures("yen-bai-2021", default_calendar(), default_catalogue())
        # Two forked processes simulate the districts; the history must be one process's.
        run, written = await run_into_database(model, province, 5, START, DAYS, processes=2)
        yield run, written, Job(model, province, 5, START, DAYS)


async def test_the_simulated_history_passes_the_audit_chain_check(simulated):
    run, written, _ = simulated
    assert written["dossiers"] == run.result.generated > 1000
    assert written["audit"] == run.tally.audits
    events, breaks = await verify_chain()
    assert breaks == [] and events > written["audit"]  # the seed's events, then the simulation's
    # The statistics' rollup the writer kept is the one the tables give.
    assert await rollup.differences() == {"stats_month": 0, "stats_officer_month": 0}


async def test_two_processes_wrote_the_history_of_one(simulated):
    _, written, job = simulated

    class Recorder:
        def __init__(self):
            self.audits, self.dossiers = [], []

        def audit(self, entry):
            self.audits.append((entry["action"], entry["dossier_code"], entry["at"]))

        def dossier(self, row, steps, rating):
            self.dossiers.append((row["id"], row["code"], row["status"], row["finished_at"]))

    alone = Recorder()
    run_sharded(job, alone, processes=1)
    assert len(alone.audits) == written["audit"]
    events = await AuditEvent.raw(
        "SELECT action, dossier_code, at FROM audit_event WHERE dossier_code IS NOT NULL ORDER BY seq"
    )
    assert [(e["action"], e["dossier_code"], e["at"]) for e in events] == alone.audits
    rows = await Dossier.select(Dossier.id, Dossier.code, Dossier.status, Dossier.finished_at).order_by(
        Dossier.id
    )
    assert sorted(alone.dossiers) == [(r["id"], r["code"], r["status"], r["finished_at"]) for r in rows]


async def test_the_dashboards_show_the_figures_the_run_counted(simulated):
    run, _, _ = simulated
    directory = await load_directory(fresh=True)
    stats = StatsService(ManualClock(END), directory, CatalogueService(default_catalogue(), directory))
    # June 2021, the month that holds the run (the statistics are kept by month).
    [sql] = await stats.summary(covering(datetime.combine(START, time(0), VN_TZ), END), Scope(), "province")
    counted = run.tally.province
    for column, mine in (
        ("received", counted.received),
        ("received_online", counted.online),
        ("resolved", counted.resolved),
        ("late", counted.late),
        ("ended", counted.ended),
        ("ended_in_time", counted.ended_in_time),
        ("open", counted.open),
        ("open_overdue", counted.open_overdue),
        ("rated", counted.rated),
        ("satisfied", counted.satisfied),
        ("dissatisfied", counted.dissatisfied),
    ):
        assert sql[column] == mine, column
    assert sql["in_time_pct"] == round(100 * counted.in_time_rate, 2)
    assert 0 < counted.open < counted.received and counted.resolved > 0.9 * counted.received


async def test_a_live_officer_takes_over_a_simulated_dossier(simulated):
    monday = datetime.combine(START + timedelta(days=DAYS + 3), time(9), VN_TZ)  # 21/6 09:00
    waiting = await (
        Dossier.select(
            Dossier.code, Dossier.step_unit, Dossier.step_role, Dossier.procedure_code, Dossier.step
        )
        .where((Dossier.status == 4) & (Dossier.step_role == "specialist"))
        .first()
    )
    assert waiting is not None, "a dossier still with a specialist at the end"
    from app.db.tables import Unit

    unit = await Unit.select(Unit.key).where(Unit.code == waiting["step_unit"]).first()
    async with app_client(ManualClock(monday)) as client:
        officer = await bearer(client, f"chuyenvien.{unit['key']}")
        moved = await client.post(
            f"/api/v1/dossiers/{waiting['code']}/actions", headers=officer, json={"action": "forward"}
        )
        assert moved.status_code == 200, moved.text
        workflow = default_catalogue().get(waiting["procedure_code"]).workflow
        assert moved.json()["current_step"]["role"] == workflow[waiting["step"] + 1].role
    events, breaks = await verify_chain()
    assert breaks == []


async def test_with_sign_the_simulated_results_are_signed_for_real(simulated, tmp_path):
    """--sign: every approved result gets its PDF, signed by the leader and sealed at the
    simulated times, verifiable like a live one (and by pdfsig is covered elsewhere)."""
    from cryptography import x509

    from app.db.tables import DossierDocument, PkiCertificate
    from signing.verify import Indication, verify_pdf

    base = load_model("base")
    tiny = msgspec.structs.replace(base, arrivals=msgspec.structs.replace(base.arrivals, per_working_day=15))
    province = Province.from_fixtures("yen-bai-2021", default_calendar(), default_catalogue())
    day = date(2021, 6, 28)  # a Monday after the first run
    settings = Settings(base_url="http://testserver", key_encryption_key=KEK, uploads_dir=tmp_path)
    run, written = await run_into_database(tiny, province, 9, day, 3, sign=True, settings=settings)
    assert written["signed"] > 0
    signed = await Dossier.select(Dossier.id, Dossier.code, Dossier.signatures, Dossier.status).where(
        (Dossier.signatures == "leader,seal")
        & (Dossier.submitted_at >= datetime.combine(day, time(0), VN_TZ))
    )
    assert len(signed) == written["signed"]
    document = (
        await DossierDocument.select()
        .where((DossierDocument.dossier_id == signed[0]["id"]) & (DossierDocument.kind == "result"))
        .first()
    )
    from pathlib import Path

    pdf = Path(document["path"]).read_bytes()
    root = await PkiCertificate.select(PkiCertificate.cert_der).where(PkiCertificate.name == "root").first()
    report = await verify_pdf(
        pdf, [x509.load_der_x509_certificate(bytes(root["cert_der"]))], now=datetime(2021, 7, 5, tzinfo=VN_TZ)
    )
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    assert [s.is_seal for s in report.signatures] == [False, True]
    events, breaks = await verify_chain()
    assert breaks == []


async def test_results_cannot_be_signed_before_the_pki_exists_and_nothing_is_written(simulated):
    from app.simulation.runs import SimulationError

    before = await Dossier.count()
    province = Province.from_fixtures("yen-bai-2021", default_calendar(), default_catalogue())
    settings = Settings(base_url="http://testserver", key_encryption_key=KEK)
    with pytest.raises(SimulationError, match="không ký số được kết quả trước ngày đó"):
        await run_into_database(
            load_model("base"), province, 1, date(2021, 2, 1), 2, sign=True, settings=settings
        )
    assert await Dossier.count() == before
