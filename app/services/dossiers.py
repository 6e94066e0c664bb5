"""Dossiers: submission, actions through the state machine, views and queues.

Every state change is one write transaction holding the dossier update (guarded by
its version, so two officers acting at once cannot both win), the hand-off rows of
Form 05 and the audit event.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from piccolo.columns import Column

from app.db.dialect import Dialect
from app.db.row_cache import dossier_cache
from app.db.engine import engine_name, violates_check, violates_unique, write_transaction
from app.db.queries import Ref, Writes, insert_rows, one_by, quoted, read_short, run
from app.db.tables import Dossier, DossierCounter, DossierDocument, DossierStep, Notification
from app.domain.calendar import WorkingCalendar, classify
from app.domain.clock import VN_TZ, Clock, local_iso
from app.domain.directory import Directory
from app.domain.dossier_code import MAX_PER_DAY, code_of_day, counter_key, parse_code
from app.domain.lifecycle import SYSTEM as LIFECYCLE_SYSTEM
from app.domain.lifecycle import (
    Action,
    Refusal,
    STATUS_LABELS,
    RefusalKind,
    Status,
    allowed_actions,
)
from app.domain.lifecycle import Actor as LifecycleActor
from app.domain.messages import message_for
from app.domain.records import actor_at, record, state_of
from app.domain.roles import Role
from app.domain.text import vn_number
from app.services import audit, notifications, rollup
from app.services.accounts import UserView
from app.services.audit import AuditEntry
from app.services.calendar import default_calendar
from app.services.directory import load_directory
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from procedures.fees import quote
from procedures.forms import validate_form
from procedures.loader import Catalogue, default_catalogue
from procedures.schema import Procedure

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_DOCUMENT = 10
#: What an upload must start with to be what it claims (content, not the file name).
SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
#: Dossier columns by name, for the changes a transition records.
COLUMNS = {c._meta.name: c for c in Dossier._meta.columns}
#: Statuses in which the time limit runs (not while waiting for a supplement).
RUNNING_CLOCK = (Status.RECEIVED, Status.PROCESSING, Status.PAYMENT_REQUESTED, Status.WITHDRAWAL_REQUESTED)


#: What anyone may read of a dossier by its code (Circular 01/2018 Art. 16).
PUBLIC_COLUMNS = (Dossier.code, Dossier.procedure_code, Dossier.status, Dossier.due_at)


@dataclass(frozen=True)
class UploadedFile:
    key: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class Submission:
    procedure_code: str
    unit_code: str
    form: Any
    files: tuple[UploadedFile, ...] = ()
    idempotency_key: str | None = None
    #: 1 counter, 2 online, 3 post.
    channel: int = 2
    #: For counter and postal submissions, who the applicant is.
    applicant_name: str = ""
    applicant_cccd: str = ""
    applicant_phone: str = ""
    #: Files already checked and stored (a draft's), submitted with the new ones.
    stored: tuple["StoredFile", ...] = ()


@dataclass(frozen=True)
class ActionRequest:
    action: str
    reasons: tuple[str, ...] = ()
    new_due_at: datetime | None = None


@dataclass(frozen=True)
class StoredFile:
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    path: str


class DayNumbersExhausted(Exception):
    """A day counter has given its MAX_PER_DAY numbers (the code has four digits for them)."""


#: The counter's CHECK on PostgreSQL (migration 0017): it refuses the number past MAX_PER_DAY.
DAY_NUMBERS_CHECK = "dossier_counter_four_digits"
#: A day counter's next number: one statement, atomic on both databases.
_NEXT_NUMBER = (
    'INSERT INTO "dossier_counter" ("key", "last") VALUES ({}, 1) '
    'ON CONFLICT ("key") DO UPDATE SET "last" = "dossier_counter"."last" + 1'
)
#: PostgreSQL: the number as the code writes it (SQLite's steps run in Python: DayNumber.run).
_AS_DIGITS = ' RETURNING lpad("last"::text, 4, \'0\') AS "digits"'


@dataclass(frozen=True)
class DayNumber:
    """A step of ``Writes``: the next number of the day counter ``key``, as the code's four
    digits (``digits``). The number past MAX_PER_DAY is refused, and with it every write of the
    statement (no number is used up): on PostgreSQL by the counter's CHECK, on SQLite here."""

    key: str
    returning = ("digits",)

    def clause(self) -> tuple[str, list[Any]]:
        return _NEXT_NUMBER + _AS_DIGITS, [self.key]

    async def run(self, earlier: Any) -> dict[str, Any]:
        return {"digits": f"{await take_day_number(self.key):04d}"}

    def replacing(self, mark: str, text: str) -> DayNumber:
        return self


async def take_day_number(key: str) -> int:
    """The day counter's next number in a statement of its own (on SQLite, inside the caller's
    write transaction). Past MAX_PER_DAY: ``DayNumbersExhausted``, and none is used up."""
    try:
        last = (await run(DossierCounter, _NEXT_NUMBER + ' RETURNING "last"', key))[0]["last"]
    except Exception as error:
        if _exhausted(error):
            raise DayNumbersExhausted(key) from None
        raise
    if last > MAX_PER_DAY:
        raise DayNumbersExhausted(key)
    return last


def _exhausted(error: BaseException) -> bool:
    """``error`` refused a day's number past MAX_PER_DAY: the step's own (SQLite) or the
    counter's CHECK (PostgreSQL, raised by whichever statement took the number)."""
    return isinstance(error, DayNumbersExhausted) or violates_check(error, DAY_NUMBERS_CHECK)


def day_numbers_exhausted(what: str, now: datetime, giver: str, verb: str) -> Unavailable:
    """The clear refusal once the day's numbers are given (503: try again on the next day)."""
    return Unavailable(
        f"{giver} đã cấp hết {vn_number(MAX_PER_DAY)} {what} của ngày"
        f" {now.astimezone(VN_TZ):%d/%m/%Y}: vui lòng {verb} lại vào ngày làm việc sau."
    )


def sniff(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


@dataclass
class DossierService:
    clock: Clock
    directory: Directory
    catalogue: Catalogue
    calendar: WorkingCalendar
    uploads_dir: Path
    base_url: str = ""

    @classmethod
    async def for_settings(
        cls, clock: Clock, settings, directory: Directory | None = None
    ) -> "DossierService":
        """The service as the server and its housekeeping use it: the configured province and files."""
        return cls(
            clock,
            directory or await load_directory(),
            default_catalogue(),
            default_calendar(),
            settings.uploads_dir,
            settings.base_url,
        )

    # --- submission --------------------------------------------------------------------

    async def submit(self, spec: Submission, actor: UserView, ip: str = "") -> dict[str, Any]:
        p = self.catalogue.get(spec.procedure_code)
        if p is None:
            raise Invalid("Thủ tục hành chính không tồn tại.", {"procedure_code": "Không có thủ tục này."})
        errors: dict[str, str] = {}
        receivers = self.directory.receiving_units(p.receiving)
        unit_code = spec.unit_code or (receivers[0].code if len(receivers) == 1 else "")
        if unit_code not in {u.code for u in receivers}:
            errors["unit_code"] = "Hãy chọn nơi tiếp nhận hồ sơ của thủ tục này."
        counter = spec.channel in (1, 3)
        if counter and not (actor.role is Role.RECEPTION and actor.unit_code == unit_code):
            raise Forbidden(
                "Chỉ Bộ phận Một cửa nơi tiếp nhận được nhập hồ sơ nộp trực tiếp hoặc qua bưu chính."
            )
        if not counter and actor.role is not Role.CITIZEN:
            raise Forbidden("Hồ sơ trực tuyến do công dân nộp từ tài khoản của mình.")
        if counter and not spec.applicant_name.strip():
            errors["applicant_name"] = "Vui lòng nhập họ tên người nộp hồ sơ."
        if not isinstance(spec.form, dict):
            errors["form"] = "Tờ khai phải là một đối tượng JSON."
        else:
            errors.update({f"form.{k}": v for k, v in validate_form(p, spec.form).items()})
        stored, file_errors = self._store_files(p, spec.files, already=spec.stored)
        errors.update(file_errors)
        if errors:
            raise Invalid("Hồ sơ chưa hợp lệ, vui lòng sửa các mục được đánh dấu.", errors)

        now = self.clock.now()
        fee = quote(p, spec.form, online=spec.channel == 2)
        key = f"{actor.id}:{spec.idempotency_key}" if spec.idempotency_key else None

        async def submitted_before() -> dict[str, Any] | None:  # a second click or a second tab
            if key and (same := await one_by(Dossier, Dossier.idempotency_key, key, (Dossier.code,))):
                return await self._view_row(await self.load_row(same["code"]), actor)
            return None

        async def written() -> tuple[dict[str, Any], dict[str, Any]]:
            """The day's number, the dossier, its files, the messages and the audit event,
            committed together; the row as stored and the event."""
            writes = Writes()
            number = writes.add(DayNumber(counter_key(unit_code, now)))
            # The number comes as the writes run (one round trip, and a refused write leaves no
            # gap): until then a mark stands for it in the code and every text that holds it.
            mark = writes.splice(number, "digits")
            code = code_of_day(unit_code, now, mark)
            dossier = writes.insert(
                Dossier,
                {
                    "code": code,
                    "procedure_code": p.code,
                    "receiving_unit": unit_code,
                    "channel": spec.channel,
                    "applicant_id": None if counter else actor.id,
                    "applicant_name": spec.applicant_name.strip() if counter else actor.full_name,
                    "applicant_cccd": spec.applicant_cccd if counter else actor.username,
                    "applicant_phone": spec.applicant_phone if counter else actor.phone,
                    "applicant_email": "" if counter else actor.email,
                    "form": json.dumps(spec.form, ensure_ascii=False),
                    "status": int(Status.SUBMITTED),
                    "step": 0,
                    "step_unit": unit_code,
                    "step_role": p.workflow[0].role,
                    "submitted_at": now,
                    "fee_total": fee.total,
                    "fee_due": fee.total > 0,
                    "idempotency_key": key,
                    "updated_at": now,
                },
                returning=tuple(COLUMNS.values()),  # the row as stored, for the answer
            )
            if stored:
                writes.insert(
                    DossierDocument, *document_rows(writes.ref(dossier, Dossier.id), "upload", stored, now)
                )
            if messages := self._messages(
                "submit",
                code,
                p,
                row_owner=None if counter else actor.id,
                name=spec.applicant_name if counter else actor.full_name,
                email="" if counter else actor.email,
                phone=spec.applicant_phone if counter else actor.phone,
                due_at=None,
                now=now,
            ):
                writes.insert(Notification, *messages)
            append = audit.Append.of(
                self.clock,
                self._actor(actor, ip),
                AuditEntry(
                    "dossier.submit",
                    "dossier",
                    code,
                    dossier_code=code,
                    status_after=int(Status.SUBMITTED),
                    details={
                        "procedure": p.code,
                        "channel": spec.channel,
                        "files": len(stored),
                        "fee": fee.total,
                    },
                ),
            )
            event = writes.add(append)
            rows = await writes.commit(Dossier)
            digits = rows[number]["digits"]  # type: ignore[index]
            return rows[dossier], append.replacing(mark, digits).event(rows[event])  # type: ignore[arg-type]

        if earlier := await submitted_before():
            return earlier
        try:
            row, event = await written()
        except Exception as error:
            if _exhausted(error):
                raise day_numbers_exhausted("mã hồ sơ", now, "Nơi tiếp nhận", "nộp") from None
            # The same key submitted at the same instant from a second tab: the database's
            # unique key let one through; the other answers with it.
            if (
                key
                and violates_unique(error, Dossier.idempotency_key)
                and (earlier := await submitted_before())
            ):
                return earlier
            raise
        # The new dossier's history is the one event just chained: no need to read either back.
        return await self._view_row(row, actor, history=[event])

    async def next_sequence(self, unit_code: str, now: datetime) -> int:
        """The day's next number for ``unit_code`` (a series such as PAKN; a dossier's is taken
        with its writes, ``DayNumber``): ``take_day_number``."""
        return await take_day_number(counter_key(unit_code, now))

    def _store_files(
        self, p: Procedure, files: tuple[UploadedFile, ...], already: tuple[StoredFile, ...] = ()
    ) -> tuple[list[StoredFile], dict[str, str]]:
        errors: dict[str, str] = {}
        documents = {d.key: d for d in p.documents}
        stored: list[StoredFile] = [f for f in already if f.key in documents and Path(f.path).exists()]
        per_key: dict[str, int] = {}
        for f in stored:
            per_key[f.key] = per_key.get(f.key, 0) + 1
        for f in files:
            field_name = f"files.{f.key}"
            if f.key not in documents:
                errors[field_name] = "Thủ tục này không có thành phần hồ sơ này."
                continue
            per_key[f.key] = per_key.get(f.key, 0) + 1
            if per_key[f.key] > MAX_FILES_PER_DOCUMENT:
                errors[field_name] = f"Tối đa {MAX_FILES_PER_DOCUMENT} tệp cho mỗi thành phần hồ sơ."
            elif not f.content:
                errors[field_name] = f"Tệp {f.filename or ''} rỗng.".replace("  ", " ")
            elif len(f.content) > MAX_FILE_BYTES:
                errors[field_name] = f"Tệp {f.filename} vượt quá {MAX_FILE_BYTES // (1024 * 1024)} MB."
            elif (kind := sniff(f.content)) is None:
                errors[field_name] = (
                    f"Tệp {f.filename} không phải PDF, JPEG hoặc PNG (kiểm tra theo nội dung tệp)."
                )
            else:
                stored.append(self._write(f, kind))
        for d in p.documents:
            if d.required and not per_key.get(d.key):
                errors.setdefault(f"files.{d.key}", f"Thiếu thành phần hồ sơ bắt buộc: {d.name}.")
        return stored, errors

    def store_issued(self, pdf: bytes, filename: str) -> StoredFile:
        """Keep a document the portal issued (content-addressed, like uploads)."""
        return self._write(UploadedFile("result", filename, pdf), "application/pdf")

    def check_and_store(
        self, procedure_code: str, files: tuple[UploadedFile, ...], already: tuple[StoredFile, ...] = ()
    ) -> tuple[list[StoredFile], dict[str, str]]:
        """Check uploads as a submission would (used by drafts before the final submit)."""
        p = self.catalogue.get(procedure_code)
        if p is None:
            raise NotFound("Thủ tục hành chính không tồn tại.")
        return self._store_files(p, files, already)

    def _write(self, f: UploadedFile, kind: str) -> StoredFile:
        digest, path = store_content(str(self.uploads_dir), f.content, EXTENSIONS[kind])
        name = os.path.basename(f.filename or "tep")[:200]
        return StoredFile(f.key, name, kind, len(f.content), digest, path)

    # --- actions -----------------------------------------------------------------------

    async def act(self, code: str, request: ActionRequest, actor: UserView, ip: str = "") -> dict[str, Any]:
        try:
            action = Action(request.action)
        except ValueError:
            raise Invalid(
                f"Thao tác không hợp lệ: {request.action}.",
                {"action": "Một trong: " + ", ".join(a.value for a in Action)},
            ) from None
        if action is Action.SUPPLEMENT:
            raise Invalid("Bổ sung hồ sơ qua địa chỉ …/supplement kèm tệp.", {"action": "Dùng …/supplement."})
        return await self.transition(
            code, action, actor, ip, reasons=request.reasons, new_due_at=request.new_due_at
        )

    async def supplement(
        self, code: str, files: tuple[UploadedFile, ...], actor: UserView, ip: str = ""
    ) -> dict[str, Any]:
        row = await self.load_row(code)
        p = self.catalogue.get(row["procedure_code"])
        if not files:
            raise Invalid("Hãy đính kèm các giấy tờ được yêu cầu bổ sung.", {"files": "Chưa có tệp nào."})
        stored, errors = self._store_files(p, files)
        errors = {k: v for k, v in errors.items() if not v.startswith("Thiếu thành phần")}
        if errors:
            raise Invalid("Tệp bổ sung chưa hợp lệ.", errors)
        return await self.transition(code, Action.SUPPLEMENT, actor, ip, files=stored)

    async def system_action(self, code: str, action: Action) -> dict[str, Any]:
        """An action taken by the system itself (the payment gateway's confirmed callback)."""
        system = UserView(0, "system", Role.ADMIN, None, "Hệ thống")
        return await self.transition(code, action, system, "", as_system=True)

    async def transition(
        self,
        code: str,
        action: Action,
        user: UserView,
        ip: str,
        *,
        reasons: tuple[str, ...] = (),
        new_due_at: datetime | None = None,
        files: list[StoredFile] | None = None,
        issued: StoredFile | None = None,
        as_system: bool = False,
    ) -> dict[str, Any]:
        now = self.clock.now()
        async with write_transaction(), rollup.tracked(code):
            row = await self.load_row(code)
            p = self.catalogue.get(row["procedure_code"])
            actor = LIFECYCLE_SYSTEM if as_system else self.actor_for(row, user)
            recorded = record(
                row,
                p,
                action,
                actor,
                now,
                self.calendar,
                self.directory,
                reasons=reasons,
                new_due_at=new_due_at,
            )
            if isinstance(recorded, Refusal):
                raise {RefusalKind.STATE: Conflict, RefusalKind.ACTOR: Forbidden, RefusalKind.INPUT: Invalid}[
                    recorded.kind
                ](recorded.reason)
            before, after = recorded.transition.before, recorded.transition.after
            if recorded.close_step:
                await self._close_step(row, now, user)
            if (step := recorded.new_step) is not None:
                await insert_rows(DossierStep, {"dossier_id": row["id"], **asdict(step)})
            changes = {COLUMNS[k]: v for k, v in recorded.changes.items()}
            changes[Dossier.version] = row["version"] + 1
            updated = (
                await Dossier.update(changes)
                .where((Dossier.id == row["id"]) & (Dossier.version == row["version"]))
                .returning(Dossier.id)
            )
            if not updated:
                raise Conflict("Hồ sơ vừa được người khác xử lý; vui lòng tải lại để xem trạng thái mới.")
            await insert_rows(
                Notification,
                *self._messages(
                    action.value,
                    code,
                    p,
                    row_owner=row["applicant_id"],
                    name=row["applicant_name"],
                    email=row["applicant_email"],
                    phone=row["applicant_phone"],
                    due_at=after.due_at,
                    now=now,
                    reasons=tuple(reasons),
                ),
            )
            await attach_documents(row["id"], "supplement", files or [], now)
            if issued is not None:
                await attach_documents(row["id"], "result", [issued], now)
            await audit.record(
                self.clock,
                audit.SYSTEM if as_system else self._actor(user, ip),
                AuditEntry(
                    f"dossier.{action.value}",
                    "dossier",
                    code,
                    dossier_code=code,
                    status_before=int(before.status),
                    status_after=int(after.status),
                    details=recorded.audit_details,
                ),
            )
        # Committed: our own next look-up must not wait for the database's notice.
        dossier_cache(Dossier._meta.db).forget(code)
        return await self._view_row(await self.load_row(code), user)

    def _messages(
        self,
        action: str,
        code: str,
        p: Procedure,
        *,
        row_owner: int | None,
        name: str,
        email: str,
        phone: str,
        due_at: datetime | None,
        now: datetime,
        reasons: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        """The outbox rows telling the applicant of ``action`` (none for an action they are
        not told of)."""
        message = message_for(
            action,
            code=code,
            procedure=p.name,
            name=name,
            due_at=due_at,
            reasons=reasons,
            portal=self.base_url,
        )
        return notifications.rows(message, code, row_owner, email, phone, now) if message else []

    async def _close_step(self, row: dict, now: datetime, user: UserView) -> None:
        open_step = await (
            DossierStep.select()
            .where((DossierStep.dossier_id == row["id"]) & DossierStep.finished_at.is_null())
            .order_by(DossierStep.id, ascending=False)
            .first()
        )
        if open_step:
            await DossierStep.update(
                {
                    DossierStep.finished_at: now,
                    DossierStep.actor: user.username,
                    DossierStep.timeliness: classify(now, open_step["due_at"]).value,
                }
            ).where(DossierStep.id == open_step["id"])

    # --- reading -----------------------------------------------------------------------

    async def load_row(self, code: str, columns: tuple[Column, ...] = ()) -> dict[str, Any]:
        if parse_code(code) is None:
            raise NotFound(f"Mã hồ sơ {code} không đúng định dạng (ví dụ 000.01.60.H63-210315-0001).")
        row = await one_by(Dossier, Dossier.code, code, columns)  # the busiest query: app/db/queries.py
        if row is None:
            raise NotFound(f"Không tìm thấy hồ sơ mã {code}.")
        return row

    def actor_for(self, row: dict, user: UserView | None) -> LifecycleActor:
        if user is None:
            return LifecycleActor("anonymous")
        owner = user.role is Role.CITIZEN and row["applicant_id"] == user.id
        return actor_at(row, user.role.value, user.unit_code, is_owner=owner)

    @staticmethod
    def _actor(user: UserView, ip: str) -> audit.Actor:
        return audit.Actor(user.id, user.username, user.role.value, ip)

    async def entitled(self, row: dict, user: UserView | None) -> bool:
        if user is None:
            return False
        if user.role in (Role.ADMIN, Role.AUDITOR):
            return True
        if user.role is Role.CITIZEN:
            return row["applicant_id"] == user.id
        if not user.unit_code:
            return False
        units = {row["receiving_unit"], row["step_unit"]} | {
            s["unit_code"]
            for s in await DossierStep.select(DossierStep.unit_code).where(
                DossierStep.dossier_id == row["id"]
            )
        }
        return any(u and self.directory.is_within(u, user.unit_code) for u in units)

    async def public_view(self, code: str, *, fresh: bool = False) -> dict[str, Any]:
        """What anyone may see by code (Circular 01/2018 Art. 16): code, procedure, status,
        appointment. Kept in memory until the dossier changes (app/db/row_cache.py) unless
        ``fresh`` (a client's ``Cache-Control: no-cache``); callers must not modify it."""

        async def read() -> dict[str, Any]:
            # Anonymous look-ups read only these four columns (the busiest public path; the
            # whole row is ~40 columns for Piccolo to build and convert).
            return self._public(await self.load_row(code, PUBLIC_COLUMNS))

        return await dossier_cache(Dossier._meta.db).kept(code, read, fresh=fresh)

    def _public(self, row: Mapping[str, Any]) -> dict[str, Any]:
        p = self.catalogue.get(row["procedure_code"])
        return {
            "code": row["code"],
            "procedure": {"code": p.code, "name": p.name},
            "status": row["status"],
            "status_name": Status(row["status"]).label,
            "appointment_at": local_iso(row["due_at"]),
        }

    async def view(
        self, code: str, user: UserView | None, ip: str = "", *, fresh: bool = False
    ) -> dict[str, Any]:
        if user is None:
            return await self.public_view(code, fresh=fresh)
        row = await self.load_row(code)
        if not await self.entitled(row, user):
            return self._public(row)  # the row is loaded already
        async with write_transaction():  # reading personal data is itself an audited act
            await audit.record(
                self.clock,
                self._actor(user, ip),
                AuditEntry("dossier.view", "dossier", code, dossier_code=code),
            )
        return await self._view_row(row, user)

    async def _view_row(
        self, row: dict, user: UserView | None, history: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        p = self.catalogue.get(row["procedure_code"])
        state = state_of(row, p)
        if history is None:
            history = await audit.dossier_history(row["code"])
        now = self.clock.now()
        open_ = not state.status.is_terminal and state.status is not Status.RESOLVED
        return {
            "code": row["code"],
            "status": row["status"],
            "status_name": state.status.label,
            "procedure_code": p.code,
            "procedure_name": p.name,
            "channel": row["channel"],
            "receiving_unit": row["receiving_unit"],
            "applicant": {
                "name": row["applicant_name"],
                "cccd": row["applicant_cccd"],
                "phone": row["applicant_phone"],
                "email": row["applicant_email"],
            },
            "form": json.loads(row["form"]) if isinstance(row["form"], str) else row["form"],
            "current_step": {
                "unit_code": row["step_unit"],
                "role": row["step_role"],
                "due_at": local_iso(row["step_due_at"]),
            }
            if row["step_unit"]
            else None,
            "appointment_at": local_iso(row["due_at"]),
            "original_appointment_at": local_iso(row["original_due_at"]),
            "submitted_at": local_iso(row["submitted_at"]),
            "received_at": local_iso(row["received_at"]),
            "finished_at": local_iso(row["finished_at"]),
            "returned_at": local_iso(row["returned_at"]),
            "timeliness": row["timeliness"],
            "flags": {
                "overdue": bool(open_ and row["due_at"] and now > row["due_at"]),
                "apologized": row["apologized"],
                "supplement_requested": row["supplements"] > 0,
                "outcome": row["outcome"],
                "signatures": sorted(state.signatures),
            },
            "fee": {"total": row["fee_total"], "due": row["fee_due"], "paid": row["paid"]},
            "history": [
                {
                    "seq": h["seq"],
                    "at": local_iso(h["at"]),
                    "action": h["action"],
                    "actor": h["actor"],
                    "role": h["actor_role"],
                    "status_before": h["status_before"],
                    "status_after": h["status_after"],
                }
                for h in history
            ],
            "allowed_actions": [a.value for a in allowed_actions(state, self.actor_for(row, user))],
        }

    async def raise_overdue_flags(self) -> list[str]:
        """Flag open dossiers past their appointment (the clock decides, real or simulated).

        A dossier waiting for the citizen's supplement is not counted: its clock is paused.
        """
        now = self.clock.now()
        late = await Dossier.select(Dossier.code, Dossier.status).where(
            (Dossier.overdue == False)  # noqa: E712 (Piccolo builds SQL from ==)
            & (Dossier.due_at < now)
            & Dossier.status.is_in([int(s) for s in RUNNING_CLOCK])
        )
        for row in late:
            async with write_transaction():
                await Dossier.update({Dossier.overdue: True}).where(Dossier.code == row["code"])
                await audit.record(
                    self.clock,
                    audit.SYSTEM,
                    AuditEntry(
                        "dossier.overdue",
                        "dossier",
                        row["code"],
                        dossier_code=row["code"],
                        status_before=row["status"],
                        status_after=row["status"],
                    ),
                )
        return [r["code"] for r in late]

    async def notifications(self, code: str, user: UserView) -> list[dict[str, Any]]:
        row = await self.load_row(code)
        if not await self.entitled(row, user):
            raise Forbidden("Bạn không có quyền xem thông báo của hồ sơ này.")
        return [
            {
                "channel": n["channel"],
                "recipient": n["recipient"],
                "subject": n["subject"],
                "body": n["body"],
                "status": n["status"],
                "created_at": local_iso(n["created_at"]),
            }
            for n in await notifications.for_dossier(code)
        ]

    async def queue(
        self, user: UserView, *, status: int | None = None, after: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """A citizen's own dossiers (newest first) or an officer's queue, a page at a time.

        The queue is most urgent first: by the step's due time, then the dossiers without one
        by arrival — new submissions not yet received (the time limit starts at reception;
        ``status=1`` lists them alone) and those waiting for the citizen's supplement — on
        both databases alike (SQLite and PostgreSQL disagree on where NULLs sort). ``after`` is the
        last row's cursor (keyset pagination, no OFFSET): ``<due time µs>~<id>`` in the dated
        part, ``~<id>`` in the undated part, ``<id>`` for a citizen."""
        if user.role is Role.CITIZEN:
            keyset = (_cursor_id(after),) if after else ()
            rows = await _queue_part("citizen", (user.id,), keyset, status, limit)
        elif user.role.is_officer:
            whose = (user.unit_code, user.role.value)
            due, _, last = (after or "").partition("~")
            rows = []
            if not after or due:  # the dated part is not over yet
                keyset = (_cursor_due(due), _cursor_id(last)) if after else ()
                rows = await _queue_part("dated", whose, keyset, status, limit)
            if len(rows) < limit:
                keyset = (_cursor_id(last),) if after and not due else ()
                rows += await _queue_part("undated", whose, keyset, status, limit - len(rows))
        else:
            raise Forbidden("Kiểm tra viên và quản trị tra cứu hồ sơ theo mã.")
        now = self.clock.now()
        return [
            {
                "code": r["code"],
                "procedure_code": r["procedure_code"],
                "status": r["status"],
                "status_name": STATUS_LABELS[r["status"]],
                "applicant_name": r["applicant_name"],
                "appointment_at": r["appointment_at"],
                "step_due_at": r["step_due_at_text"],
                "submitted_at": r["submitted_at_text"],
                "overdue": bool(r["due_at"] and now > r["due_at"] and r["status"] not in (3, 8, 9, 10)),
                "cursor": (
                    str(r["id"])
                    if user.role is Role.CITIZEN
                    else f"{_micros(r['step_due_at']) if r['step_due_at'] else ''}~{r['id']}"
                ),
            }
            for r in rows
        ]


def store_content(uploads_dir: str, content: bytes, extension: str) -> tuple[str, str]:
    """Keep ``content`` under its SHA-256 (its digest and path): a repeated upload is one file,
    and an aborted submission leaves at most an unreferenced file, never a row pointing at
    nothing. Each writer writes its own temporary file, then renames it into place (atomic):
    two processes storing the same content at once both succeed, with the same bytes. (os.path,
    not pathlib: its objects were a twentieth of a submission's time.)"""
    digest = hashlib.sha256(content).hexdigest()
    folder = os.path.join(uploads_dir, digest[:2])
    path = os.path.join(folder, f"{digest}.{extension}")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        handle, part = tempfile.mkstemp(suffix=".part", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(part, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
            raise
    return digest, path


async def has_dossiers() -> bool:
    return await Dossier.exists()


async def attach_documents(dossier_id: int, kind: str, files: list[StoredFile], now: datetime) -> None:
    await insert_rows(DossierDocument, *document_rows(dossier_id, kind, files, now))


def document_rows(
    dossier_id: int | Ref, kind: str, files: list[StoredFile], now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "dossier_id": dossier_id,
            "kind": kind,
            "key": f.key,
            "filename": f.filename,
            "content_type": f.content_type,
            "size": f.size,
            "sha256": f.sha256,
            "path": f.path,
            "created_at": now,
        }
        for f in files
    ]


QUEUE_COLUMNS = (
    Dossier.code,
    Dossier.procedure_code,
    Dossier.status,
    Dossier.due_at,
    Dossier.step_due_at,
    Dossier.applicant_name,
    Dossier.receiving_unit,
    Dossier.id,
)
#: The times a queue row shows, formatted by the database (Dialect.local_iso): 150 a page.
QUEUE_TIMES = (
    ("due_at", "appointment_at"),
    ("step_due_at", "step_due_at_text"),
    ("submitted_at", "submitted_at_text"),
)


@functools.cache
def queue_sql(part: str, after: bool, status: bool, dialect: str) -> str:
    """The SELECT of one part of a queue page, written once: Piccolo building it again for
    every request was a tenth of an officer's queue request (bench/README.md, stop 14).
    ``{}`` are ``raw()``'s placeholders, in the order ``_queue_part`` passes its arguments.
    ``dated``: an officer's dossiers with a due time, paged on (step_due_at, id) along the
    index ``dossier_queue``; ``undated``: those without, by id; ``citizen``: newest first."""
    if part == "citizen":
        where = ['"applicant_id" = {}'] + (['"id" < {}'] if after else [])
        order = '"id" DESC'
    elif part == "dated":
        where = ['"step_unit" = {}', '"step_role" = {}', '"step_due_at" IS NOT NULL']
        if after:
            where.append('("step_due_at", "id") > ({}, {})')
        order = '"step_due_at", "id"'
    else:
        where = ['"step_unit" = {}', '"step_role" = {}', '"step_due_at" IS NULL']
        if after:
            where.append('"id" > {}')
        order = '"id"'
    if status:
        where.append('"status" = {}')
    names = quoted(c._meta.db_column_name for c in QUEUE_COLUMNS)
    local_iso_sql = Dialect(dialect).local_iso
    times = "".join(f', {local_iso_sql(quoted([c]))} AS "{alias}"' for c, alias in QUEUE_TIMES)
    return f'SELECT {names}{times} FROM "dossier" WHERE {" AND ".join(where)} ORDER BY {order} LIMIT {{}}'


async def _queue_part(
    part: str, whose: tuple, keyset: tuple, status: int | None, limit: int
) -> list[Mapping[str, Any]]:
    """One part of a queue page (``queue_sql``): after the cursor's ``keyset`` values, if any."""
    args = [*whose, *keyset, *((status,) if status else ()), limit]
    return list(await read_short(Dossier, queue_sql(part, bool(keyset), bool(status), engine_name()), *args))


_BAD_CURSOR = ("Con trỏ trang không hợp lệ.", {"after": "Dùng giá trị cursor của dòng cuối trang trước."})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def _micros(value: datetime) -> int:
    # Exact (no float), and safe in a URL as it is (an ISO time's "+" would not be).
    return (value - _EPOCH) // _MICROSECOND


def _cursor_due(text: str) -> datetime:
    return _EPOCH + _cursor_id(text) * _MICROSECOND


def _cursor_id(text: str) -> int:
    # Bounded so that any due time it gives is a datetime (and any id a database integer).
    if not (text.isascii() and text.isdigit() and len(text) <= 17):
        raise Invalid(*_BAD_CURSOR)
    return int(text)
