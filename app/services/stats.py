"""The province's figures, computed in SQL from the dossiers, steps, ratings and feedback.

Three views share one vocabulary (reference §1.6, §4, §8.4):

- ``summary``: received, resolved early / on time / late, refused, withdrawn, open within
  time / overdue, online share, average resolution time, satisfaction — per unit, level,
  procedure or the whole province.
- ``evaluation``: the nine indices of Circular 01/2018, per agency and per officer.
- ``index_766``: the indicators of Decision 766 the portal's own data can compute.

Every aggregate is one SQL statement over the period's rows (no dossier is loaded into
Python). A dossier is *late* when it finished after its appointment, when it needed more
than one supplement, or when the unit had to apologise (the apology exists because the
original appointment was missed; 766 counts by the original date [U]).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from app.db.engine import engine_name
from app.db.tables import Dossier
from app.domain import evaluation as ev
from app.domain.clock import Clock
from app.domain.directory import Directory
from app.domain.periods import Period
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


class Dialect:
    """The few SQL pieces that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.name = name

    def ts(self, moment: datetime) -> str:
        # Literals from datetimes we made (never user text). SQLite keeps Timestamptz as
        # UTC text in this very format, so comparisons are textual and index-friendly.
        text = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00")
        return f"'{text}'" if self.name == "sqlite" else f"'{text}'::timestamptz"

    def unindexed(self, column: str) -> str:
        """``column`` in a term that must not pick its own index (SQLite's unary plus)."""
        return f"+{column}" if self.name == "sqlite" else column

    def days(self, start: str, end: str) -> str:
        if self.name == "sqlite":
            return f"(julianday({end}) - julianday({start}))"
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


#: The effective timeliness of a finished dossier (see the module docstring).
EFFECTIVE = "(CASE WHEN d.apologized OR d.supplements > 1 THEN 'late' ELSE d.timeliness END)"


def _rate(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def _pct(numerator: float, denominator: float) -> float | None:
    rate = _rate(numerator, denominator)
    return None if rate is None else round(100 * rate, 2)


@dataclass(frozen=True)
class Scope:
    """Which dossiers: the province, one level, one unit, one procedure."""

    unit: str = ""
    level: str = ""
    procedure: str = ""

    def where(self, params: list[Any]) -> str:
        clauses = []
        if self.unit:
            clauses.append("d.receiving_unit = {}")
            params.append(self.unit)
        if self.level:
            clauses.append("u.level = {}")
            params.append(self.level)
        if self.procedure:
            clauses.append("d.procedure_code = {}")
            params.append(self.procedure)
        return "".join(f" AND {c}" for c in clauses)


@dataclass
class StatsService:
    clock: Clock
    directory: Directory
    catalogue: CatalogueService

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
        if period.start > self.clock.now():
            return []  # a period that has not begun has no figures yet
        q = self.sql
        start, end, as_of = q.ts(period.start), q.ts(period.end), q.ts(self._as_of(period))
        key = {
            "province": "'province'",
            "level": "u.level",
            "unit": "d.receiving_unit",
            "procedure": "d.procedure_code",
        }[group]
        rec = f"(d.received_at >= {start} AND d.received_at < {end})"
        fin = f"(d.finished_at >= {start} AND d.finished_at < {end})"
        resolved = f"({fin} AND d.outcome IS NOT NULL)"
        ended = f"({fin} AND d.received_at IS NOT NULL)"
        open_ = (
            f"(d.received_at < {as_of} AND (d.finished_at IS NULL OR d.finished_at >= {as_of})"
            " AND d.status NOT IN (3, 8))"
        )
        # Waiting for the citizen (supplement, payment) stops the unit's clock [U].
        overdue = f"({open_} AND d.due_at < {as_of} AND d.status NOT IN (5, 6))"
        params: list[Any] = []
        where = scope.where(params)
        joined = group == "level" or bool(scope.level)

        def count(condition: str) -> str:
            return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

        query = f"""
            SELECT {key} AS key,
              {count(rec)} AS received,
              {count(f"{rec} AND d.channel = 2")} AS received_online,
              {count(resolved)} AS resolved,
              {count(f"{resolved} AND {EFFECTIVE} = 'early'")} AS early,
              {count(f"{resolved} AND {EFFECTIVE} = 'on_time'")} AS on_time,
              {count(f"{resolved} AND {EFFECTIVE} = 'late'")} AS late,
              {count(f"{resolved} AND d.outcome = 'refused'")} AS refused,
              {count(f"{fin} AND d.status = 8")} AS withdrawn,
              {count(f"{fin} AND d.status = 3")} AS not_received,
              {count(ended)} AS ended,
              {count(f"{ended} AND {EFFECTIVE} IN ('early', 'on_time')")} AS ended_in_time,
              {count(f"{ended} AND {EFFECTIVE} = 'late'")} AS ended_late,
              {count(open_)} AS open,
              {count(overdue)} AS open_overdue,
              SUM(CASE WHEN {resolved} THEN {q.days("d.received_at", "d.finished_at")} ELSE 0 END)
                AS resolution_days,
              {count(f"{ended} AND r.level IS NOT NULL")} AS rated,
              {count(f"{ended} AND r.level >= {ev.SATISFIED_FROM}")} AS satisfied,
              {count(f"{ended} AND r.level = 1")} AS dissatisfied
            FROM dossier d
            {"JOIN unit u ON u.code = d.receiving_unit" if joined else ""}
            LEFT JOIN rating r ON r.dossier_id = d.id
            WHERE ({self._touching(start, end, as_of)}){where}
            GROUP BY 1
            ORDER BY 1
        """
        rows = await self._raw(query, params)
        return [self._summary_row(group, r) for r in rows if r["received"] or r["ended"] or r["open"]]

    def _touching(self, start: str, end: str, as_of: str | None = None) -> str:
        """The dossiers a period's figures count: received in it, ended in it, or (with
        ``as_of``) open at that moment. Each disjunct is a range of one index (received_at,
        finished_at, or (finished_at, received_at)), so at 10^6 dossiers the database reads a
        period's rows rather than the table."""
        terms = [
            f"(d.received_at >= {start} AND d.received_at < {end})",
            f"(d.finished_at >= {start} AND d.finished_at < {end})",
        ]
        if as_of is not None:
            terms += [
                f"(d.finished_at IS NULL AND d.received_at < {as_of})",
                # Through (finished_at, received_at), not through received_at: "received
                # before" alone is most of the table.
                f"(d.finished_at >= {as_of} AND {self.sql.unindexed('d.received_at')} < {as_of})",
            ]
        return " OR ".join(terms)

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
            round(float(r.get("resolution_days") or 0) / row["resolved"], 1) if row["resolved"] else None
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
        """The province's (or scope's) summary month by month."""
        out = []
        for month in period.months():
            if month.start > self.clock.now():
                break
            rows = await self.summary(month, scope)
            row = rows[0] if rows else self._summary_row("province", {"key": "province"})
            out.append({"period": month.key, "label": month.label, **row})
        return out

    # --- Circular 01/2018 ---------------------------------------------------------------

    def _evaluated(self, period: Period) -> str:
        q = self.sql
        start, end = q.ts(period.start), q.ts(period.end)
        return f"d.finished_at >= {start} AND d.finished_at < {end} AND d.outcome IS NOT NULL"

    async def evaluation(self, period: Period, scope: Scope = Scope()) -> dict[str, Any]:
        """Indices 1–9 per agency (the receiving unit) and 1, 2, 3, 4, 7 per officer."""
        self.check(scope)
        params: list[Any] = []
        where = scope.where(params)
        i1 = f"(CASE {EFFECTIVE} WHEN 'early' THEN 2 WHEN 'on_time' THEN 1 ELSE 0 END)"
        i3 = (
            "(CASE WHEN r.reception_contacts IS NULL THEN NULL WHEN r.reception_contacts = 0 THEN 2"
            " WHEN r.reception_contacts = 1 THEN 1 ELSE 0 END)"
        )
        i4 = (
            "(CASE WHEN r.agencies_contacted IS NULL THEN NULL WHEN r.agencies_contacted = 0 THEN 2"
            " WHEN r.agencies_contacted = 1 THEN 1 ELSE 0 END)"
        )
        # Late without a complaint is not an attitude failure: 1 point [U].
        i7 = f"(CASE WHEN r.harassment THEN 0 WHEN {EFFECTIVE} = 'early' THEN 2 ELSE 1 END)"
        steps = """
            SELECT s.dossier_id,
              SUM(CASE WHEN s.timeliness = 'late' THEN 1 ELSE 0 END) AS late_steps,
              SUM(CASE WHEN s.timeliness = 'early' THEN 0 ELSE 1 END) AS not_early,
              SUM(CASE WHEN s.handoff = 'internal' THEN 0 ELSE 1 END) AS handed_out
            FROM dossier_step s
            WHERE s.finished_at IS NOT NULL AND s.dossier_id IN (SELECT d.id FROM dossier d WHERE {evaluated})
            GROUP BY s.dossier_id
        """.format(evaluated=self._evaluated(period))
        i2 = (
            "(CASE WHEN st.dossier_id IS NULL THEN NULL WHEN st.late_steps > 0 THEN 0"
            " WHEN st.not_early = 0 THEN 2 ELSE 1 END)"
        )
        agencies = await self._raw(
            f"""
            SELECT u.code AS unit, u.level AS level, COUNT(*) AS dossiers,
              AVG({i1}) AS i1, AVG({i2}) AS i2, AVG({i3}) AS i3, AVG({i4}) AS i4, AVG({i7}) AS i7,
              SUM(CASE WHEN st.handed_out = 0 THEN 1 ELSE 0 END) AS in_unit,
              SUM(CASE WHEN d.channel = 2 THEN 1 ELSE 0 END) AS online,
              SUM(CASE WHEN d.channel = 2 AND {EFFECTIVE} = 'late' THEN 1 ELSE 0 END) AS late_online
            FROM dossier d
            JOIN unit u ON u.code = {self.sql.unindexed("d.receiving_unit")}
            LEFT JOIN rating r ON r.dossier_id = d.id
            LEFT JOIN ({steps}) st ON st.dossier_id = d.id
            WHERE {self._evaluated(period)}{where}
            GROUP BY u.code, u.level
            ORDER BY u.code
            """,
            params,
        )
        feedback = {r["unit"]: r for r in await self._feedback_by_unit(period)}
        agency_rows = [self._agency(a, feedback.get(a["unit"])) for a in agencies]
        agency_rows.sort(key=lambda a: (-(a["score"] or 0), a["unit"]))
        for rank, a in enumerate(agency_rows, 1):
            a["rank"] = rank

        officer_params: list[Any] = []
        officer_where = scope.where(officer_params)
        officers = await self._raw(
            f"""
            SELECT s.actor AS username, MAX(pu.full_name) AS full_name, MAX(s.unit_code) AS unit,
              COUNT(*) AS steps,
              AVG({i1}) AS i1,
              AVG(CASE s.timeliness WHEN 'early' THEN 2 WHEN 'on_time' THEN 1 ELSE 0 END) AS i2,
              AVG({i3}) AS i3, AVG({i4}) AS i4, AVG({i7}) AS i7
            FROM dossier_step s
            JOIN dossier d ON d.id = s.dossier_id
            JOIN unit u ON u.code = d.receiving_unit
            LEFT JOIN rating r ON r.dossier_id = d.id
            LEFT JOIN portal_user pu ON pu.username = s.actor
            WHERE s.finished_at IS NOT NULL AND s.actor <> '' AND {self._evaluated(period)}{officer_where}
            GROUP BY s.actor
            ORDER BY s.actor
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
        procedures = [p for p in self.catalogue.catalogue if unit in self.catalogue.receiving_units(p)]
        online_procedures = [p for p in procedures if p.online_level in ("full", "partial")]
        indices: dict[int, float | None] = {
            1: ev.one_decimal(a["i1"]),
            2: ev.one_decimal(a["i2"]),
            3: ev.one_decimal(a["i3"]),
            4: ev.one_decimal(a["i4"]),
            5: ev.index5(int(a["in_unit"] or 0), int(a["dossiers"]), a["level"]),
            6: None,  # needs the posted board at the counter: not in the portal's data
            7: ev.one_decimal(a["i7"]),
            8: ev.index8(
                int(feedback["filed"]) if feedback else 0,
                int(feedback["on_time"] or 0) if feedback else 0,
                int(feedback["protracted"] or 0) if feedback else 0,
            ),
            9: ev.index9(
                len(online_procedures),
                len(procedures),
                int(a["online"] or 0),
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
        indices = {i: ev.one_decimal(o[f"i{i}"]) for i in ev.OFFICER_INDICES}
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
        q = self.sql
        start, end = q.ts(period.start), q.ts(period.end)
        params: list[Any] = []
        where = scope.where(params)
        summary = await self.summary(period, scope)
        s = summary[0] if summary else self._summary_row("province", {"key": "province"})
        rec = f"d.received_at >= {start} AND d.received_at < {end}"
        resolved = f"d.finished_at >= {start} AND d.finished_at < {end} AND d.outcome IS NOT NULL"
        [extra] = await self._raw(
            f"""
            SELECT
              SUM(CASE WHEN {rec} AND d.fee_total > 0 THEN 1 ELSE 0 END) AS fee_dossiers,
              SUM(CASE WHEN {rec} AND d.fee_total > 0 AND EXISTS (
                  SELECT 1 FROM payment p WHERE p.dossier_code = d.code AND p.state = 'succeeded')
                  THEN 1 ELSE 0 END) AS paid_online,
              SUM(CASE WHEN {resolved} AND d.outcome = 'approved' THEN 1 ELSE 0 END) AS approved,
              SUM(CASE WHEN {resolved} AND d.outcome = 'approved' AND d.signatures <> '' THEN 1 ELSE 0 END)
                AS electronic_results,
              SUM(CASE WHEN {resolved} AND d.outcome = 'approved' AND d.signatures <> '' AND EXISTS (
                  SELECT 1 FROM dossier_document dd WHERE dd.dossier_id = d.id
                  AND dd.kind IN ('upload', 'supplement')) THEN 1 ELSE 0 END) AS digitised,
              SUM(CASE WHEN {resolved} THEN 1 ELSE 0 END) AS resolved,
              SUM(CASE WHEN d.finished_at >= {start} AND d.finished_at < {end} AND d.received_at IS NOT NULL
                  AND (r.level = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.dossier_code = d.code))
                  THEN 1 ELSE 0 END) AS unhappy
            FROM dossier d {"JOIN unit u ON u.code = d.receiving_unit" if scope.level else ""}
            LEFT JOIN rating r ON r.dossier_id = d.id
            WHERE ({self._touching(start, end)}){where}
            """,
            params,
        )
        online_params: list[Any] = []
        online_where = scope.where(online_params)
        used_online = {
            r["procedure_code"]
            for r in await self._raw(
                f"""SELECT DISTINCT d.procedure_code FROM dossier d JOIN unit u ON u.code = d.receiving_unit
                WHERE d.channel = 2 AND {rec}{online_where}""",
                online_params,
            )
        }
        procedures = self._procedures_in(scope)
        online_procs = [p for p in procedures if p.online_level in ("full", "partial")]
        fee_procs = [p for p in procedures if any(i.amount or i.tiers for i in p.fee.items)]
        feedback = await self._feedback_totals(period, scope)
        complete = [
            p
            for p in procedures
            if p.name and p.steps and p.documents and p.time_limit and p.applicants and p.competent_unit
        ]
        extra = {k: int(v or 0) for k, v in extra.items()}
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
            unit = self.directory.get(scope.unit)
            return [p for p in procedures if unit in self.catalogue.receiving_units(p)]
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
