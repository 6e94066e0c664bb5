"""Plain Piccolo tables. Queries live in app/services, never here."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Bytea,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table, create_table_class

from app.domain.rollup import OFFICER_FIGURES, UNIT_FIGURES


class Unit(Table, tablename="unit"):
    """An agency of the province: committee, department, centre, district, office, commune."""

    id = Serial(primary_key=True)
    code = Varchar(length=20, unique=True, index=True)  # QCVN 102 style identifier
    key = Varchar(length=120, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=20, index=True)
    level = Varchar(length=10)
    parent_code = Varchar(length=20, null=True, default=None, index=True)
    one_stop_name = Varchar(length=200, default="")
    synthetic = Boolean(default=False)
    position = Integer(default=0)
    province = Varchar(length=40, default="")


class User(Table, tablename="portal_user"):
    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True, index=True)
    password_hash = Varchar(length=200)
    role = Varchar(length=20, index=True)
    unit_code = Varchar(length=20, null=True, default=None, index=True)
    full_name = Varchar(length=120)
    cccd = Varchar(length=12, null=True, default=None, unique=True)
    birth_year = SmallInt(null=True, default=None)
    female = Boolean(null=True, default=None)
    email = Varchar(length=254, default="")
    phone = Varchar(length=20, default="")
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only, hash-chained record of every action (see app/services/audit.py)."""

    id = Serial(primary_key=True)
    seq = BigInt(unique=True)  # its unique index serves the chain (migration 0018)
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=64, default="")
    actor_role = Varchar(length=20, default="")
    action = Varchar(length=64)  # no query asks by action (migration 0018)
    object_type = Varchar(length=40, default="")
    object_id = Varchar(length=64, default="")
    dossier_code = Varchar(length=40, null=True, default=None, index=True)
    status_before = SmallInt(null=True, default=None)
    status_after = SmallInt(null=True, default=None)
    details = JSON(default="{}")
    ip = Varchar(length=64, default="")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class Setting(Table, tablename="portal_setting"):
    """Small key/value facts about this installation (loaded province, seed version)."""

    key = Varchar(length=64, primary_key=True)
    value = Text(default="")


class Dossier(Table, tablename="dossier"):
    """A dossier (hồ sơ): the state machine's state plus what the citizen submitted."""

    id = Serial(primary_key=True)
    code = Varchar(length=40, unique=True)  # the unique index serves look-ups (migration 0016)
    procedure_code = Varchar(length=20, index=True)
    receiving_unit = Varchar(length=20, index=True)
    channel = SmallInt(default=2)  # 1 counter, 2 online, 3 post
    applicant_id = Integer(null=True, default=None, index=True)
    applicant_name = Varchar(length=120, default="")
    applicant_cccd = Varchar(length=12, default="")
    applicant_phone = Varchar(length=20, default="")
    applicant_email = Varchar(length=254, default="")
    form = JSON(default="{}")
    status = SmallInt(index=True)
    step = SmallInt(default=0)
    # Found through dossier_queue (step_unit, step_role, step_due_at, id), migrations 0011, 0016.
    step_unit = Varchar(length=20, null=True, default=None)
    step_role = Varchar(length=20, null=True, default=None)
    step_started_at = Timestamptz(null=True, default=None)
    step_due_at = Timestamptz(null=True, default=None, index=True)
    due_at = Timestamptz(null=True, default=None)
    original_due_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz()
    # The statistics' periods: received_at is indexed; finished_at leads the composite index
    # dossier_finished_received (finished_at, received_at) of migration 0008.
    received_at = Timestamptz(null=True, default=None, index=True)
    finished_at = Timestamptz(null=True, default=None)
    returned_at = Timestamptz(null=True, default=None)
    timeliness = Varchar(length=10, null=True, default=None)
    supplements = SmallInt(default=0)
    resume_status = SmallInt(null=True, default=None)
    apologized = Boolean(default=False)
    overdue = Boolean(default=False, index=True)
    outcome = Varchar(length=10, null=True, default=None)
    signatures = Varchar(length=40, default="")
    fee_total = Integer(default=0)
    fee_due = Boolean(default=False)
    paid = Boolean(default=False)
    idempotency_key = Varchar(length=120, null=True, default=None, unique=True)
    version = Integer(default=0)
    updated_at = Timestamptz()


class DossierStep(Table, tablename="dossier_step"):
    """One leg of the resolution: who held the dossier, when, and whether on time (Form 05)."""

    id = Serial(primary_key=True)
    dossier_id = Integer(index=True)
    position = SmallInt()
    step_key = Varchar(length=40)
    unit_code = Varchar(length=20)
    role = Varchar(length=20)
    handoff = Varchar(length=20, default="internal")
    started_at = Timestamptz()
    due_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    timeliness = Varchar(length=10, null=True, default=None)
    actor = Varchar(length=64, default="")


class DossierDocument(Table, tablename="dossier_document"):
    """A file of the dossier: an upload by the citizen or a document the portal issued."""

    id = Serial(primary_key=True)
    dossier_id = Integer(index=True)
    kind = Varchar(length=30)  # upload | supplement | receipt | supplement_request | refusal | …
    key = Varchar(length=60, default="")
    filename = Varchar(length=200, default="")
    content_type = Varchar(length=60)
    size = Integer()
    sha256 = Varchar(length=64)
    path = Varchar(length=300)
    created_at = Timestamptz()


class DossierCounter(Table, tablename="dossier_counter"):
    """The day's sequence per receiving unit: key is "<unit code>|<YYMMDD>"."""

    key = Varchar(length=40, primary_key=True)
    last = Integer(default=0)


class Notification(Table, tablename="notification"):
    """Outbox of messages to citizens (email / SMS); a pluggable sender delivers them."""

    id = Serial(primary_key=True)
    dossier_code = Varchar(length=40, index=True)
    user_id = Integer(null=True, default=None, index=True)
    channel = Varchar(length=10)  # email | sms
    recipient = Varchar(length=254)
    subject = Varchar(length=200, default="")
    body = Text()
    created_at = Timestamptz()
    status = Varchar(length=12, default="pending")  # pending | recorded | sent | failed
    sent_at = Timestamptz(null=True, default=None)


class Payment(Table, tablename="payment"):
    """An online payment through the simulated gateway (states as GOV.UK Pay's)."""

    id = Serial(primary_key=True)
    reference = Varchar(length=40, unique=True, index=True)
    dossier_code = Varchar(length=40, index=True)
    amount = Integer()
    state = Varchar(length=12, default="created")  # created | succeeded | failed | cancelled | expired
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)


class Draft(Table, tablename="draft"):
    """A citizen's unfinished submission: saved answers and already-checked files."""

    id = Serial(primary_key=True)
    token = Varchar(length=40, unique=True, index=True)
    user_id = Integer(index=True)
    procedure_code = Varchar(length=20)
    unit_code = Varchar(length=20, default="")
    form = JSON(default="{}")
    files = JSON(default="[]")
    updated_at = Timestamptz()
    submitted_code = Varchar(length=40, null=True, default=None)


class PkiCertificate(Table, tablename="pki_certificate"):
    """A certificate of the simulated PKI, with its private key encrypted at rest."""

    id = Serial(primary_key=True)
    serial = Varchar(length=48, unique=True, index=True)  # hex
    kind = Varchar(length=16, index=True)  # root | intermediate | ocsp | tsa | seal | personal
    name = Varchar(
        length=40, null=True, default=None, unique=True
    )  # authorities: root, intermediate, ocsp, tsa
    unit_code = Varchar(length=20, null=True, default=None, index=True)
    user_id = Integer(null=True, default=None, index=True)
    subject = Text()
    not_before = Timestamptz()
    not_after = Timestamptz()
    cert_der = Bytea()
    key_pem = Bytea()
    revoked_at = Timestamptz(null=True, default=None)
    revocation_reason = Varchar(length=30, null=True, default=None)
    created_at = Timestamptz()


class Rating(Table, tablename="rating"):
    """A citizen's rating of a finished dossier (Circular 01/2018 Art. 12–13): one per dossier."""

    id = Serial(primary_key=True)
    dossier_id = Integer(unique=True, index=True)
    dossier_code = Varchar(length=40, unique=True)
    unit_code = Varchar(length=20, index=True)  # the receiving unit
    procedure_code = Varchar(length=20, index=True)
    level = SmallInt()  # 4 Rất hài lòng, 3 Hài lòng, 2 Bình thường, 1 Không hài lòng
    reception_contacts = SmallInt(null=True, default=None)  # index 3: contacts with the reception point
    agencies_contacted = SmallInt(
        null=True, default=None
    )  # index 4: 0 none, 1 only the one-stop unit, 2 more
    harassment = Boolean(default=False)  # index 7: a complaint about the officers' attitude
    comment = Text(default="")
    source = Varchar(length=10, default="online")  # online | paper (recorded at the counter)
    rated_by = Integer(null=True, default=None)  # the citizen, or the officer who keyed in a paper form
    rated_at = Timestamptz()
    updated_at = Timestamptz()
    revisions = SmallInt(default=0)


class Feedback(Table, tablename="feedback"):
    """A phản ánh, kiến nghị about a dossier or a unit, answered within 15 working days."""

    id = Serial(primary_key=True)
    code = Varchar(length=24, unique=True, index=True)
    citizen_id = Integer(index=True)
    dossier_code = Varchar(length=40, null=True, default=None, index=True)
    unit_code = Varchar(length=20, index=True)
    subject = Varchar(length=200)
    body = Text()
    filed_at = Timestamptz()
    due_at = Timestamptz()
    assignee_id = Integer(null=True, default=None, index=True)
    answer = Text(default="")
    answered_at = Timestamptz(null=True, default=None)
    timeliness = Varchar(length=10, null=True, default=None)
    satisfied = Boolean(null=True, default=None)
    repeat_of = Integer(null=True, default=None)
    status = Varchar(length=12, default="open")  # open | answered


def _figures(names: tuple[str, ...]) -> dict[str, BigInt]:
    return {name: BigInt(default=0) for name in names}


#: The statistics' rollup (app/domain/rollup.py): figures per month, receiving unit and
#: procedure, kept with every change of a dossier. Unique on (month, unit_code,
#: procedure_code) — an index made by its migration (Piccolo declares single columns only).
StatsMonth = create_table_class(
    "StatsMonth",
    class_kwargs={"tablename": "stats_month"},
    class_members={
        "__module__": __name__,  # so that the app's table_finder lists it
        "month": Integer(),  # yyyymm, Vietnam time
        "unit_code": Varchar(length=20),
        "procedure_code": Varchar(length=20),
        **_figures(UNIT_FIGURES),
    },
)

#: The officers' side of the rollup: unique on (month, actor, step_unit, unit_code,
#: procedure_code).
StatsOfficerMonth = create_table_class(
    "StatsOfficerMonth",
    class_kwargs={"tablename": "stats_officer_month"},
    class_members={
        "__module__": __name__,
        "month": Integer(),
        "actor": Varchar(length=64),
        "step_unit": Varchar(length=20),
        "unit_code": Varchar(length=20),
        "procedure_code": Varchar(length=20),
        **_figures(OFFICER_FIGURES),
    },
)
