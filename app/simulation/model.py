"""The simulator's model of a province, as data (fixtures/simulation/*.toml).

A model file names the province, how many dossiers arrive and when, how citizens behave,
how long officers take, what happens outside the portal, how many officers each unit has
(the province file's staffing, with overrides) and how citizens rate. A scenario file
``extends`` another and overrides what it changes: tables merge key by key.

Every figure here is a modelling choice [U]; fixtures/simulation/base.toml explains how
the defaults were calibrated.
"""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "simulation"

Share = Annotated[float, msgspec.Meta(ge=0, le=1)]
Positive = Annotated[float, msgspec.Meta(gt=0)]


class LogNormal(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A right-skewed duration: half of the draws fall below ``median``."""

    median: Positive
    sigma: Annotated[float, msgspec.Meta(ge=0, le=3)] = 0.5


class Arrivals(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: Dossiers per working day across the province, before the shapes.
    per_working_day: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
    #: Monday … Friday multipliers.
    weekday: tuple[Positive, Positive, Positive, Positive, Positive] = (1.0, 1.0, 1.0, 1.0, 1.0)
    #: January … December multipliers (Tết, the end of the year).
    month: Annotated[tuple[Positive, ...], msgspec.Meta(min_length=12, max_length=12)] = (1.0,) * 12
    #: Online submissions on a day off, as a share of a working day's.
    day_off_online: Share = 0.15
    #: Share of arrivals by the level of the procedure.
    level: dict[str, Share] = msgspec.field(
        default_factory=lambda: {"commune": 0.7, "district": 0.2, "province": 0.1}
    )
    #: Relative weight of a procedure inside its level (default 1).
    weights: dict[str, Annotated[float, msgspec.Meta(ge=0)]] = msgspec.field(default_factory=dict)
    #: Online share on 1 January and on 31 December (linear between),
    #: among procedures offered online.
    online_share: tuple[Share, Share] = (0.15, 0.3)
    #: Share submitted by post (bưu chính công ích).
    post_share: Share = 0.02


class Citizens(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: Incomplete at intake: the one-stop unit asks for a supplement (Form 02).
    incomplete: Share = 0.06
    #: Not received at all (Form 03 at intake).
    rejected_at_intake: Share = 0.01
    #: A supplement asked during processing (the time limit restarts).
    supplement_in_processing: Share = 0.02
    #: Refused after appraisal (Form 03).
    refused: Share = 0.01
    #: Withdrawn by the citizen during processing.
    withdrawn: Share = 0.004
    #: Calendar days the citizen takes to supplement.
    supplement_days: LogNormal = LogNormal(2.0, 0.9)
    #: Fees paid online for online dossiers (the rest at the counter).
    pays_online: Share = 0.7
    #: Share of finished dossiers the citizen rates.
    rates: Share = 0.6


class Service(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An officer's working minutes per task, by role."""

    reception: LogNormal = LogNormal(12, 0.5)
    specialist: LogNormal = LogNormal(40, 0.8)
    leader: LogNormal = LogNormal(8, 0.6)
    clerk: LogNormal = LogNormal(6, 0.5)
    #: A specialist step's effort grows with its budget: × (budget hours / 8) ** this.
    specialist_budget_scale: Annotated[float, msgspec.Meta(ge=0, le=2)] = 0.5


class External(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Waits outside the portal: another agency's verification during a specialist step."""

    probability: Share = 0.05
    days: LogNormal = LogNormal(1.5, 1.0)


class Staff(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reception: Annotated[int, msgspec.Meta(ge=0, le=500)] | None = None
    specialist: Annotated[int, msgspec.Meta(ge=0, le=500)] | None = None
    leader: Annotated[int, msgspec.Meta(ge=0, le=500)] | None = None
    clerk: Annotated[int, msgspec.Meta(ge=0, le=500)] | None = None


class Staffing(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Overrides of the province file's staffing: by kind of unit, then by unit key."""

    kind: dict[str, Staff] = msgspec.field(default_factory=dict)
    unit: dict[str, Staff] = msgspec.field(default_factory=dict)


class Ratings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: Levels 4, 3, 2, 1 (Rất hài lòng … Không hài lòng) for a dossier on time, first time right.
    base: tuple[Share, Share, Share, Share] = (0.7, 0.295, 0.004, 0.001)
    #: Chance that each of these lowers the level by one.
    late: Share = 0.5
    apology: Share = 0.3
    supplement: Share = 0.1
    #: Long waits at the counter (minutes in the queue beyond this) lower it too.
    queue_minutes: Positive = 60

    def draw(self, rng: random.Random, row: dict[str, Any], waited: float | None = None) -> int:
        """The level a citizen gives a finished dossier: the base draw, lowered one step by
        each thing that went wrong, each with its chance (``waited``: minutes queued, if known)."""
        level = rng.choices((4, 3, 2, 1), weights=self.base)[0]
        late = row["timeliness"] == "late" or row["apologized"]
        hits = [
            (late, self.late),
            (row["apologized"], self.apology),
            (row["supplements"] > 0, self.supplement),
        ]
        if waited is not None:
            hits.append((waited > self.queue_minutes, self.late / 2))
        for hit, chance in hits:
            if hit and rng.random() < chance:
                level = max(1, level - 1)
        return level


class Apology(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: Working days added to the appointment by the apology letter (Form 04).
    extra_working_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 3


class Model(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    arrivals: Arrivals
    province: str = "yen-bai-2021"
    description: str = ""
    citizens: Citizens = Citizens()
    service: Service = Service()
    external: External = External()
    staffing: Staffing = Staffing()
    ratings: Ratings = Ratings()
    apology: Apology = Apology()


class ModelError(ValueError):
    pass


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in seen:
        raise ModelError(f"{path}: extends itself ({' → '.join(p.name for p in seen)})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: {exc}") from None
    parent = data.pop("extends", None)
    if parent:  # beside the file, else one of fixtures/simulation
        beside = (path.parent / parent).resolve()
        return _merge(_raw(beside if beside.exists() else find(parent), (*seen, path)), data)
    return data


def find(name: str | Path) -> Path:
    """A model file by path, or by name in fixtures/simulation (``base`` → base.toml)."""
    path = Path(name)
    if path.exists():
        return path.resolve()
    candidate = FIXTURES / (path.name if path.suffix else f"{path.name}.toml")
    if candidate.exists():
        return candidate
    raise ModelError(
        f"no model file {name} (in {FIXTURES}: {', '.join(sorted(p.stem for p in FIXTURES.glob('*.toml')))})"
    )


def load_model(name: str | Path = "base") -> Model:
    path = find(name)
    try:
        return msgspec.convert(_raw(path), Model)
    except msgspec.ValidationError as exc:  # msgspec names the field: keep the file in the message
        raise ModelError(f"{path}: {exc}") from None


def schema() -> dict[str, Any]:
    """The JSON Schema of a model file (for editors and reviewers)."""
    return msgspec.json.schema(Model)
