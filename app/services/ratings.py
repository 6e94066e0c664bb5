"""Ratings of finished dossiers (Circular 01/2018 Art. 12–13; Decree 61 Art. 29).

The citizen rates once, online, after the dossier ends (result returned, refused or not
received); the officer at the counter may key in a paper form instead, marked as such.
A rating can be changed for a limited time; every change is audited. The per-dossier
indices it feeds (3, 4, 7) are scored in app/services/stats.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec

from app.db.engine import write_transaction
from app.db.tables import Rating
from app.domain.evaluation import RATING_LEVELS
from app.domain.roles import Role
from app.services import audit, rollup
from app.services.accounts import UserView
from app.services.audit import AuditEntry
from app.services.dossiers import DossierService
from app.services.errors import Conflict, Forbidden, Invalid

#: How long the citizen may change a rating [U].
CHANGE_WINDOW = timedelta(days=7)
#: Statuses after which a dossier can be rated: not received (3), result returned (10).
RATABLE = (3, 10)


class RatingInput(msgspec.Struct, forbid_unknown_fields=True):
    level: int
    #: Index 3: how many times the applicant contacted the reception point to complete it.
    reception_contacts: int | None = None
    #: Index 4: 0 none, 1 only the one-stop unit, 2 more agencies.
    agencies_contacted: int | None = None
    #: Index 7: a complaint that officers harassed or caused trouble.
    harassment: bool = False
    comment: str = ""


def _errors(spec: RatingInput) -> dict[str, str]:
    errors = {}
    if spec.level not in RATING_LEVELS:
        errors["level"] = "Chọn một mức: Rất hài lòng, Hài lòng, Bình thường hoặc Không hài lòng."
    if spec.reception_contacts is not None and not 0 <= spec.reception_contacts <= 50:
        errors["reception_contacts"] = "Số lần liên hệ từ 0 đến 50."
    if spec.agencies_contacted is not None and spec.agencies_contacted not in (0, 1, 2):
        errors["agencies_contacted"] = "Chọn: không cơ quan nào, chỉ Bộ phận Một cửa, hoặc nhiều cơ quan."
    if len(spec.comment) > 2000:
        errors["comment"] = "Ý kiến tối đa 2.000 ký tự."
    return errors


def rating_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "dossier_code": row["dossier_code"],
        "level": row["level"],
        "level_name": RATING_LEVELS[row["level"]],
        "reception_contacts": row["reception_contacts"],
        "agencies_contacted": row["agencies_contacted"],
        "harassment": bool(row["harassment"]),
        "comment": row["comment"],
        "source": row["source"],
        "rated_at": row["rated_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "revisions": row["revisions"],
    }


@dataclass
class RatingService:
    dossiers: DossierService

    async def get(self, code: str, user: UserView) -> dict[str, Any] | None:
        row = await self.dossiers.load_row(code)
        if not await self.dossiers.entitled(row, user):
            raise Forbidden("Bạn không có quyền xem hồ sơ này.")
        found = await Rating.select().where(Rating.dossier_id == row["id"]).first()
        return rating_json(found) if found else None

    async def rate(self, code: str, spec: RatingInput, user: UserView, ip: str = "") -> dict[str, Any]:
        """The citizen's own rating online, or a paper form keyed in at the receiving counter."""
        clock = self.dossiers.clock
        row = await self.dossiers.load_row(code)
        paper = user.role is Role.RECEPTION
        if paper and user.unit_code != row["receiving_unit"]:
            raise Forbidden("Chỉ Bộ phận Một cửa nơi tiếp nhận hồ sơ được nhập phiếu đánh giá giấy.")
        if not paper and not (user.role is Role.CITIZEN and row["applicant_id"] == user.id):
            raise Forbidden("Chỉ người nộp hồ sơ được đánh giá hồ sơ này.")
        if row["status"] not in RATABLE:
            raise Conflict("Hồ sơ được đánh giá sau khi đã trả kết quả, từ chối hoặc không tiếp nhận.")
        if errors := _errors(spec):
            raise Invalid("Phiếu đánh giá chưa hợp lệ.", errors)
        now = clock.now()
        values = {
            Rating.level: spec.level,
            Rating.reception_contacts: spec.reception_contacts,
            Rating.agencies_contacted: spec.agencies_contacted,
            Rating.harassment: spec.harassment,
            Rating.comment: spec.comment.strip(),
            Rating.updated_at: now,
        }
        async with write_transaction(), rollup.tracked(code):
            existing = await Rating.select().where(Rating.dossier_id == row["id"]).first()
            if existing is None:
                await Rating.insert(
                    Rating(
                        dossier_id=row["id"],
                        dossier_code=code,
                        unit_code=row["receiving_unit"],
                        procedure_code=row["procedure_code"],
                        source="paper" if paper else "online",
                        rated_by=user.id,
                        rated_at=now,
                        revisions=0,
                        **{column._meta.name: value for column, value in values.items()},
                    )
                )
                action = "rating.create"
            else:
                if existing["rated_by"] != user.id:
                    raise Conflict("Hồ sơ này đã được đánh giá.")
                if now - existing["rated_at"] > CHANGE_WINDOW:
                    raise Conflict(
                        f"Chỉ được sửa đánh giá trong {CHANGE_WINDOW.days} ngày kể từ lần đánh giá đầu tiên."
                    )
                values[Rating.revisions] = existing["revisions"] + 1
                await Rating.update(values).where(Rating.id == existing["id"])
                action = "rating.update"
            await audit.record(
                clock,
                audit.Actor(user.id, user.username, user.role.value, ip),
                AuditEntry(
                    action,
                    "dossier",
                    code,
                    dossier_code=code,
                    details={
                        "level": spec.level,
                        "reception_contacts": spec.reception_contacts,
                        "agencies_contacted": spec.agencies_contacted,
                        "harassment": spec.harassment,
                        "source": "paper" if paper else "online",
                        **({"before": existing["level"]} if existing else {}),
                    },
                ),
            )
        found = await Rating.select().where(Rating.dossier_id == row["id"]).first()
        return rating_json(found)
