"""The procedure catalogue joined with the province's units: search, filters, shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.domain.directory import Directory, UnitRecord
from app.domain.text import fold
from procedures.forms import form_schema
from procedures.loader import Catalogue
from procedures.schema import Procedure

LEVEL_LABELS = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
ONLINE_LABELS = {"full": "Toàn trình", "partial": "Một phần"}
TIME_UNIT_LABELS = {"working_days": "ngày làm việc", "days": "ngày", "same_day": "trong ngày"}


@dataclass(frozen=True)
class CatalogueQuery:
    q: str = ""
    level: str = ""
    unit: str = ""
    field: str = ""
    online: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.level or self.unit or self.field or self.online)


def time_limit_text(p: Procedure) -> str:
    tl = p.time_limit
    if tl.unit == "same_day":
        return "Trong ngày làm việc"
    return f"{tl.value:02d} {TIME_UNIT_LABELS[tl.unit]}"


class CatalogueService:
    def __init__(self, catalogue: Catalogue, directory: Directory) -> None:
        self.catalogue = catalogue
        self.directory = directory
        self._search_keys = {p.code: fold(" ".join([p.code, p.name, p.field, p.result])) for p in catalogue}
        self._receiving = {p.code: self.directory.receiving_units(p.receiving) for p in catalogue}

    def fields(self) -> list[str]:
        return sorted({p.field for p in self.catalogue}, key=fold)

    def get(self, code: str) -> Procedure | None:
        return self.catalogue.get(code)

    def receiving_units(self, p: Procedure) -> list[UnitRecord]:
        return self._receiving[p.code]

    def search(self, query: CatalogueQuery) -> list[Procedure]:
        """Filters, then the text: the typed phrase if some procedure contains it,
        otherwise every typed word at the start of some word (accents ignored)."""
        candidates = [p for p in self.catalogue if self._passes_filters(p, query)]
        phrase = fold(query.q)
        if phrase:
            exact = [p for p in candidates if phrase in self._search_keys[p.code]]
            if exact:
                candidates = exact
            else:
                words = [re.compile(r"(^|\W)" + re.escape(w)) for w in phrase.split()]
                candidates = [
                    p for p in candidates if all(w.search(self._search_keys[p.code]) for w in words)
                ]
        return sorted(candidates, key=lambda p: (p.synthetic, fold(p.name)))

    def _passes_filters(self, p: Procedure, query: CatalogueQuery) -> bool:
        return (
            (not query.level or self.effective_level(p) == query.level)
            and (not query.online or p.online_level == query.online)
            and (not query.field or p.field == query.field)
            and (not query.unit or any(u.code == query.unit for u in self._receiving[p.code]))
        )

    def effective_level(self, p: Procedure) -> str:
        """The level where the province handles it (2025: district procedures go to communes)."""
        return self.directory.level_map.get(p.level, p.level)

    def summary(self, p: Procedure) -> dict[str, Any]:
        return {
            "code": p.code,
            "name": p.name,
            "field": p.field,
            "level": self.effective_level(p),
            "online_level": p.online_level,
            "time_limit": {"value": p.time_limit.value, "unit": p.time_limit.unit},
            "fee": p.fee.description or ("Không thu phí, lệ phí" if not p.fee.items else ""),
            "synthetic": p.synthetic,
        }

    def detail(self, p: Procedure) -> dict[str, Any]:
        return {
            **self.summary(p),
            "statutory_level": p.level,
            "competent_unit": p.competent_unit,
            "time_limit": {"value": p.time_limit.value, "unit": p.time_limit.unit, "note": p.time_limit.note},
            "fee": p.fee.description,
            "fee_items": [
                {
                    "name": i.name,
                    "kind": i.kind,
                    "per": i.per,
                    "amount": i.amount,
                    "online_amount": i.online_amount,
                    "maximum": i.maximum or None,
                }
                for i in p.fee.items
            ],
            "fee_exemptions": [{"when": e.when, "label": e.label} for e in p.fee.exemptions],
            "units": [u.code for u in self._receiving[p.code]],
            "at_counter": p.at_counter,
            "applicants": list(p.applicants),
            "result": p.result,
            "result_type": p.result_type,
            "legal_basis": list(p.legal_basis),
            "steps": p.steps,
            "form_schema": form_schema(p),
            "documents": [
                {
                    "key": d.key,
                    "name": d.name,
                    "required": d.required,
                    "originals": d.originals,
                    "copies": d.copies,
                    "template": d.template or None,
                }
                for d in p.documents
            ],
            "workflow": [
                {
                    "key": s.key,
                    "name": s.name,
                    "unit": s.unit,
                    "role": s.role,
                    "hours": s.hours,
                    "handoff": s.handoff,
                }
                for s in p.workflow
            ],
            "sources": list(p.sources),
            "unconfirmed": list(p.unconfirmed),
        }
