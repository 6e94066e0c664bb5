"""The province simulator in memory: deterministic, conserving, and sensible under "what if"."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import msgspec
import pytest

from app.domain.lifecycle import TERMINAL, Status
from app.services.calendar import default_calendar
from app.simulation.engine import Province, Simulation
from app.simulation.model import ModelError, Staff, Staffing, load_model
from procedures.loader import default_catalogue

START = date(2021, 3, 1)


@pytest.fixture(scope="module")
def province():
    return Province.from_fixtures("yen-bai-2021", default_calendar(), default_catalogue())


class Recorder:
    def __init__(self):
        self.audits, self.dossiers = [], {}

    def audit(self, entry):
        self.audits.append(entry)

    def dossier(self, row, steps, rating):
        assert row["code"] not in self.dossiers, "a dossier delivered twice"
        self.dossiers[row["code"]] = (dict(row), [dict(s) for s in steps], rating)

    def digest(self) -> str:
        text = json.dumps([self.audits, sorted(self.dossiers.items())], default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def run(province, model=None, *, seed=1, days=8, per_day=120):
    model = model or load_model("base")
    model = msgspec.structs.replace(
        model, arrivals=msgspec.structs.replace(model.arrivals, per_working_day=per_day)
    )
    sink = Recorder()
    result = Simulation(model, province, seed=seed, start=START, days=days, sink=sink).run()
    return sink, result


def test_the_same_seed_gives_the_same_history_and_another_seed_another(province):
    first, _ = run(province, seed=7)
    again, _ = run(province, seed=7)
    other, _ = run(province, seed=8)
    assert len(first.dossiers) > 500
    assert first.digest() == again.digest()
    assert first.digest() != other.digest()


def test_every_dossier_ends_once_or_is_still_open_and_follows_the_rules(province):
    sink, result = run(province, days=15)
    assert len(sink.dossiers) == result.generated
    statuses = [Status(row["status"]) for row, _, _ in sink.dossiers.values()]
    ended = sum(s in TERMINAL for s in statuses)
    assert ended == result.ended == sum(result.by_status.values()) and 0 < ended < result.generated
    submits = [a for a in sink.audits if a["action"] == "dossier.submit"]
    assert len(submits) == result.generated
    assert [a["at"] for a in sink.audits] == sorted(a["at"] for a in sink.audits)  # in time order
    for row, steps, rating in sink.dossiers.values():
        if Status(row["status"]) is Status.RETURNED:
            assert (
                row["timeliness"] in ("early", "on_time", "late") and row["finished_at"] <= row["returned_at"]
            )
            assert all(s["finished_at"] is not None for s in steps)
        if rating is not None:
            assert Status(row["status"]) in (Status.NOT_RECEIVED, Status.RETURNED)
        assert row["supplements"] <= 1  # Decree 61: at most one supplement request
        if row["received_at"] is not None:
            assert row["original_due_at"] is not None and steps[0]["position"] == 0
    # Some of each of the model's fates happened.
    actions = {a["action"] for a in sink.audits}
    assert {
        "dossier.request_supplement",
        "dossier.supplement",
        "dossier.reject",
        "dossier.return_result",
        "rating.create",
    } <= actions


def test_more_staff_at_an_overloaded_unit_is_never_slower_there(province):
    base = load_model("base")
    police = next(u for u in province.units if u.key == "cong-an" and u.kind == "department")
    starved = msgspec.structs.replace(base, staffing=Staffing(unit={"cong-an": Staff(specialist=1)}))
    helped = msgspec.structs.replace(base, staffing=Staffing(unit={"cong-an": Staff(specialist=3)}))
    for seed in (1, 2, 3):
        slow, slow_result = run(province, starved, seed=seed, days=10, per_day=400)
        fast, fast_result = run(province, helped, seed=seed, days=10, per_day=400)
        assert slow_result.generated == fast_result.generated  # the same citizens (common random numbers)
        pool = {(p.unit, p.role): p for p in slow_result.pools}[(police.code, "specialist")]
        more = {(p.unit, p.role): p for p in fast_result.pools}[(police.code, "specialist")]
        assert pool.size == 1 and more.size == 3
        assert pool.waited_minutes / pool.tasks > 60  # overloaded indeed
        assert more.waited_minutes / max(1, more.tasks) <= pool.waited_minutes / pool.tasks
        late = lambda sink: sum(  # noqa: E731
            1
            for row, steps, _ in sink.dossiers.values()
            if any(s["unit_code"] == police.code and s["timeliness"] == "late" for s in steps)
        )
        assert late(fast) <= late(slow)


def test_model_files_are_checked(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "base.toml"\n[citizens]\nincomplete = 1.5\n', encoding="utf-8")
    with pytest.raises(ModelError, match="incomplete"):
        load_model(bad)
    loop = tmp_path / "loop.toml"
    loop.write_text('extends = "loop.toml"\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ModelError, match="extends itself"):
        load_model(loop)
    assert load_model("more-staff").staffing.kind["district"].reception == 5
    assert load_model("more-staff").arrivals == load_model("base").arrivals


def test_scenario_runs_in_parallel_give_what_they_give_one_by_one(province):
    from app.simulation.scenarios import compare

    base = load_model("base")
    small = msgspec.structs.replace(base, arrivals=msgspec.structs.replace(base.arrivals, per_working_day=60))
    more = msgspec.structs.replace(small, staffing=load_model("more-staff").staffing)
    serial = compare([small, more], province, [1, 2], START, 5, workers=1)
    forked = compare([small, more], province, [1, 2], START, 5, workers=2)
    for a, b in zip(serial, forked, strict=True):
        assert [r.seed for r in a.runs] == [r.seed for r in b.runs] == [1, 2]
        assert [r.tally.province for r in a.runs] == [r.tally.province for r in b.runs]
        assert [r.result.pools for r in a.runs] == [r.result.pools for r in b.runs]
    assert (
        serial[0].runs[0].tally.province.received == serial[1].runs[0].tally.province.received
    )  # same citizens


def _small(per_day=120):
    model = load_model("base")
    return msgspec.structs.replace(
        model, arrivals=msgspec.structs.replace(model.arrivals, per_working_day=per_day)
    )


def test_the_shards_are_units_no_dossier_crosses(province):
    from app.simulation.shards import Job, run_sharded

    job = Job(_small(), province, 3, START, 10)
    sink = Recorder()
    run_sharded(job, sink, processes=1)
    shards = job.simulation(None).shards()
    assert len(shards) >= 10  # the province's own units and each of its nine districts
    shard_of = {code: i for i, shard in enumerate(shards) for code in shard}
    assert len(shard_of) == sum(len(s) for s in shards) == len(province.units)  # a partition
    crossing = [
        (row["code"], step["unit_code"])
        for row, steps, _ in sink.dossiers.values()
        for step in steps
        if shard_of[step["unit_code"]] != shard_of[row["receiving_unit"]]
    ]
    assert len(sink.dossiers) > 500 and crossing == []
    assert len({shard_of[row["receiving_unit"]] for row, _, _ in sink.dossiers.values()}) == len(shards)


def test_the_history_is_the_same_whatever_the_number_of_processes(province):
    from app.simulation.shards import Job, run_sharded

    job = Job(_small(), province, 4, START, 10)
    histories, outcomes = [], []
    for processes in (1, 2, 3):
        sink = Recorder()
        outcomes.append(run_sharded(job, sink, processes))
        histories.append(sink)
    one = histories[0]
    assert len(one.dossiers) == outcomes[0].result.generated > 500
    assert [a["at"] for a in one.audits] == sorted(a["at"] for a in one.audits)  # in time order
    # Dossier ids follow their numbers: every id from the first, once.
    assert sorted(row["id"] for row, _, _ in one.dossiers.values()) == list(range(1, len(one.dossiers) + 1))
    for other, outcome in zip(histories[1:], outcomes[1:], strict=True):
        assert other.digest() == one.digest()
        assert outcome.result == outcomes[0].result
        assert outcome.sequences_used == outcomes[0].sequences_used


def test_the_figures_in_memory_are_the_same_whatever_the_number_of_processes(province):
    from app.simulation.runs import run_in_memory

    one = run_in_memory(_small(), province, 5, START, 10, processes=1)
    two = run_in_memory(_small(), province, 5, START, 10, processes=2)
    assert one.result.generated > 500 and one.tally.audits > 5 * one.result.generated
    assert two.result == one.result  # counts, statuses, every pool's queue and utilisation
    assert two.tally.province == one.tally.province and two.tally.audits == one.tally.audits
    assert dict(two.tally.units) == dict(one.tally.units)
