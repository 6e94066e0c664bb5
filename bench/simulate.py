"""The province simulator's speed, as a ratio to the bare state machine in the same run.

    .venv/bin/python bench/simulate.py [--days 365] [--seed 1] [--processes N]

Runs the base model in memory (SimPy, officers' queues, the transition recorder, the audit
entries, the figures) in one process, then with its districts shared by N processes (default:
one per core), and prints dossiers simulated per second; then replays exactly the same
transitions through ``lifecycle.apply`` alone (commands prepared beforehand, no queueing,
no recording, one process) and prints that rate too. The ratios show what the simulation and
the recording cost over the rules themselves. Absolute rates drift ±30 % on shared machines.
"""

from __future__ import annotations

import argparse
import os
import sys
from time import perf_counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.clock import VN_TZ  # noqa: E402
from app.domain.lifecycle import Action, Actor, Command, DossierState, Status, apply  # noqa: E402
from app.services.calendar import default_calendar  # noqa: E402
from app.simulation.engine import Province  # noqa: E402
from app.simulation.figures import Tally  # noqa: E402
from app.simulation.model import load_model  # noqa: E402
from app.simulation.runs import run_in_memory  # noqa: E402
from app.simulation.shards import Job, run_sharded  # noqa: E402
from procedures.loader import default_catalogue  # noqa: E402


class Capture(Tally):
    """The figures, plus every transition (to replay through the bare state machine); used
    by a separate, untimed run."""

    def __init__(self, end: datetime) -> None:
        super().__init__(end)
        self.actions: dict[str, list[dict]] = {}
        self.procedure: dict[str, str] = {}

    def audit(self, entry: dict) -> None:
        super().audit(entry)
        action = entry["action"]
        if action == "dossier.submit":
            self.procedure[entry["dossier_code"]] = entry["details"]["procedure"]
        elif action.startswith("dossier.") and action != "dossier.overdue":
            self.actions.setdefault(entry["dossier_code"], []).append(entry)


def commands(capture: Capture, catalogue, calendar) -> list[tuple[DossierState, list[Command]]]:
    """The same transitions as plain commands: every actor allowed, deadlines precomputed."""
    out = []
    for code, entries in capture.actions.items():
        p = catalogue.get(capture.procedure[code])
        fee_due = any(e["action"] == "dossier.pay" for e in entries)
        state = DossierState(Status.SUBMITTED, tuple(s.role for s in p.workflow), fee_due=fee_due)
        cmds = []
        for e in entries:
            action = Action(e["action"].removeprefix("dossier."))
            actor = Actor(
                "system" if e["actor_role"] == "system" else e["actor_role"],
                is_owner=e["actor_role"] == "citizen",
                holds_step=True,
                at_receiving_unit=True,
            )
            due = calendar.due_at(e["at"], p.time_limit.value, p.time_limit.unit)
            new_due = (
                datetime.fromisoformat(e["details"]["new_due_at"]) if "new_due_at" in e["details"] else None
            )
            cmds.append(Command(action, actor, e["at"], tuple(e["details"].get("reasons", ())), new_due, due))
        out.append((state, cmds))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2021-01-01")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    calendar, catalogue = default_calendar(), default_catalogue()
    province = Province.from_fixtures("yen-bai-2021", calendar, catalogue)
    start = date.fromisoformat(args.start)
    model = load_model("base")
    timed = {}
    for processes in sorted({1, args.processes}):
        began = perf_counter()
        run = run_in_memory(model, province, args.seed, start, args.days, processes)
        timed[processes] = (perf_counter() - began, run)
    result, tally = timed[1][1].result, timed[1][1].tally
    assert all(r.result == result for _, r in timed.values()), "the processes changed the history"
    capture = Capture(datetime.combine(start + timedelta(days=args.days), time(0), VN_TZ))
    run_sharded(Job(model, province, args.seed, start, args.days), capture, args.processes)
    replay = commands(capture, catalogue, calendar)
    transitions = sum(len(c) for _, c in replay)
    began = perf_counter()
    refused = 0
    for state, cmds in replay:
        for command in cmds:
            step = apply(state, command, calendar)
            if hasattr(step, "after"):
                state = step.after
            else:
                refused += 1
    bare = perf_counter() - began
    bare_rate = result.generated / bare
    print(f"simulator, base model, {args.days} days from {start:%d/%m/%Y}, seed {args.seed}")
    print(
        f"  dossiers simulated        {result.generated:>10,}"
        f"  ({transitions:,} transitions, {tally.audits:,} audit entries)"
    )
    for processes, (seconds, _) in sorted(timed.items()):
        rate = result.generated / seconds
        print(
            f"  in memory, {processes} process{'es' if processes > 1 else '  '}"
            f"  {rate:>10,.0f} dossiers/s  ({seconds:.1f} s)  ratio to bare {rate / bare_rate:.3f}"
        )
    print(
        f"  bare state machine        {bare_rate:>10,.0f} dossiers/s"
        f"  ({bare:.2f} s, one process, {refused} refused in replay)"
    )
    print(f"  on time (766, 2.1)        {tally.province.in_time_rate:>10.2%}")


if __name__ == "__main__":
    main()
