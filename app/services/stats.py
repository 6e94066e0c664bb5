"""The province's figures, computed in SQL from the dossiers, steps, ratings and feedback.

Three views share one vocabulary (reference §1.6, §4, §8.4):

- ``summary``: received, resolved early / on time / late, refused, withdrawn, open within
  time / overdue, online share, average resolution time, satisfaction — per unit, level,
  procedure or the whole province.
- ``evaluation``: the nine indices of Circular 01/2018, per agency and per officer.
- ``index_766``: the indicators of Decision 766 the portal's own data can compute.

The figures are sums over the statistics' rollup (per month, unit and procedure, and per
month and officer; app/domain/rollup.py says what each dossier counts for and when), kept
in the transaction of every change: a quarter at 10^6 dossiers is a few thousand rollup
rows. Only what is open *now* is read from the dossiers themselves (the few not finished).
A dossier is *late* when it finished after its appointment, when it needed more than one
supplement, or when the unit had to apologise (the apology exists because the original
appointment was missed; 766 counts by the original date [U]).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from typing import Any

from app.db.dialect import Dialect
from app.db.engine import engine_name
from app.db.tables import Dossier
from app.domain import evaluation as ev
from app.domain.clock import Clock
from app.domain.directory import Directory
from app.domain.periods import Period
from app.domain.rollup import EVALUATION_FIGURES, OFFICER_FIGURES, WAITING, month_of
from app.services.catalogue import CatalogueService
from app.services.errors import Invalid

GROUPINGS = ("province", "level", "unit", "procedure")
COUNTS = (
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
    "ended_in_time",
    "ended_late",
    "open",
    "open_overdue",
    "rated",
    "satisfied",
    "dissatisfied",
)
LEVEL_LABELS = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}


#: Rollup figures the summary sums over the period's months (the rest of COUNTS are the
#: balances open / open_overdue).
SUMMARY_FLOWS = tuple(n for n in COUNTS if n not in ("open", "open_overdue")) + ("resolution_seconds",)
#: What the 766 indicators sum, beside the summary.
INDEX_766_SUMS = (
    "fee_dossiers",
    "paid_online",
    "approved",
    "electronic_results",
    "digitised",
    "resolved",
    "unhappy",
)
_KEYS = {"province": "'province'", "level": "u.level", "unit": "m.unit_code", "procedure": "m.procedure_code"}
_UNIT_JOIN = "JOIN unit u ON u.code = m.unit_code"


def _rate(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def _months(period: Period) -> tuple[int, int]:
    """The rollup's months [first, last) of a period of whole months (the only kind kept)."""
    if not period.whole_months:
        raise Invalid("Kỳ thống kê phải gồm trọn các tháng.", {"period": period.key})
    return month_of(period.start), month_of(period.end)


def _mean(total: Any, count: Any) -> float | None:
    """A Circular 01 index averaged to one decimal (None without data); sums arrive as int
    or, from PostgreSQL's SUM over BIGINT, as Decimal."""
    return ev.one_decimal(int(total) / int(count)) if count else None


def _pct(numerator: float, denominator: float) -> float | None:
    rate = _rate(numerator, denominator)
    return None if rate is None else round(100 * rate, 2)


@dataclass(frozen=True)
class Scope:
    """Which dossiers: the province, one level, one unit, one procedure."""

    unit: str = ""
    level: str = ""
    procedure: str = ""

    def where(self, params: list[Any], unit: str = "m.unit_code", procedure: str = "m.procedure_code") -> str:
        """SQL clauses (each after AND) over the rollup's columns, or the ones named; the
        level is the joined ``unit u``'s."""
        clauses = []
        if self.unit:
            clauses.append(f"{unit} = {{}}")
            params.append(self.unit)
        if self.level:
            clauses.append("u.level = {}")
            params.append(self.level)
        if self.procedure:
            clauses.append(f"{procedure} = {{}}")
            params.append(self.procedure)
        return "".join(f" AND {c}" for c in clauses)


@dataclass
class StatsService:
    clock: Clock
    directory: Directory
    catalogue: CatalogueService

    @cached_property
    def _procedures_at(self) -> dict[str, list]:
        """Each unit's code → the procedures it receives (by code: comparing unit records
        field by field, per agency, cost more than the SQL)."""
        out: dict[str, list] = {}
        for p in self.catalogue.catalogue:
            for unit in self.catalogue.receiving_units(p):
                out.setdefault(unit.code, []).append(p)
        return out

    @property
    def sql(self) -> Dialect:
        return Dialect(engine_name())

    def _as_of(self, period: Period) -> datetime:
        """Open dossiers are judged at the period's end, or now for the running period."""
        return min(period.end, self.clock.now())

    async def _raw(self, query: str, params: list[Any]) -> list[dict[str, Any]]:
        return await Dossier.raw(query, *params)

    def check(self, scope: Scope, group: str = "province") -> None:
        if group not in GROUPINGS:
            raise Invalid("Cách nhóm không hợp lệ.", {"group": ", ".join(GROUPINGS)})
        if scope.unit and self.directory.get(scope.unit) is None:
            raise Invalid("Đơn vị không tồn tại.", {"unit": f"Không có đơn vị {scope.unit}."})
        if scope.level and scope.level not in LEVEL_LABELS:
            raise Invalid("Cấp không hợp lệ.", {"level": ", ".join(LEVEL_LABELS)})
        if scope.procedure and self.catalogue.catalogue.get(scope.procedure) is None:
            raise Invalid("Thủ tục không tồn tại.", {"procedure": f"Không có thủ tục {scope.procedure}."})

    # --- summary ----------------------------------------------------------------------

    async def summary(self, period: Period, scope: Scope = Scope(), group: str = "province") -> list[dict]:
        self.check(scope, group)
        now = self.clock.now()
        if period.start > now:
            return []  # a period that has not begun has no figures yet
        first, last = _months(period)
        running = period.end > now
        params: list[Any] = []
        where = scope.where(params)
        flows = ",\n".join(
            f"SUM(CASE WHEN m.month >= {first} THEN m.{n} ELSE 0 END) AS {n}" for n in SUMMARY_FLOWS
        )
        # The period's flows, and — for a finished period — the balances of everything
        # before its end: open and overdue at that moment.
        balances = "" if running else ", SUM(m.open_change) AS open, SUM(m.overdue_change) AS open_overdue"
        since = f"m.month >= {first} AND " if running else ""
        rows = await self._raw(
            f"""
            SELECT {_KEYS[group]} AS key, {flows}{balances}
            FROM stats_month m {_UNIT_JOIN if group == "level" or scope.level else ""}
            WHERE {since}m.month < {last}{where}
            GROUP BY 1
            """,
            params,
        )
        found = {r["key"]: dict(r) for r in rows}
        if running:
            for r in await self._open_now(now, scope, group):
                found.setdefault(r["key"], {"key": r["key"]}).update(r)
        out = [self._summary_row(group, r) for _, r in sorted(found.items())]
        return [r for r in out if r["received"] or r["ended"] or r["open"]]

    async def summary_with_total(
        self, period: Period, scope: Scope = Scope(), group: str = "province"
    ) -> tuple[list[dict], dict | None]:
        """The rows by ``group`` and the scope's total (None when it has no figures) — what
        the statistics page and the API show together."""
        return await self.summary(period, scope, group), await self.total(period, scope)

    async def total(self, period: Period, scope: Scope = Scope()) -> dict | None:
        """The scope's one summary row (None when it has no figures)."""
        rows = await self.summary(period, scope, "province")
        return rows[0] if rows else None

    async def _open_now(self, now: datetime, scope: Scope, group: str) -> list[dict[str, Any]]:
        """Open and overdue at ``now``, from the dossiers not finished then (few, through the
        (finished_at, received_at) index)."""
        q = self.sql
        at = q.ts(now)
        params: list[Any] = []
        where = scope.where(params, unit="d.receiving_unit", procedure="d.procedure_code")
        key = {"unit": "d.receiving_unit", "procedure": "d.procedure_code"}.get(group, _KEYS[group])
        join = "JOIN unit u ON u.code = d.receiving_unit" if group == "level" or scope.level else ""
        waiting = ", ".join(str(s) for s in sorted(WAITING))
        return await self._raw(
            f"""
            SELECT {key} AS key, COUNT(*) AS open,
              SUM(CASE WHEN d.due_at < {at} AND d.status NOT IN ({waiting}) THEN 1 ELSE 0 END)
                AS open_overdue
            FROM dossier d {join}
            WHERE ((d.finished_at IS NULL AND d.received_at < {at})
              OR (d.finished_at >= {at} AND {q.unindexed("d.received_at")} < {at})){where}
            GROUP BY 1
            """,
            params,
        )

    def _summary_row(self, group: str, r: dict[str, Any]) -> dict[str, Any]:
        row = {k: int(r.get(k) or 0) for k in COUNTS}
        row["key"] = r["key"]
        row["name"] = self._name(group, r["key"])
        row["open_in_time"] = row["open"] - row["open_overdue"]
        row["early_pct"] = _pct(row["early"], row["resolved"])
        row["on_time_pct"] = _pct(row["on_time"], row["resolved"])
        row["late_pct"] = _pct(row["late"], row["resolved"])
        row["online_pct"] = _pct(row["received_online"], row["received"])
        # Decision 766 indicator 2.1: finished or still open, within time.
        row["in_time_pct"] = _pct(row["ended_in_time"] + row["open_in_time"], row["ended"] + row["open"])
        row["average_days"] = (
            round(int(r.get("resolution_seconds") or 0) / 86400 / row["resolved"], 1)
            if row["resolved"]
            else None
        )
        row["satisfaction_pct"] = _pct(row["satisfied"], row["rated"])
        return row

    def _name(self, group: str, key: str) -> str:
        if group == "province":
            return f"Toàn tỉnh {self.directory.place}".strip()
        if group == "level":
            return LEVEL_LABELS.get(key, key)
        if group == "unit":
            unit = self.directory.get(key)
            return unit.name if unit else key
        p = self.catalogue.catalogue.get(key)
        return p.name if p else key

    async def trend(self, period: Period, scope: Scope = Scope()) -> list[dict]:
        """The province's (or scope's) summary month by month: one query of the rollup by
        month, the balances carried from month to month."""
        self.check(scope)
        first, last = _months(period)
        now = self.clock.now()
        params: list[Any] = []
        where = scope.where(params)
        rows = await self._raw(
            f"""
            SELECT m.month AS month, {", ".join(f"SUM(m.{n}) AS {n}" for n in SUMMARY_FLOWS)},
              SUM(m.open_change) AS open_change, SUM(m.overdue_change) AS overdue_change
            FROM stats_month m {_UNIT_JOIN if scope.level else ""}
            WHERE m.month < {last}{where}
            GROUP BY m.month
            """,
            params,
        )
        by_month = {r["month"]: r for r in rows}
        before = [r for r in rows if r["month"] < first]
        open_ = sum(int(r["open_change"]) for r in before)
        overdue = sum(int(r["overdue_change"]) for r in before)
        out = []
        for month in period.months():
            if month.start > now:
                break
            r = by_month.get(month_of(month.start), {})
            open_ += int(r.get("open_change") or 0)
            overdue += int(r.get("overdue_change") or 0)
            figures = {"key": "province", **{n: r.get(n) for n in SUMMARY_FLOWS}}
            if month.end > now:  # running: what is open now
                [current] = await self._open_now(now, scope, "province") or [{}]
                figures.update(open=current.get("open"), open_overdue=current.get("open_overdue"))
            else:
                figures.update(open=open_, open_overdue=overdue)
            out.append({"period": month.key, "label": month.label, **self._summary_row("province", figures)})
        return out

    # --- Circular 01/2018 ---------------------------------------------------------------

    async def evaluation(self, period: Period, scope: Scope = Scope()) -> dict[str, Any]:
        """Indices 1–9 per agency (the receiving unit) and 1, 2, 3, 4, 7 per officer, over
        the dossiers resolved in the period."""
        self.check(scope)
        first, last = _months(period)
        params: list[Any] = []
        where = scope.where(params)
        agencies = await self._raw(
            f"""
            SELECT m.unit_code AS unit, u.level AS level, SUM(m.resolved) AS dossiers,
              {", ".join(f"SUM(m.{n}) AS {n}" for n in EVALUATION_FIGURES)}
            FROM stats_month m {_UNIT_JOIN}
            WHERE m.month >= {first} AND m.month < {last}{where}
            GROUP BY m.unit_code, u.level
            HAVING SUM(m.resolved) > 0
            ORDER BY m.unit_code
            """,
            params,
        )
        feedback = {r["unit"]: r for r in await self._feedback_by_unit(period)}
        agency_rows = [self._agency(a, feedback.get(a["unit"])) for a in agencies]
        agency_rows.sort(key=lambda a: (-(a["score"] or 0), a["unit"]))
        for rank, a in enumerate(agency_rows, 1):
            a["rank"] = rank

        officer_params: list[Any] = []
        officer_where = scope.where(officer_params, unit="o.unit_code", procedure="o.procedure_code")
        officers = await self._raw(
            f"""
            SELECT o.actor AS username, MAX(pu.full_name) AS full_name, MAX(o.step_unit) AS unit,
              {", ".join(f"SUM(o.{n}) AS {n}" for n in OFFICER_FIGURES)}
            FROM stats_officer_month o
            {"JOIN unit u ON u.code = o.unit_code" if scope.level else ""}
            LEFT JOIN portal_user pu ON pu.username = o.actor
            WHERE o.month >= {first} AND o.month < {last}{officer_where}
            GROUP BY o.actor
            HAVING SUM(o.steps) > 0
            ORDER BY o.actor
            """,
            officer_params,
        )
        return {
            "period": period.key,
            "period_label": period.label,
            "index_names": ev.INDEX_NAMES,
            "agencies": agency_rows,
            "officers": [self._officer(o) for o in officers],
        }

    async def _feedback_by_unit(self, period: Period) -> list[dict[str, Any]]:
        q = self.sql
        start, end, as_of = q.ts(period.start), q.ts(period.end), q.ts(self._as_of(period))
        return await self._raw(
            f"""
            SELECT f.unit_code AS unit, COUNT(*) AS filed,
              SUM(CASE WHEN f.timeliness IN ('early', 'on_time') THEN 1 ELSE 0 END) AS on_time,
              SUM(CASE WHEN f.repeat_of IS NOT NULL OR (f.answered_at IS NULL AND f.due_at < {as_of})
                  OR f.timeliness = 'late' THEN 1 ELSE 0 END) AS protracted,
              SUM(CASE WHEN f.satisfied = FALSE OR f.repeat_of IS NOT NULL OR f.timeliness = 'late'
                  OR (f.answered_at IS NULL AND f.due_at < {as_of}) THEN 1 ELSE 0 END) AS unsatisfied,
              SUM(CASE WHEN f.answered_at IS NOT NULL OR f.due_at < {as_of} THEN 1 ELSE 0 END) AS due
            FROM feedback f
            WHERE f.filed_at >= {start} AND f.filed_at < {end}
            GROUP BY f.unit_code
            """,
            [],
        )

    def _agency(self, a: dict[str, Any], feedback: dict[str, Any] | None) -> dict[str, Any]:
        unit = self.directory.get(a["unit"])
        procedures = self._procedures_at.get(a["unit"], [])
        online_procedures = [p for p in procedures if p.online_level in ("full", "partial")]
        indices: dict[int, float | None] = {
            1: _mean(a["i1_sum"], a["dossiers"]),
            2: _mean(a["i2_sum"], a["i2_count"]),
            3: _mean(a["i3_sum"], a["i3_count"]),
            4: _mean(a["i4_sum"], a["i4_count"]),
            5: ev.index5(int(a["in_unit"] or 0), int(a["dossiers"]), a["level"]),
            6: None,  # needs the posted board at the counter: not in the portal's data
            7: _mean(a["i7_sum"], a["dossiers"]),
            8: ev.index8(
                int(feedback["filed"]) if feedback else 0,
                int(feedback["on_time"] or 0) if feedback else 0,
                int(feedback["protracted"] or 0) if feedback else 0,
            ),
            9: ev.index9(
                len(online_procedures),
                len(procedures),
                int(a["resolved_online"] or 0),
                int(a["dossiers"]),
                int(a["late_online"] or 0),
            ),
        }
        known = [v for v in indices.values() if v is not None]
        score = ev.one_decimal(sum(known)) if known else None
        klass = ev.classify_agency(score) if score is not None else None
        return {
            "unit": a["unit"],
            "name": unit.name if unit else a["unit"],
            "level": a["level"],
            "dossiers": int(a["dossiers"]),
            "indices": indices,
            "score": score,
            "max_score": 2 * len(known),
            "classification": klass.label if klass is not None else None,
        }

    def _officer(self, o: dict[str, Any]) -> dict[str, Any]:
        counts = {1: "steps", 2: "steps", 3: "i3_count", 4: "i4_count", 7: "steps"}
        indices = {i: _mean(o[f"i{i}_sum"], o[counts[i]]) for i in ev.OFFICER_INDICES}
        known = [v for v in indices.values() if v is not None]
        score = ev.one_decimal(sum(known)) if known else None
        unit = self.directory.get(o["unit"])
        return {
            "username": o["username"],
            "full_name": o["full_name"] or o["username"],
            "unit": o["unit"],
            "unit_name": unit.name if unit else o["unit"],
            "steps": int(o["steps"]),
            "indices": indices,
            "score": score,
            "classification": ev.classify_officer(score).label if score is not None else None,
        }

    # --- Decision 766 ---------------------------------------------------------------------

    async def index_766(self, period: Period, scope: Scope = Scope()) -> dict[str, Any]:
        self.check(scope)
        first, last = _months(period)
        params: list[Any] = []
        where = scope.where(params)
        s = await self.total(period, scope) or self._summary_row("province", {"key": "province"})
        by_procedure = await self._raw(
            f"""
            SELECT m.procedure_code AS procedure_code, SUM(m.received_online) AS received_online,
              {", ".join(f"SUM(m.{n}) AS {n}" for n in INDEX_766_SUMS)}
            FROM stats_month m {_UNIT_JOIN if scope.level else ""}
            WHERE m.month >= {first} AND m.month < {last}{where}
            GROUP BY m.procedure_code
            """,
            params,
        )
        extra = {n: sum(int(r[n] or 0) for r in by_procedure) for n in INDEX_766_SUMS}
        used_online = {r["procedure_code"] for r in by_procedure if r["received_online"]}
        procedures = self._procedures_in(scope)
        online_procs = [p for p in procedures if p.online_level in ("full", "partial")]
        fee_procs = [p for p in procedures if any(i.amount or i.tiers for i in p.fee.items)]
        feedback = await self._feedback_totals(period, scope)
        complete = [
            p
            for p in procedures
            if p.name and p.steps and p.documents and p.time_limit and p.applicants and p.competent_unit
        ]
        late_share = _rate(s["ended_late"], s["ended"])
        unhappy_share = _rate(extra["unhappy"], s["ended"])
        values: dict[str, tuple[float | None, float, float] | None] = {
            "1.1": None,
            "1.2": None,
            "1.3": (_rate(len(complete), len(procedures)), len(complete), len(procedures)),
            "1.4": None,
            "2.1": (
                _rate(s["ended_in_time"] + s["open_in_time"], s["ended"] + s["open"]),
                s["ended_in_time"] + s["open_in_time"],
                s["ended"] + s["open"],
            ),
            "2.2": (s["average_days"], s.get("resolved", 0), 0),
            "3.1": (_rate(len(online_procs), len(procedures)), len(online_procs), len(procedures)),
            "3.2": (
                _rate(len(used_online & {p.code for p in online_procs}), len(online_procs)),
                len(used_online & {p.code for p in online_procs}),
                len(online_procs),
            ),
            "3.3": (_rate(s["received_online"], s["received"]), s["received_online"], s["received"]),
            "3.5": (
                _rate(sum(p.online_level == "full" for p in fee_procs), len(fee_procs)),
                sum(p.online_level == "full" for p in fee_procs),
                len(fee_procs),
            ),
            "3.6": (
                _rate(extra["paid_online"], extra["fee_dossiers"]),
                extra["paid_online"],
                extra["fee_dossiers"],
            ),
            "4.1": (
                _rate(extra["electronic_results"], extra["approved"]),
                extra["electronic_results"],
                extra["approved"],
            ),
            "4.2": (_rate(extra["digitised"], extra["resolved"]), extra["digitised"], extra["resolved"]),
            "4.3": None,
            "4.4": None,
            "5.1": (_rate(feedback["on_time"], feedback["due"]), feedback["on_time"], feedback["due"]),
            "5.2": (
                _rate(feedback["filed"] - feedback["unsatisfied"], feedback["filed"]),
                feedback["filed"] - feedback["unsatisfied"],
                feedback["filed"],
            ),
            "5.3": (
                None if late_share is None else max(0.0, 1 - late_share - (unhappy_share or 0)),
                s["ended_late"] + extra["unhappy"],
                s["ended"],
            ),
        }
        groups = []
        total = possible = 0.0
        for group in ev.GROUPS_766:
            indicators = []
            earned = available = 0.0
            for ind in group.indicators:
                value = values.get(ind.code)
                if value is None:
                    indicators.append(
                        {
                            "code": ind.code,
                            "name": ind.name,
                            "formula": ind.formula,
                            "max_points": ind.points,
                            "available": False,
                            "note": "Cần dữ liệu ngoài Cổng (không tự suy đoán).",
                        }
                    )
                    continue
                rate, numerator, denominator = value
                points = ev.indicator_points(ind, rate)
                row = {
                    "code": ind.code,
                    "name": ind.name,
                    "formula": ind.formula,
                    "max_points": ind.points,
                    "available": True,
                    "numerator": numerator,
                    "denominator": denominator,
                    "value": round(rate, 1) if ind.monitoring and rate is not None else None,
                    "rate_pct": None if ind.monitoring or rate is None else round(100 * rate, 2),
                    "full_at_pct": round(100 * ind.full_at),
                    "points": points,
                }
                indicators.append(row)
                if not ind.monitoring and rate is not None:
                    earned += points or 0
                    available += ind.points
            total += earned
            possible += available
            groups.append(
                {
                    "number": group.number,
                    "name": group.name,
                    "max_points": group.points,
                    "points": round(earned, 2),
                    "available_points": available,
                    "indicators": indicators,
                }
            )
        return {
            "period": period.key,
            "period_label": period.label,
            "groups": groups,
            "points": round(total, 2),
            "available_points": possible,
            "max_points": 100,
        }

    def _procedures_in(self, scope: Scope) -> list:
        procedures = list(self.catalogue.catalogue)
        if scope.procedure:
            return [p for p in procedures if p.code == scope.procedure]
        if scope.unit:
            return self._procedures_at.get(scope.unit, [])
        if scope.level:
            return [
                p
                for p in procedures
                if any(u.level == scope.level for u in self.catalogue.receiving_units(p))
            ]
        return procedures

    async def _feedback_totals(self, period: Period, scope: Scope) -> dict[str, int]:
        rows = await self._feedback_by_unit(period)
        units = None
        if scope.unit:
            units = {scope.unit}
        elif scope.level:
            units = {u.code for u in self.directory.units if u.level == scope.level}
        totals = {"filed": 0, "on_time": 0, "protracted": 0, "unsatisfied": 0, "due": 0}
        for r in rows:
            if units is None or r["unit"] in units:
                for k in totals:
                    totals[k] += int(r[k] or 0)
        return totals
