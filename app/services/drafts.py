"""Save and resume: a citizen's unfinished submission, with its checked files.

A draft's token is also the submission's idempotency key, so submitting it from two
tabs, or twice, makes one dossier.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict
from typing import Any

from app.db.tables import Draft
from app.services.accounts import UserView
from app.services.dossiers import DossierService, StoredFile, Submission
from app.services.errors import Forbidden, NotFound


class DraftService:
    def __init__(self, dossiers: DossierService) -> None:
        self.dossiers = dossiers

    async def save(
        self,
        user: UserView,
        procedure_code: str,
        unit_code: str,
        form: dict[str, Any],
        files: list[StoredFile],
        token: str | None = None,
    ) -> str:
        now = self.dossiers.clock.now()
        payload = {
            Draft.unit_code: unit_code,
            Draft.form: json.dumps(form, ensure_ascii=False),
            Draft.files: json.dumps([asdict(f) for f in files], ensure_ascii=False),
            Draft.updated_at: now,
        }
        if token:
            existing = await self.get(user, token)
            await Draft.update(payload).where(Draft.id == existing["id"])
            return token
        token = secrets.token_urlsafe(12)
        await Draft.insert(
            Draft(
                token=token,
                user_id=user.id,
                procedure_code=procedure_code,
                unit_code=unit_code,
                form=payload[Draft.form],
                files=payload[Draft.files],
                updated_at=now,
            )
        )
        return token

    async def get(self, user: UserView, token: str) -> dict[str, Any]:
        row = await Draft.select().where(Draft.token == token).first()
        if row is None:
            raise NotFound("Không tìm thấy hồ sơ nháp.")
        if row["user_id"] != user.id:
            raise Forbidden("Đây không phải hồ sơ nháp của bạn.")
        for key in ("form", "files"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key] or "null")
        row["stored"] = tuple(StoredFile(**f) for f in row["files"] or [])
        return row

    async def mine(self, user: UserView) -> list[dict[str, Any]]:
        rows = (
            await Draft.select()
            .where((Draft.user_id == user.id) & Draft.submitted_code.is_null())
            .order_by(Draft.updated_at, ascending=False)
        )
        return rows

    async def submit(self, user: UserView, token: str, ip: str = "") -> dict[str, Any]:
        draft = await self.get(user, token)
        dossier = await self.dossiers.submit(
            Submission(
                procedure_code=draft["procedure_code"],
                unit_code=draft["unit_code"],
                form=draft["form"],
                stored=draft["stored"],
                idempotency_key=f"draft-{token}",
            ),
            user,
            ip,
        )
        await Draft.update({Draft.submitted_code: dossier["code"]}).where(Draft.id == draft["id"])
        return dossier
