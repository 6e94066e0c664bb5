"""Fee computation from a procedure's fee rules: pure, amounts in VND."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procedures.schema import FeeItem, Procedure


@dataclass(frozen=True)
class FeeLine:
    name: str
    amount: int


@dataclass(frozen=True)
class FeeQuote:
    lines: tuple[FeeLine, ...]
    exemption: str | None

    @property
    def total(self) -> int:
        return 0 if self.exemption else sum(line.amount for line in self.lines)


def _item_amount(item: FeeItem, form: dict[str, Any], online: bool) -> int:
    unit_price = item.online_amount if online and item.online_amount is not None else item.amount
    if item.per == "case":
        return unit_price
    quantity = max(0, int(form.get(item.quantity_field) or 0) - item.free_quantity)
    if item.tiers:
        total = 0
        for n in range(item.free_quantity + 1, item.free_quantity + quantity + 1):
            tier = next((t for t in item.tiers if t.from_ <= n and (t.to == 0 or n <= t.to)), None)
            total += tier.amount if tier else unit_price
    else:
        total = unit_price * quantity
    return min(total, item.maximum) if item.maximum else total


def quote(p: Procedure, form: dict[str, Any], *, online: bool) -> FeeQuote:
    exemption = next((ex.label for ex in p.fee.exemptions if form.get(ex.when) is True), None)
    lines = tuple(FeeLine(i.name, _item_amount(i, form, online)) for i in p.fee.items)
    return FeeQuote(lines, exemption)
