"""Load and validate the procedure catalogue.

``load_catalogue()`` reads every ``catalogue/*.toml`` file, decodes it into
``schema.Procedure`` and checks the rules a schema cannot express (selectors,
time budgets, cross references). Any problem raises ``CatalogueError`` naming the
file and the field, e.g. ``catalogue/1.001193.toml: $.workflow[2].unit: …``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from procedures.schema import HOURS_PER_WORKING_DAY, SELECTOR, Procedure

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


class CatalogueError(ValueError):
    def __init__(self, path: Path, field: str, message: str) -> None:
        self.path, self.field, self.message = path, field, message
        super().__init__(f"{_display(path)}: {field}: {message}")


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(CATALOGUE_DIR.parent))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Catalogue:
    procedures: tuple[Procedure, ...]

    @functools.cached_property
    def by_code(self) -> dict[str, Procedure]:
        return {p.code: p for p in self.procedures}

    def __len__(self) -> int:
        return len(self.procedures)

    def __iter__(self):
        return iter(self.procedures)

    def get(self, code: str) -> Procedure | None:
        return self.by_code.get(code)


def load_procedure(path: Path) -> Procedure:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(path, "$", f"not valid TOML ({exc})") from exc
    try:
        procedure = msgspec.convert(raw, Procedure)
    except msgspec.ValidationError as exc:
        # msgspec says "… - at `$.workflow[0].hours`"; split that into field and message.
        text = str(exc)
        message, _, where = text.rpartition(" - at ")
        if not message:
            message, where = text, "$"
        raise CatalogueError(path, where.strip("`"), message) from exc
    check_procedure(path, procedure)
    return procedure


def check_procedure(path: Path, p: Procedure) -> None:
    """Rules across fields; each failure names the field like msgspec does."""

    def fail(field: str, message: str) -> None:
        raise CatalogueError(path, field, message)

    if path.stem != p.code:
        fail("$.code", f"file must be named after the code ({p.code}.toml)")
    for field_name, value in [("$.competent_unit", p.competent_unit)] + [
        (f"$.receiving[{i}]", s) for i, s in enumerate(p.receiving)
    ]:
        if not SELECTOR.match(value):
            fail(field_name, f"unknown unit selector {value!r}")
    if not p.receiving:
        fail("$.receiving", "at least one receiving unit kind is required")
    if "receiving" in p.receiving:
        fail("$.receiving", "'receiving' is a workflow selector, not a unit kind")

    _unique(path, "$.documents", (d.key for d in p.documents))
    _unique(path, "$.form", (f.key for f in p.form))
    _unique(path, "$.workflow", (s.key for s in p.workflow))

    fields = {f.key: f for f in p.form}
    for i, f in enumerate(p.form):
        if f.type == "select" and not f.options:
            fail(f"$.form[{i}].options", "a select field needs options")
        if f.type != "select" and f.options:
            fail(f"$.form[{i}].options", "only select fields have options")

    if not p.workflow:
        fail("$.workflow", "a procedure needs at least one step")
    first = p.workflow[0]
    if first.unit != "receiving" or first.role != "reception":
        fail("$.workflow[0]", "the first step is reception at the receiving one-stop unit")
    if len(p.workflow) < 3:
        fail("$.workflow", "at least reception, one resolving step and the return of the result")
    if p.workflow[-2].role != "leader":
        fail(f"$.workflow[{len(p.workflow) - 2}].role", "the step before the return is a leader's approval")
    for i, step in enumerate(p.workflow):
        if not SELECTOR.match(step.unit):
            fail(f"$.workflow[{i}].unit", f"unknown unit selector {step.unit!r}")
        if i == 0 and step.handoff != "internal":
            fail(f"$.workflow[{i}].handoff", "the first step has no hand-off")
    budget = statutory_hours(p)
    if budget is not None and p.hours_budget > budget + 1e-9:
        fail(
            "$.workflow",
            f"steps take {p.hours_budget:g} working hours, more than the statutory "
            f"{budget:g} ({p.time_limit.value} {p.time_limit.unit})",
        )

    for i, item in enumerate(p.fee.items):
        if item.per != "case" and not item.quantity_field:
            fail(f"$.fee.items[{i}].quantity_field", f"a per-{item.per} fee needs a quantity field")
        if item.quantity_field:
            qf = fields.get(item.quantity_field)
            if qf is None or qf.type != "integer":
                fail(
                    f"$.fee.items[{i}].quantity_field",
                    f"{item.quantity_field!r} is not an integer field of the form",
                )
    for i, ex in enumerate(p.fee.exemptions):
        ff = fields.get(ex.when)
        if ff is None or ff.type != "boolean":
            fail(f"$.fee.exemptions[{i}].when", f"{ex.when!r} is not a boolean field of the form")


def statutory_hours(p: Procedure) -> float | None:
    """The working hours the statutory limit allows; None where it is in calendar days."""
    limit = p.time_limit
    if limit.unit == "same_day":
        return HOURS_PER_WORKING_DAY * max(1, limit.value or 1)
    if limit.unit == "working_days":
        return HOURS_PER_WORKING_DAY * limit.value
    # Calendar days include weekends; a working-day budget is at most that many days.
    return HOURS_PER_WORKING_DAY * limit.value


def _unique(path: Path, where: str, keys: Iterable[str]) -> None:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            raise CatalogueError(path, f"{where}[{i}].key", f"duplicate key {key!r}")
        seen.add(key)


def load_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise CatalogueError(directory, "$", "no procedure files found")
    procedures = tuple(load_procedure(p) for p in paths)
    return Catalogue(procedures)


@functools.cache
def default_catalogue() -> Catalogue:
    return load_catalogue()
