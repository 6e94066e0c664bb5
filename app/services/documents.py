"""The documents of a dossier: Forms 01–05 and the result, assembled from what happened."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from app.concurrency import LoopLock
from app.db.tables import Dossier, DossierDocument, DossierStep, User
from app.documents.forms import (
    FORM_TITLES,
    Agency,
    FormData,
    RegisterRow,
    ResultData,
    Step,
    render_form,
    render_register,
    render_result,
)
from app.domain.clock import VN_TZ
from app.domain.lifecycle import Action, Status, check
from app.domain.records import state_of
from app.domain.text import answer
from app.services import audit
from app.services.accounts import UserView
from app.services.catalogue import time_limit_text
from app.services.dossiers import ActionRequest, DossierService, attach_documents
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.signing import SigningService

log = logging.getLogger("portal.documents")

DOCUMENT_TITLES = {
    **{kind: f"Mẫu số {number}: {title.capitalize()}" for kind, (number, title) in FORM_TITLES.items()},
    "result": "Kết quả giải quyết (bản chưa ký số)",
}
REASON_ACTIONS = {
    "supplement_request": ("dossier.request_supplement",),
    "refusal": ("dossier.reject", "dossier.refuse"),
    "apology": ("dossier.apologize",),
}

#: The mark on a form served without a signature.
UNSIGNED = "Bản điện tử chưa ký số"

#: The process's one slot for sealing forms after actions.
_sealing_slot = LoopLock()


@dataclass
class DocumentService:
    dossiers: DossierService
    signing: SigningService | None = None
    base_url: str = ""

    async def _context(self, code: str, user: UserView | None, *, check: bool = True) -> dict[str, Any]:
        row = await self.dossiers.load_row(code)
        if check and not await self.dossiers.entitled(row, user):
            raise Forbidden("Chỉ người nộp hồ sơ và cán bộ có liên quan được tải giấy tờ của hồ sơ.")
        events = await audit.dossier_history(code, include_views=True)
        return {"row": row, "events": events, "procedure": self.dossiers.catalogue.get(row["procedure_code"])}

    def available(self, ctx: dict[str, Any]) -> list[str]:
        row, actions = ctx["row"], {e["action"] for e in ctx["events"]}
        kinds = []
        if row["received_at"]:
            kinds.append("receipt")
        kinds += [k for k, acts in REASON_ACTIONS.items() if actions & set(acts)]
        if row["received_at"]:
            kinds.append("control_sheet")
        if row["outcome"] == "approved":
            kinds.append("result")
        return kinds

    async def list(self, code: str, user: UserView | None) -> list[dict[str, Any]]:
        ctx = await self._context(code, user)
        signed_result = await self._issued_result(ctx["row"]["id"]) is not None
        sealed_forms = {
            r["key"]
            for r in await DossierDocument.select(DossierDocument.key).where(
                (DossierDocument.dossier_id == ctx["row"]["id"]) & DossierDocument.kind.like("form:%")
            )
        } - {"control_sheet"}
        if self.signing is not None:
            sealed_forms.add("control_sheet")  # sealed when downloaded: it grows with every hand-off
        return [
            {
                "kind": k,
                "title": "Kết quả giải quyết (đã ký số)"
                if k == "result" and signed_result
                else DOCUMENT_TITLES[k],
                "url": f"/api/v1/dossiers/{code}/documents/{k}",
                "signed": (k == "result" and signed_result) or k in sealed_forms,
            }
            for k in self.available(ctx)
        ]

    async def pdf(
        self, code: str, kind: str, user: UserView | None, *, ctx: dict | None = None, render: bool = False
    ) -> bytes:
        ctx = ctx or await self._context(code, user)
        if kind not in DOCUMENT_TITLES:
            raise NotFound(f"Không có loại giấy tờ {kind}.")
        if kind not in self.available(ctx):
            raise NotFound("Hồ sơ chưa có giấy tờ này ở trạng thái hiện tại.")
        if not render and kind != "result" and (sealed := await self._issued_form(ctx["row"]["id"], kind)):
            if kind != "control_sheet":  # Form 05 grows with every hand-off: always current
                return Path(sealed["path"]).read_bytes()
        row, p, events = ctx["row"], ctx["procedure"], ctx["events"]
        directory = self.dossiers.directory
        agency = self._agency(row["receiving_unit"])
        last = lambda *acts: next((e for e in reversed(events) if e["action"] in acts), None)  # noqa: E731
        officer = await self._full_name(last("dossier.receive")["actor"]) if last("dossier.receive") else ""
        if kind == "result":
            issued = await self._issued_result(row["id"])
            if issued is not None:
                return Path(issued["path"]).read_bytes()
            return await self._render_result(ctx, unsigned=True)
        reasons_event = last(*REASON_ACTIONS.get(kind, ()))
        steps = await DossierStep.select().where(DossierStep.dossier_id == row["id"]).order_by(DossierStep.id)
        step_rows, previous = [], agency.name
        for s in steps:
            unit = directory.get(s["unit_code"])
            target = f"{unit.name if unit else s['unit_code']} ({_ROLE.get(s['role'], s['role'])})"
            step_rows.append(
                Step(previous, target, s["started_at"], s["due_at"], s["finished_at"], s["timeliness"])
            )
            previous = target
        competent = directory.resolve(p.competent_unit, row["receiving_unit"])
        data = FormData(
            agency=agency,
            code=code,
            procedure=p.name,
            applicant=row["applicant_name"],
            phone=row["applicant_phone"],
            email=row["applicant_email"],
            issued_at=reasons_event["at"] if reasons_event else row["received_at"],
            received_at=row["received_at"] or row["submitted_at"],
            due_at=row["original_due_at"] if kind == "apology" else row["due_at"],
            new_due_at=row["due_at"],
            time_limit=time_limit_text(p),
            documents=tuple((d.name, d.originals, d.copies) for d in p.documents),
            reasons=tuple(reasons_event["details"].get("reasons", [])) if reasons_event else (),
            steps=tuple(step_rows),
            competent_unit=competent.name if competent else "",
            officer=officer,
            # A form that will be sealed carries no "unsigned copy" mark.
            watermark="" if self.signing is not None and (render or kind == "control_sheet") else UNSIGNED,
        )
        pdf = render_form(kind, data)
        if kind == "control_sheet" and not render and self.signing is not None:
            # Form 05 changes with every hand-off: sealed as it stands when it is downloaded.
            seal = await self.signing.seal(directory.get(row["receiving_unit"]))
            now = self.dossiers.clock.now()
            place = directory.place or ""
            return await self.signing.seal_form(pdf, issued=seal, place=place, at=now, reason="Ký số phiếu")
        return pdf

    #: Which form each action issues (Circular 01/2018 Art. 9).
    FORMS_BY_ACTION = {
        "receive": "receipt",
        "request_supplement": "supplement_request",
        "reject": "refusal",
        "refuse": "refusal",
        "apologize": "apology",
    }

    async def seal_issued_form(self, code: str, action: str) -> None:
        """After an action that issues a form: render it, seal it with the receiving unit's
        certificate and keep it, so every later download is the same signed file."""
        kind = self.FORMS_BY_ACTION.get(action)
        if kind is None or self.signing is None:
            return
        ctx = await self._context(code, None, check=False)
        unit = self.dossiers.directory.get(ctx["row"]["receiving_unit"])
        pdf = await self.pdf(code, kind, None, ctx=ctx, render=True)
        seal = await self.signing.seal(unit)
        signed = await self.signing.seal_form(
            pdf, issued=seal, place=self.dossiers.directory.place or "", at=self.dossiers.clock.now()
        )
        stored = self.dossiers.store_issued(signed, f"{code}-{kind}.pdf")
        await attach_documents(
            ctx["row"]["id"], f"form:{kind}", [replace(stored, key=kind)], self.dossiers.clock.now()
        )

    async def act(self, code: str, request: ActionRequest, user: UserView, ip: str = "") -> dict[str, Any]:
        """Every action a person takes on a dossier: ``sign`` signs the result (the signature
        is the act itself); the others run through the dossier service. The form an action
        issues is sealed afterwards, by ``seal_after``."""
        if request.action == Action.SIGN.value:
            return await self.sign_result(code, user, ip)
        return await self.dossiers.act(code, request, user, ip)

    async def seal_after(self, code: str, action: str) -> None:
        """Seal the form ``action`` issued, once the action's response has gone (a background
        task of the request). Sealing — rendering, PAdES with time-stamp, CRL and OCSP — takes
        far longer than the action; in the request, 64 officers receiving at once waited 8 s
        each. One seal at a time per process, so a burst of actions queues its seals instead of
        sharing the loop among all of them. Until it is sealed a form downloads with the
        "unsigned copy" mark; a failure is logged and never undoes the action."""
        if self.FORMS_BY_ACTION.get(action) is None or self.signing is None:
            return
        async with _sealing_slot():
            try:
                await self.seal_issued_form(code, action)
            except Exception:  # noqa: BLE001 - the action stands; the form stays downloadable unsigned
                log.exception("sealing the form of %s after %s failed", code, action)

    async def _issued_form(self, dossier_id: int, kind: str) -> dict[str, Any] | None:
        return (
            await DossierDocument.select()
            .where((DossierDocument.dossier_id == dossier_id) & (DossierDocument.kind == f"form:{kind}"))
            .order_by(DossierDocument.id, ascending=False)
            .first()
        )

    async def _issued_result(self, dossier_id: int) -> dict[str, Any] | None:
        return (
            await DossierDocument.select()
            .where((DossierDocument.dossier_id == dossier_id) & (DossierDocument.kind == "result"))
            .order_by(DossierDocument.id, ascending=False)
            .first()
        )

    async def _approving_unit(self, dossier_id: int, last_step: int) -> str | None:
        step = (
            await DossierStep.select(DossierStep.unit_code)
            .where((DossierStep.dossier_id == dossier_id) & (DossierStep.position == last_step - 1))
            .order_by(DossierStep.id, ascending=False)
            .first()
        )
        return step["unit_code"] if step else None

    async def _render_result(self, ctx: dict[str, Any], *, unsigned: bool) -> bytes:
        row, p, events = ctx["row"], ctx["procedure"], ctx["events"]
        directory = self.dossiers.directory
        approve = next((e for e in reversed(events) if e["action"] == "dossier.approve"), None)
        form = json.loads(row["form"]) if isinstance(row["form"], str) else row["form"]
        labels = {f.key: f.label for f in p.form}
        types = {f.key: f.type for f in p.form}
        fields = tuple(
            (labels.get(k, k), answer(v, types.get(k, "")))
            for k, v in form.items()
            if v not in (None, "", False) and types.get(k) != "boolean"
        )
        approver = directory.get(
            await self._approving_unit(row["id"], len(p.workflow) - 1) or row["receiving_unit"]
        )
        return render_result(
            ResultData(
                agency=self._agency(approver.code if approver else row["receiving_unit"]),
                code=row["code"],
                number=f"Số: …/{p.code}",
                title=p.result.split("(")[0].strip(),
                fields=fields,
                signer_title=f"TM. {approver.name if approver else ''}\nLãnh đạo",
                signer_name=await self._full_name(approve["actor"]) if approve else "",
                issued_at=approve["at"],
                recipients=(f"Ông/bà {row['applicant_name']}",),
                verify_url=f"{self.base_url}/van-ban/{row['code']}",
                unsigned_mark="BẢN CHƯA KÝ SỐ — chỉ có giá trị tham khảo" if unsigned else "",
            )
        )

    async def sign_result(self, code: str, user: UserView, ip: str = "") -> dict[str, Any]:
        """The leader's signature, then the seal: each an incremental update of the result."""
        if self.signing is None:
            raise Conflict("Dịch vụ ký số chưa được cấu hình.")
        ctx = await self._context(code, user)
        row, p = ctx["row"], ctx["procedure"]
        state = state_of(row, p)
        refusal = check(state, Action.SIGN, self.dossiers.actor_for(row, user))
        if refusal:
            raise (Conflict if refusal.kind.value == "state" else Forbidden)(refusal.reason)
        if row["outcome"] != "approved":
            raise Conflict("Chỉ ký số kết quả giải quyết đã được phê duyệt.")
        directory = self.dossiers.directory
        approver = directory.get(await self._approving_unit(row["id"], len(p.workflow) - 1) or "")
        if approver is None:
            raise Conflict("Không xác định được cơ quan ban hành kết quả.")
        at = self.dossiers.clock.now()
        if user.role.value == "leader":
            if user.unit_code != approver.code:
                raise Forbidden("Chỉ lãnh đạo của cơ quan đã phê duyệt được ký kết quả này.")
            signed = await self._leader_signs(ctx, user, approver, at)
        else:
            if user.unit_code not in (approver.code, approver.parent_code):
                raise Forbidden("Chỉ văn thư của cơ quan ban hành được đóng dấu (ký số cơ quan).")
            previous = await self._issued_result(row["id"])
            if previous is None:
                raise Conflict("Kết quả chưa có chữ ký của lãnh đạo.")
            signed = await self._seal_applied(Path(previous["path"]).read_bytes(), approver, at)
        stored = self.dossiers.store_issued(signed, f"{code}-ket-qua.pdf")
        return await self.dossiers.transition(code, Action.SIGN, user, ip, issued=stored)

    async def _leader_signs(self, ctx: dict[str, Any], leader: UserView, approver, at) -> bytes:
        base = await self._render_result(ctx, unsigned=False)
        issued = await self.signing.personal(leader, approver)
        place = self.dossiers.directory.place or ""
        return await self.signing.sign(
            base, as_seal=False, issued=issued, display=leader.full_name, place=place, at=at
        )

    async def _seal_applied(self, pdf: bytes, approver, at) -> bytes:
        seal = await self.signing.seal(approver)
        place = self.dossiers.directory.place or ""
        return await self.signing.sign(
            pdf, as_seal=True, issued=seal, display=approver.name, place=place, at=at
        )

    async def issue_signed_result(
        self, code: str, leader: UserView, signed_at: datetime, sealed_at: datetime
    ) -> None:
        """The result of a dossier whose signing is already in its history (the simulator's):
        rendered, signed by its leader and sealed at the recorded times, and attached.

        The PKI's clock must stand at each time (certificates valid then, time-stamps then):
        the caller's clock is moved, as the simulator's is."""
        if self.signing is None:
            raise Conflict("Dịch vụ ký số chưa được cấu hình.")
        ctx = await self._context(code, None, check=False)
        row, p = ctx["row"], ctx["procedure"]
        approver = self.dossiers.directory.get(
            await self._approving_unit(row["id"], len(p.workflow) - 1) or ""
        )
        if approver is None or row["outcome"] != "approved":
            raise Conflict("Không xác định được kết quả phê duyệt để ký.")
        clock = self.dossiers.clock
        clock.set(signed_at)
        signed = await self._leader_signs(ctx, leader, approver, signed_at)
        clock.set(sealed_at)
        sealed = await self._seal_applied(signed, approver, sealed_at)
        await attach_documents(
            row["id"], "result", [self.dossiers.store_issued(sealed, f"{code}-ket-qua.pdf")], sealed_at
        )

    async def register(self, unit_code: str, year: int, user: UserView) -> bytes:
        """Form 06 of one receiving unit for one year, numbered from 01."""
        directory = self.dossiers.directory
        if directory.get(unit_code) is None:
            raise NotFound(f"Không có đơn vị mã {unit_code}.")
        if user.role.value not in ("admin", "auditor") and not (
            user.unit_code and directory.is_within(unit_code, user.unit_code)
        ):
            raise Forbidden("Bạn chỉ được xem sổ theo dõi của đơn vị mình.")
        start, end = datetime(year, 1, 1, tzinfo=VN_TZ), datetime(year + 1, 1, 1, tzinfo=VN_TZ)
        rows = (
            await Dossier.select(
                Dossier.code,
                Dossier.applicant_name,
                Dossier.procedure_code,
                Dossier.received_at,
                Dossier.due_at,
                Dossier.finished_at,
                Dossier.timeliness,
                Dossier.status,
            )
            .where(
                (Dossier.receiving_unit == unit_code)
                & (Dossier.received_at >= start)
                & (Dossier.received_at < end)
            )
            .order_by(Dossier.received_at)
        )
        catalogue = self.dossiers.catalogue
        entries = [
            RegisterRow(
                i,
                r["code"],
                r["applicant_name"],
                catalogue.get(r["procedure_code"]).name,
                r["received_at"],
                r["due_at"],
                r["finished_at"],
                r["timeliness"],
                Status(r["status"]).label,
            )
            for i, r in enumerate(rows, 1)
        ]
        return render_register(self._agency(unit_code), year, entries, self.dossiers.clock.now())

    def _agency(self, unit_code: str) -> Agency:
        directory = self.dossiers.directory
        unit = directory.get(unit_code)
        parent = directory.get(unit.parent_code) if unit and unit.parent_code else None
        return Agency(
            parent.name if parent else (unit.name if unit else ""),
            (unit.one_stop_name or unit.name) if unit else unit_code,
            directory.place or "",
        )

    @staticmethod
    async def _full_name(username: str) -> str:
        row = await User.select(User.full_name).where(User.username == username).first()
        return row["full_name"] if row else ""


_ROLE = {
    "reception": "Bộ phận Một cửa",
    "specialist": "chuyên viên",
    "leader": "lãnh đạo",
    "clerk": "văn thư",
}
