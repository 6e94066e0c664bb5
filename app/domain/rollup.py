"""What one dossier adds to the province's monthly figures, computed without I/O.

The statistics pages read a rollup — per month, receiving unit and procedure, and per month
and officer — instead of the dossiers themselves: at 10^6 dossiers a quarter is a few
thousand rollup rows, not a quarter of a million dossiers. Every figure is an integer
(points, counts, seconds), so that adding a dossier's contribution and later taking it back
leaves the sum exact.

``Rollup.add(facts, sign)`` is the only definition of what a dossier counts for. The portal
keeps the rollup by adding each changed dossier's new facts and taking back its old ones in
the transaction of the change (app/services/rollup.py); the bulk writer adds final rows; a
rebuild adds every dossier. The rules (reference §1.6, §4, §8.4; [U] choices in the README):

- a dossier counts as *received* in the month of its reception, and as *ended* (resolved,
  refused, withdrawn) in the month it finished; *late* when it finished after its
  appointment, needed more than one supplement, or the unit apologised (766 counts by the
  original date);
- *open at the end of a month* is kept as a running balance: +1 in the month it was
  received, −1 in the month it finished. *Overdue at the end of a month* likewise: +1 in the
  month its appointment passed, −1 in the month it finished; a dossier now waiting for the
  citizen (supplement, payment) is not overdue [U];
- the Circular 01/2018 points of a resolved dossier (indices 1, 2, 3, 4, 7) and of each of
  its finished workflow steps count in the month it finished; a rating counts there too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.clock import VN_TZ
from app.domain.evaluation import SATISFIED_FROM

#: Per (month, receiving unit, procedure): what counts by the month of reception, by the
#: month the dossier finished, then the Circular 01 sums and the balances (below).
UNIT_FIGURES: tuple[str, ...] = (
    # by the month of reception
    "received",
    "received_online",
    "fee_dossiers",
    "paid_online",
    # by the month the dossier finished
    "resolved",
    "early",
    "on_time",
    "late",
    "refused",
    "withdrawn",
    "not_received",
    "ended",
    "ended_in_time",
    "ended_late",
    "resolution_seconds",
    "rated",
    "satisfied",
    "dissatisfied",
    "unhappy",
    "approved",
    "electronic_results",
    "digitised",
)
#: Circular 01/2018 over the resolved dossiers (by the month they finished): sums of points,
#: and how many dossiers had a value.
EVALUATION_FIGURES = (
    "i1_sum",
    "i2_sum",
    "i2_count",
    "i3_sum",
    "i3_count",
    "i4_sum",
    "i4_count",
    "i7_sum",
    "in_unit",
    "resolved_online",
    "late_online",
)
#: Running balances: summed over every month up to the one asked for.
BALANCES = ("open_change", "overdue_change")
UNIT_FIGURES += EVALUATION_FIGURES + BALANCES
#: Per (month, officer, the step's unit, receiving unit, procedure): the officer's finished
#: steps on resolved dossiers and the points of indices 1, 2, 3, 4, 7 over them.
OFFICER_FIGURES = ("steps", "i1_sum", "i2_sum", "i3_sum", "i3_count", "i4_sum", "i4_count", "i7_sum")

WITHDRAWN, NOT_RECEIVED = 8, 3
#: Waiting for the citizen stops the unit's clock: such a dossier is not overdue [U].
WAITING = frozenset({5, 6})
ONLINE = 2
_POINTS = {"early": 2, "on_time": 1}
_CONTACT_POINTS = {0: 2, 1: 1}


def month_of(moment: datetime) -> int:
    """The rollup's month key (yyyymm) of a moment, in Vietnam time."""
    local = moment.astimezone(VN_TZ)
    return local.year * 100 + local.month


@dataclass(frozen=True, slots=True)
class StepFacts:
    """A finished workflow step."""

    actor: str
    unit_code: str
    timeliness: str | None
    handoff: str


@dataclass(frozen=True, slots=True)
class RatingFacts:
    level: int
    reception_contacts: int | None
    agencies_contacted: int | None
    harassment: bool


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What the figures need to know about one dossier as it stands."""

    unit: str
    procedure: str
    channel: int
    status: int
    received_at: datetime | None
    finished_at: datetime | None
    due_at: datetime | None
    outcome: str | None
    timeliness: str | None
    apologized: bool
    supplements: int
    fee_total: int
    signed: bool
    rating: RatingFacts | None = None
    steps: tuple[StepFacts, ...] = ()
    paid_online: bool = False
    digitised: bool = False
    complained: bool = False

    @property
    def effective_timeliness(self) -> str | None:
        """An apology or a second supplement makes a dossier late (reference §4) [U]."""
        return "late" if self.apologized or self.supplements > 1 else self.timeliness


@dataclass
class Rollup:
    """Sums of figures by key; ``add`` with sign −1 takes a dossier's old facts back."""

    units: dict[tuple[int, str, str], Counter] = field(default_factory=dict)
    officers: dict[tuple[int, str, str, str, str], Counter] = field(default_factory=dict)

    def _unit(self, month: int, f: DossierFacts) -> Counter:
        key = (month, f.unit, f.procedure)
        found = self.units.get(key)
        if found is None:
            found = self.units[key] = Counter()
        return found

    def add(self, f: DossierFacts, sign: int = 1) -> None:
        if f.received_at is not None:
            received_month = month_of(f.received_at)
            c = self._unit(received_month, f)
            c["received"] += sign
            c["open_change"] += sign
            if f.channel == ONLINE:
                c["received_online"] += sign
            if f.fee_total > 0:
                c["fee_dossiers"] += sign
                if f.paid_online:
                    c["paid_online"] += sign
            self._overdue(f, received_month, sign)
        if f.finished_at is not None:
            self._finished(f, sign)

    def _overdue(self, f: DossierFacts, received_month: int, sign: int) -> None:
        if f.due_at is None or (f.finished_at is None and f.status in WAITING):
            return
        since = max(month_of(f.due_at), received_month)
        if f.finished_at is None:
            self._unit(since, f)["overdue_change"] += sign
            return
        finished_month = month_of(f.finished_at)
        if finished_month > since:
            self._unit(since, f)["overdue_change"] += sign
            self._unit(finished_month, f)["overdue_change"] -= sign

    def _finished(self, f: DossierFacts, sign: int) -> None:
        assert f.finished_at is not None
        month = month_of(f.finished_at)
        c = self._unit(month, f)
        if f.status == WITHDRAWN:
            c["withdrawn"] += sign
        elif f.status == NOT_RECEIVED:
            c["not_received"] += sign
        if f.received_at is None:
            return
        effective = f.effective_timeliness
        rating = f.rating
        c["open_change"] -= sign
        c["ended"] += sign
        if effective == "late":
            c["ended_late"] += sign
        elif effective in _POINTS:
            c["ended_in_time"] += sign
        if rating is not None:
            c["rated"] += sign
            if rating.level >= SATISFIED_FROM:
                c["satisfied"] += sign
            if rating.level == 1:
                c["dissatisfied"] += sign
        if (rating is not None and rating.level == 1) or f.complained:
            c["unhappy"] += sign
        if f.outcome is None:
            return
        c["resolved"] += sign
        if effective is not None:
            c[effective] += sign
        c["resolution_seconds"] += sign * round((f.finished_at - f.received_at).total_seconds())
        if f.outcome == "refused":
            c["refused"] += sign
        elif f.outcome == "approved":
            c["approved"] += sign
            if f.signed:
                c["electronic_results"] += sign
                if f.digitised:
                    c["digitised"] += sign
        # Circular 01/2018: index 1 (timeliness), 2 (the steps), 3–4 (contacts, from the
        # rating), 7 (attitude: 0 on harassment, 2 when early, else 1 [U]).
        i1 = _POINTS.get(effective or "", 0)
        i3 = _contacts(rating.reception_contacts) if rating else None
        i4 = _contacts(rating.agencies_contacted) if rating else None
        i7 = 0 if rating is not None and rating.harassment else (2 if effective == "early" else 1)
        c["i1_sum"] += sign * i1
        if f.steps:
            c["i2_count"] += sign
            if not any(s.timeliness == "late" for s in f.steps):
                c["i2_sum"] += sign * (2 if all(s.timeliness == "early" for s in f.steps) else 1)
            if all(s.handoff == "internal" for s in f.steps):
                c["in_unit"] += sign
        _averaged(c, "i3", i3, sign)
        _averaged(c, "i4", i4, sign)
        c["i7_sum"] += sign * i7
        if f.channel == ONLINE:
            c["resolved_online"] += sign
            if effective == "late":
                c["late_online"] += sign
        for s in f.steps:
            if not s.actor:
                continue
            key = (month, s.actor, s.unit_code, f.unit, f.procedure)
            o = self.officers.get(key)
            if o is None:
                o = self.officers[key] = Counter()
            o["steps"] += sign
            o["i1_sum"] += sign * i1
            o["i2_sum"] += sign * _POINTS.get(s.timeliness or "", 0)
            _averaged(o, "i3", i3, sign)
            _averaged(o, "i4", i4, sign)
            o["i7_sum"] += sign * i7

    def unit_rows(self) -> list[tuple]:
        """(month, unit, procedure, *UNIT_FIGURES) for every key whose figures moved."""
        return _rows(self.units, UNIT_FIGURES)

    def officer_rows(self) -> list[tuple]:
        """(month, actor, step unit, unit, procedure, *OFFICER_FIGURES), likewise."""
        return _rows(self.officers, OFFICER_FIGURES)

    def __bool__(self) -> bool:
        return bool(self.unit_rows() or self.officer_rows())


def _averaged(c: Counter, index: str, points: int | None, sign: int) -> None:
    """An index averaged over the dossiers that have a value for it (the rating's)."""
    if points is not None:
        c[f"{index}_sum"] += sign * points
        c[f"{index}_count"] += sign


def _contacts(n: int | None) -> int | None:
    return None if n is None else _CONTACT_POINTS.get(n, 0)


def _rows(sums: dict[tuple, Counter], names: tuple[str, ...]) -> list[tuple]:
    out = []
    # In key order: concurrent writers then lock shared rows in the same order.
    for key, c in sorted(sums.items()):
        values = tuple(c[n] for n in names)
        if any(values):
            out.append((*key, *values))
    return out


def change(before: DossierFacts | None, after: DossierFacts | None) -> Rollup:
    """What a dossier's change does to the rollup: its new facts in, its old ones out."""
    delta = Rollup()
    if before is not None:
        delta.add(before, -1)
    if after is not None:
        delta.add(after, 1)
    return delta


def facts_from_rows(
    row: dict,
    steps: Iterable[dict] = (),
    rating: dict | None = None,
    *,
    paid_online: bool = False,
    digitised: bool = False,
    complained: bool = False,
) -> DossierFacts:
    """Facts from a dossier row, its steps and its rating, as dicts of their columns."""
    return DossierFacts(
        unit=row["receiving_unit"],
        procedure=row["procedure_code"],
        channel=row["channel"],
        status=row["status"],
        received_at=row["received_at"],
        finished_at=row["finished_at"],
        due_at=row["due_at"],
        outcome=row["outcome"],
        timeliness=row["timeliness"],
        apologized=bool(row["apologized"]),
        supplements=row["supplements"],
        fee_total=row["fee_total"],
        signed=bool(row["signatures"]),
        rating=None
        if rating is None or rating.get("level") is None
        else RatingFacts(
            level=rating["level"],
            reception_contacts=rating["reception_contacts"],
            agencies_contacted=rating["agencies_contacted"],
            harassment=bool(rating["harassment"]),
        ),
        steps=tuple(
            StepFacts(s["actor"] or "", s["unit_code"], s["timeliness"], s["handoff"])
            for s in steps
            if s["finished_at"] is not None
        ),
        paid_online=paid_online,
        digitised=digitised,
        complained=complained,
    )
