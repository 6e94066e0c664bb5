"""A bulk load of synthetic histories, on both databases: what the portal makes of it.

A few thousand dossiers over 2021-01-01 … 2021-04-20 go into a private database of the
backend's kind (the session's shared one is left alone: an audit chain cannot be
un-written). The histories are also kept in memory, so each test compares the database
with what was generated:

- the same seed makes the same rows, another seed other rows, and the rows stored are the
  rows generated;
- the audit chain verifies after the load, and after live actions on a loaded dossier
  through the HTTP API;
- a live submission after the load gets the next number of the day, not a loaded one's;
- the dashboard's figures (SQL) equal a recount of the generated histories.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from app.db.tables import AuditEvent, Dossier, DossierCounter, DossierStep, Rating
from app.domain.clock import VN_TZ, ManualClock
from app.domain.evaluation import SATISFIED_FROM
from app.domain.periods import parse_period
from app.services import rollup
from app.services.audit import verify_chain
from app.services.bulk_load import HistoryWriter, SynthesisSpec, load, province_view, synthesize
from tests.conftest import app_client, bearer, seeded_private_database
from tests.integration.test_dossier_journey import submit_birth

#: Ends on Wednesday 21/04/2021 at 00:00: the live part of the tests happens that morning.
SPEC = SynthesisSpec(3000, seed=7, start=date(2021, 1, 1), days=110, late=0.08)
NOW = datetime(2021, 4, 21, 9, 0, tzinfo=VN_TZ)
COMPARED = (
    "id",
    "status",
    "receiving_unit",
    "procedure_code",
    "channel",
    "timeliness",
    "outcome",
    "submitted_at",
    "received_at",
    "finished_at",
    "due_at",
    "original_due_at",
    "returned_at",
)


class Keep:
    """Hands everything to the writer and keeps a copy."""

    def __init__(self, writer: HistoryWriter) -> None:
        self.writer = writer
        self.rows: list[dict] = []
        self.steps: list[dict] = []
        self.ratings: list[dict] = []
        self.audits: list[dict] = []

    def audit(self, entry) -> None:
        self.audits.append(entry)
        self.writer.audit(entry)

    def dossier(self, row, steps, rating) -> None:
        self.rows.append(row)
        self.steps.extend(steps)
        if rating is not None:
            self.ratings.append(rating)
        self.writer.dossier(row, steps, rating)


class Memory:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.audits: list[dict] = []

    def audit(self, entry) -> None:
        self.audits.append(entry)

    def dossier(self, row, steps, rating) -> None:
        self.rows.append((row, steps, rating))


@pytest.fixture(scope="module")
async def loaded(backend):
    """The province seeded into a private database, then SPEC loaded; the backend restored after."""
    async with seeded_private_database(backend[0], "portal_bulk_test"):
        before = await AuditEvent.count()
        kept: list[Keep] = []
        result, writer = await load(
            SPEC, batch_size=5000, sink_wrapper=lambda w: kept.append(Keep(w)) or kept[0]
        )
        yield backend[0], kept[0], result, writer, before


async def test_the_same_seed_makes_the_same_histories_and_another_seed_others(loaded):
    province = await province_view()
    small = SynthesisSpec(400, seed=3, start=date(2021, 3, 1), days=30)
    first, again, other, forked = Memory(), Memory(), Memory(), Memory()
    synthesize(small, province, first)
    synthesize(small, province, again)
    synthesize(SynthesisSpec(400, seed=4, start=date(2021, 3, 1), days=30), province, other)
    synthesize(small, province, forked, workers=2)  # days made in two processes: the same histories
    assert len(first.rows) == 400 and first.rows == again.rows and first.audits == again.audits
    assert forked.rows == first.rows and forked.audits == first.audits
    assert [r["code"] for r, _, _ in other.rows] != [r["code"] for r, _, _ in first.rows]
    assert [r["applicant_name"] for r, _, _ in other.rows] != [r["applicant_name"] for r, _, _ in first.rows]


async def test_the_rows_stored_are_the_rows_generated(loaded):
    _, kept, result, writer, _ = loaded
    assert result.dossiers == SPEC.dossiers == len(kept.rows) == writer.written["dossiers"]
    stored = {r["code"]: r for r in await Dossier.select()}
    assert len(stored) == SPEC.dossiers
    for row in kept.rows[::37]:
        got = stored[row["code"]]
        for column in (
            "id",
            "status",
            "receiving_unit",
            "procedure_code",
            "channel",
            "timeliness",
            "outcome",
        ):
            assert got[column] == row[column], (row["code"], column)
        for column in (
            "submitted_at",
            "received_at",
            "finished_at",
            "due_at",
            "original_due_at",
            "returned_at",
        ):
            assert got[column] == row[column], (row["code"], column)
        assert bool(got["apologized"]) == row["apologized"] and got["supplements"] == row["supplements"]
    assert await DossierStep.count() == len(kept.steps)
    assert await Rating.count() == len(kept.ratings)
    # Every code has the national shape, the receiving unit and the day it was submitted.
    for row in kept.rows:
        unit, day, seq = row["code"].rsplit("-", 2)
        assert unit == row["receiving_unit"] and day == f"{row['submitted_at'].astimezone(VN_TZ):%y%m%d}"
        assert len(seq) == 4
    # The mix the dashboards should show: something of everything.
    statuses = Counter(r["status"] for r in kept.rows)
    assert {1, 3, 8, 10} <= set(statuses) and statuses[10] > SPEC.dossiers * 0.8
    assert sum(r["apologized"] for r in kept.rows) > 0 and sum(r["supplements"] for r in kept.rows) > 0


@pytest.mark.parametrize("period", ["2021-Q1", "2021-04"])
async def test_the_dashboard_figures_equal_a_recount_of_the_histories(loaded, period):
    # Runs before the live actions below (file order): it counts the load alone.
    from app.services.catalogue import CatalogueService
    from app.services.stats import StatsService
    from procedures.loader import default_catalogue

    _, kept, _, _, _ = loaded
    chosen = parse_period(period)  # April is running: the load ends, and the clock stands, on 21/04
    directory = (await province_view()).directory
    stats = StatsService(ManualClock(SPEC.until), directory, CatalogueService(default_catalogue(), directory))
    [summary] = await stats.summary(chosen)
    as_of = min(chosen.end, SPEC.until)
    ratings = {r["dossier_id"]: r["level"] for r in kept.ratings}
    expected = _recount(kept.rows, ratings, chosen.start, chosen.end, as_of)
    names = (
        "received",
        "received_online",
        "resolved",
        "early",
        "on_time",
        "late",
        "refused",
        "withdrawn",
        "not_received",
        "ended",
        "open",
        "open_overdue",
        "rated",
        "satisfied",
    )
    assert {k: summary[k] for k in names} == {k: expected[k] for k in names}
    # Something of everything, so that a wrong column or condition would show.
    assert all(expected[k] > 0 for k in ("early", "on_time", "late", "refused", "open", "rated"))
    if period != "2021-Q1":
        assert expected["open_overdue"] > 0
    else:
        assert expected["withdrawn"] > 0
    # By unit: the units' figures add up to the province's.
    by_unit = await stats.summary(chosen, group="unit")
    assert sum(u["received"] for u in by_unit) == summary["received"]
    assert sum(u["late"] for u in by_unit) == summary["late"]


async def test_the_audit_chain_verifies_after_the_load_and_after_live_actions(loaded):
    _, kept, _, writer, before = loaded
    count, breaks = await verify_chain()
    assert breaks == [] and count == before + len(kept.audits) == before + writer.written["audit"]
    # The chain follows time within the load, as the portal would have written it.
    ats = [e["at"] for e in kept.audits]
    assert ats == sorted(ats) and ats[-1] < SPEC.until

    # A dossier the load left waiting at a commune's counter goes on through the API.
    directory = (await province_view()).directory
    waiting = next(
        r
        for r in reversed(kept.rows)
        if r["status"] == 1 and directory.get(r["receiving_unit"]).kind == "commune"
    )
    unit = directory.get(waiting["receiving_unit"])
    async with app_client(ManualClock(NOW)) as client:
        officer = await bearer(client, f"motcua.{unit.key}")
        actions = f"/api/v1/dossiers/{waiting['code']}/actions"
        received = await client.post(actions, headers=officer, json={"action": "receive"})
        assert received.status_code == 200, received.text
        forwarded = await client.post(actions, headers=officer, json={"action": "forward"})
        assert forwarded.status_code == 200, forwarded.text
        assert forwarded.json()["status"] == 4
        history = [h["action"] for h in forwarded.json()["history"]]
        assert history[0] == "dossier.submit" and history[-2:] == ["dossier.receive", "dossier.forward"]
        chain = (await client.get("/api/v1/audit/verify", headers=await bearer(client, "kiemtra"))).json()
    assert chain["intact"] and chain["breaks"] == []
    assert chain["events"] >= before + len(kept.audits) + 2  # the load's, then the live ones
    # The statistics' rollup — the load's, then the live changes' — is the one the tables give.
    assert await rollup.differences() == {"stats_month": 0, "stats_officer_month": 0}


async def test_a_live_submission_after_the_load_takes_the_next_number_of_the_day(loaded):
    _, kept, _, _, _ = loaded
    last_day = f"{(SPEC.until - timedelta(days=1)):%y%m%d}"
    # The commune that received the most birth registrations on the load's last day.
    codes = [
        r["code"]
        for r in kept.rows
        if r["procedure_code"] == "1.001193" and r["code"].split("-")[1] == last_day
    ]
    assert codes, "the load made no birth registration on its last day"
    unit_code = Counter(c.rsplit("-", 2)[0] for c in codes).most_common(1)[0][0]
    highest = max(int(c.rsplit("-", 1)[1]) for c in codes if c.startswith(unit_code))
    loaded_today = max(
        int(r["code"].rsplit("-", 1)[1])
        for r in kept.rows
        if r["code"].startswith(f"{unit_code}-{last_day}-")
    )
    assert highest == loaded_today
    counter = await DossierCounter.select().where(DossierCounter.key == f"{unit_code}|{last_day}").first()
    assert counter["last"] == loaded_today
    from app.db.tables import User

    citizen = await User.select(User.username).where(User.role == "citizen").order_by(User.id).first()
    evening = SPEC.until - timedelta(hours=2)  # 22:00 on the load's last day
    async with app_client(ManualClock(evening)) as client:
        headers = await bearer(client, citizen["username"])
        submitted = await submit_birth(client, headers, unit_code)
        assert submitted.status_code == 201, submitted.text
        assert submitted.json()["code"] == f"{unit_code}-{last_day}-{loaded_today + 1:04d}"


def _recount(rows: list[dict], ratings: dict[int, int], start: datetime, end: datetime, as_of: datetime):
    """The summary's figures from the generated rows, one dossier at a time."""
    c = Counter()
    for r in rows:
        received, finished = r["received_at"], r["finished_at"]
        in_time = "late" if r["apologized"] or r["supplements"] > 1 else r["timeliness"]
        if received is not None and start <= received < end:
            c["received"] += 1
            c["received_online"] += r["channel"] == 2
        ended_here = finished is not None and start <= finished < end
        if ended_here and r["outcome"]:
            c["resolved"] += 1
            c[in_time] += 1
            c["refused"] += r["outcome"] == "refused"
        if ended_here and r["status"] == 8:
            c["withdrawn"] += 1
        if ended_here and r["status"] == 3:
            c["not_received"] += 1
        if ended_here and received is not None:
            c["ended"] += 1
            if r["id"] in ratings:
                c["rated"] += 1
                c["satisfied"] += ratings[r["id"]] >= SATISFIED_FROM
        still_open = (
            received is not None
            and received < as_of
            and (finished is None or finished >= as_of)
            and r["status"] not in (3, 8)
        )
        if still_open:
            c["open"] += 1
            c["open_overdue"] += r["due_at"] < as_of and r["status"] not in (5, 6)
    return c


async def test_a_queue_page_is_one_range_read_of_an_index_in_its_order(loaded):
    """Each part of an officer's queue page reads an index in the page's order, so it stops at
    the page's end: no sort of all of a unit's waiting dossiers, however many it holds
    (migrations 0011 and, for PostgreSQL's undated part, 0013)."""
    from app.services.dossiers import queue_sql

    kind = loaded[0]
    whose = ("000.00.50.H63", "reception")
    cases = {
        ("dated", False): (*whose, 50),
        ("dated", True): (*whose, NOW, 7, 50),
        ("undated", False): (*whose, 50),
        ("undated", True): (*whose, 7, 50),
    }
    for (part, after), args in cases.items():
        sql = queue_sql(part, after, False, kind)
        if kind == "sqlite":
            plan = " ".join(r["detail"] for r in await Dossier.raw("EXPLAIN QUERY PLAN " + sql, *args))
            assert "USING INDEX dossier_queue" in plan and "TEMP B-TREE" not in plan, (part, after, plan)
            continue
        async with Dossier._meta.db.transaction():
            # The test database is small: without these the planner may as well read it all.
            await Dossier.raw("SET LOCAL enable_seqscan = off")
            await Dossier.raw("SET LOCAL enable_bitmapscan = off")
            (row,) = await Dossier.raw("EXPLAIN (FORMAT JSON) " + sql, *args)
        plan = row["QUERY PLAN"]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        text = json.dumps(plan)
        index = "dossier_queue_undated" if part == "undated" else "dossier_queue"
        assert f'"Index Name": "{index}"' in text and '"Sort"' not in text, (part, after, text)


async def test_an_officers_queue_pages_through_every_waiting_dossier_most_urgent_first(loaded):
    """Keyset pages of the queue (app/services/dossiers.py) against the whole queue sorted here:
    dated dossiers by due time then id (ties on the due time included), then those without a
    due time (not yet received, or waiting for a supplement) by id, the same on both databases;
    a cursor that was not given out is refused clearly (422). Twelve loaded dossiers are put in
    one queue inside a transaction that is rolled back, so the module's other tests see the
    load as it was."""
    from app.domain.roles import Role
    from app.services.accounts import UserView
    from app.domain.clock import local_iso
    from app.services.dossiers import DossierService
    from app.services.errors import Invalid
    from app.settings import get_settings

    unit, role = "000.00.50.H63", Role.RECEPTION
    picked = await Dossier.select(Dossier.id, Dossier.code).where(Dossier.step_unit.is_null()).limit(12)
    dues = [NOW + timedelta(hours=h) for h in (5, 1, 1, 1, 30, 2, 2)] + [None] * 5
    dues[4] += timedelta(seconds=59, microseconds=999_999)  # shown truncated to the second
    expected = [
        row["code"]
        for row, _ in sorted(
            zip(picked, dues, strict=True), key=lambda p: (p[1] is None, p[1] or NOW, p[0]["id"])
        )
    ]
    service = await DossierService.for_settings(ManualClock(NOW), get_settings())
    officer = UserView(1, "test.officer", role, unit, "Cán bộ thử")
    async with Dossier._meta.db.transaction() as transaction:
        waiting = [r["code"] for r in await service.queue(officer, limit=200)]
        for row, due in zip(picked, dues, strict=True):
            await Dossier.update(
                {Dossier.step_unit: unit, Dossier.step_role: role.value, Dossier.step_due_at: due}
            ).where(Dossier.id == row["id"])
        shown = await service.queue(officer, limit=200)
        everyone = [r["code"] for r in shown]
        assert [c for c in everyone if c not in waiting] == expected
        # The database formats the times as the detail page's Python does (local_iso).
        times = ("due_at", "step_due_at", "submitted_at")
        stored = {
            r["code"]: r
            for r in await Dossier.select(
                Dossier.code, *(Dossier._meta.get_column_by_name(t) for t in times)
            ).where(Dossier.code.is_in(everyone))
        }
        for r in shown:
            as_python = tuple(local_iso(stored[r["code"]][t]) for t in times)
            assert (r["appointment_at"], r["step_due_at"], r["submitted_at"]) == as_python, r
        assert any(r["step_due_at"] and r["step_due_at"].endswith(":59+07:00") for r in shown)
        for size in (1, 3, 5):
            paged, after = [], None
            while page := await service.queue(officer, after=after, limit=size):
                paged += [r["code"] for r in page]
                after = page[-1]["cursor"]
            assert paged == everyone, size
        for bad in ("abc", "12~x", "9" * 30 + "~1", "~", "1~", "-5~3"):
            with pytest.raises(Invalid):
                await service.queue(officer, after=bad)

        # A citizen's own dossiers, newest first, a page at a time.
        citizen = UserView(987_654, "012345678901", Role.CITIZEN, None, "Công dân thử")
        await Dossier.update({Dossier.applicant_id: citizen.id}).where(
            Dossier.id.is_in([row["id"] for row in picked])
        )
        newest_first = [row["code"] for row in sorted(picked, key=lambda row: -row["id"])]
        paged, after = [], None
        while page := await service.queue(citizen, after=after, limit=5):
            paged += [r["code"] for r in page]
            after = page[-1]["cursor"]
        assert paged == newest_first
        with pytest.raises(Invalid):
            await service.queue(citizen, after="~5")
        await transaction.rollback()
    assert [r["code"] for r in await service.queue(officer, limit=200)] == waiting
