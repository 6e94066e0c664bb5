"""The province's units as an in-memory tree, and who receives which procedure. Pure."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class UnitRecord:
    code: str
    key: str
    name: str
    kind: str
    level: str
    parent_code: str | None
    one_stop_name: str
    synthetic: bool = False

    @property
    def is_one_stop(self) -> bool:
        return bool(self.one_stop_name)


class Directory:
    def __init__(self, units: Iterable[UnitRecord], level_map: dict[str, str] | None = None, place: str = ""):
        self.units: tuple[UnitRecord, ...] = tuple(units)
        self.by_code = {u.code: u for u in self.units}
        self.by_key = {u.key: u for u in self.units}
        self.level_map = dict(level_map or {})
        #: The place name written on documents' date lines ("Yên Bái, ngày …").
        self.place = place
        kids: dict[str | None, list[UnitRecord]] = defaultdict(list)
        for u in self.units:
            kids[u.parent_code].append(u)
        self._children = kids
        self._by_kind: dict[str, list[UnitRecord]] = defaultdict(list)
        for u in self.units:
            self._by_kind[u.kind].append(u)
        #: The directory never changes once built: workflow selectors resolve once per unit,
        #: and procedures' receiving kinds once each.
        self._resolved: dict[tuple[str, str], UnitRecord | None] = {}
        self._receivers: dict[tuple[str, ...], tuple[UnitRecord, ...]] = {}

    def __len__(self) -> int:
        return len(self.units)

    def get(self, code: str) -> UnitRecord | None:
        return self.by_code.get(code)

    def children(self, code: str | None) -> list[UnitRecord]:
        return self._children.get(code, [])

    def ancestors(self, code: str) -> list[UnitRecord]:
        out: list[UnitRecord] = []
        unit = self.by_code.get(code)
        while unit and unit.parent_code:
            unit = self.by_code.get(unit.parent_code)
            if unit:
                out.append(unit)
        return out

    def is_within(self, code: str, ancestor_code: str) -> bool:
        """True if ``code`` is ``ancestor_code`` or lies below it."""
        return code == ancestor_code or any(a.code == ancestor_code for a in self.ancestors(code))

    def of_kind(self, kind: str) -> list[UnitRecord]:
        return list(self._by_kind.get(kind, ()))

    def receiving_units(self, selectors: Iterable[str]) -> list[UnitRecord]:
        """The one-stop units that receive a procedure whose ``receiving`` kinds are given.

        Where a level does not exist (the 2025 structure has no districts), the
        province's ``level_map`` says who receives instead (district → commune).
        """
        key = tuple(selectors)
        if key not in self._receivers:
            self._receivers[key] = tuple(self._receiving_units(key))
        return list(self._receivers[key])

    def _receiving_units(self, selectors: tuple[str, ...]) -> list[UnitRecord]:
        found: dict[str, UnitRecord] = {}
        for selector in selectors:
            kind, _, key = selector.partition(":")
            kind = self.level_map.get(kind, kind) if not self.of_kind(kind) else kind
            if kind == "commune" and key:
                matches = [u for u in self.of_kind("commune_agency") if u.key.endswith("-" + key)]
            elif kind in ("department",) and key:
                matches = [u for u in self.of_kind("department") if u.key == key]
            else:
                matches = self.of_kind(kind)
            for u in matches:
                found.setdefault(u.code, u)
        return [u for u in self.units if u.code in found]

    def resolve(self, selector: str, receiving_code: str) -> UnitRecord | None:
        """The unit a workflow selector names for a dossier received at ``receiving_code``."""
        key = (selector, receiving_code)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(selector, receiving_code)
        return self._resolved[key]

    def _resolve(self, selector: str, receiving_code: str) -> UnitRecord | None:
        receiving = self.by_code.get(receiving_code)
        if receiving is None:
            return None
        kind, _, key = selector.partition(":")
        chain = [receiving, *self.ancestors(receiving_code)]

        def first(k: str) -> UnitRecord | None:
            return next((u for u in chain if u.kind == k), None)

        if kind == "district" and not self.of_kind("district"):
            kind = self.level_map.get("district", "commune")  # 2025: no districts
            key = ""
        match kind, key:
            case "receiving", _:
                return receiving
            case (("province" | "center"), _):
                return next(iter(self.of_kind(kind)), None)
            case "department", k:
                unit = self.by_key.get(k)
                return unit if unit and unit.kind == "department" else None
            case (("district" | "commune"), ""):
                return first(kind)
            case "district", k:
                district = first("district")
                return self.by_key.get(f"{district.key}-{k}") if district else None
            case "commune", k:
                if receiving.kind == "commune_agency" and receiving.key.endswith("-" + k):
                    return receiving
                commune = first("commune")
                return (
                    next((c for c in self.children(commune.code) if c.key.endswith("-" + k)), None)
                    if commune
                    else None
                )
        return None

    def tree(self) -> list[dict[str, Any]]:
        def node(u: UnitRecord) -> dict[str, Any]:
            return {
                "code": u.code,
                "key": u.key,
                "name": u.name,
                "kind": u.kind,
                "level": u.level,
                "one_stop": u.is_one_stop,
                "one_stop_name": u.one_stop_name or None,
                "synthetic": u.synthetic,
                "children": [node(c) for c in self.children(u.code)],
            }

        return [node(u) for u in self.children(None)]
