"""The shape of one procedure file (``procedures/catalogue/*.toml``).

Every catalogue entry is decoded into these frozen structs by ``procedures.loader``;
a file that does not fit fails with its path and the offending field named.
Field names follow the procedure record of Decree 63/2010 Art. 8.2 and what
provincial portals publish (name, sequence, channels, documents, time limit,
applicant, competent agency, fee, result, legal basis).

Unit selectors (``competent_unit``, ``receiving``, ``workflow[].unit``) name units
*relative to the geography*, never by code, so the same catalogue loads on the
2021 three-level structure and on the 2025 two-level one:

    receiving            the one-stop unit that received the dossier
    center               the provincial Public Administrative Service Centre
    province             the provincial People's Committee
    department:<key>     a provincial department (sở/ban/ngành), e.g. department:tu-phap
    district             the district People's Committee (of the receiving unit)
    district:<key>       a district office (phòng), e.g. district:tu-phap
    commune              the commune People's Committee (of the receiving unit)
    commune:<key>        a commune-level agency, e.g. commune:cong-an
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

Level = Literal["province", "district", "commune"]
OnlineLevel = Literal["full", "partial"]
TimeUnit = Literal["working_days", "days", "same_day"]
Role = Literal["reception", "specialist", "leader", "clerk"]
FieldType = Literal[
    "text",
    "textarea",
    "date",
    "integer",
    "money",
    "email",
    "phone",
    "cccd",
    "select",
    "boolean",
]
Handoff = Literal["internal", "inter_agency", "inter_level"]
ResultType = Literal["document", "certificate", "license", "confirmation", "copy"]

#: 8 working hours make one working day (the convention of the provinces' systems).
HOURS_PER_WORKING_DAY = 8

PROCEDURE_CODE = r"^(\d\.\d{6}|SYN\.\d{6})$"
KEY = r"^[a-z][a-z0-9_]*$"
SELECTOR = re.compile(
    r"^(receiving|center|province|district|commune|"
    r"department:[a-z0-9-]+|district:[a-z0-9-]+|commune:[a-z0-9-]+)$"
)


class TimeLimit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: Annotated[int, msgspec.Meta(ge=0, le=365)]
    unit: TimeUnit
    #: Extension allowed by law (e.g. "≤ 2 working days for many pages"), as text.
    note: str = ""


class FeeTier(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A per-unit price for quantities ``from_`` .. ``to`` (inclusive; ``to`` 0 = open)."""

    from_: Annotated[int, msgspec.Meta(ge=1)] = msgspec.field(name="from")
    amount: Annotated[int, msgspec.Meta(ge=0)] = 0
    to: Annotated[int, msgspec.Meta(ge=0)] = 0


class FeeItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One charge (phí or lệ phí). Amounts in VND."""

    name: str
    kind: Literal["le_phi", "phi"] = "le_phi"
    #: ``case``: once per dossier; ``page``/``copy``: times the quantity in the form.
    per: Literal["case", "page", "copy"] = "case"
    amount: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: The amount when submitted online, where the law sets a lower one.
    online_amount: int | None = None
    tiers: tuple[FeeTier, ...] = ()
    #: Form field holding the quantity for ``page``/``copy`` items.
    quantity_field: str = ""
    #: The first N units are free (e.g. copies included in the fee).
    free_quantity: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: Cap per dossier (0 = none).
    maximum: Annotated[int, msgspec.Meta(ge=0)] = 0
    legal_basis: str = ""


class FeeExemption(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole fee is waived when the boolean form field ``when`` is true."""

    when: str
    label: str
    legal_basis: str = ""


class Fee(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    items: tuple[FeeItem, ...] = ()
    exemptions: tuple[FeeExemption, ...] = ()
    #: Free text as the portal shows it ("Miễn lệ phí", "2.000 đồng/trang …").
    description: str = ""


class Document(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A dossier component (thành phần hồ sơ)."""

    key: Annotated[str, msgspec.Meta(pattern=KEY)]
    name: str
    required: bool = True
    originals: Annotated[int, msgspec.Meta(ge=0, le=10)] = 1
    copies: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0
    #: The prescribed template (mẫu đơn, tờ khai), if any.
    template: str = ""
    note: str = ""


class FormField(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(pattern=KEY)]
    label: str
    type: FieldType = "text"
    required: bool = True
    group: str = ""
    help: str = ""
    options: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 200
    pattern: str = ""


class WorkflowStep(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One leg of the resolution: who holds the dossier and for how long."""

    key: Annotated[str, msgspec.Meta(pattern=KEY)]
    name: str
    unit: str
    role: Role
    #: Time budget in working hours (8 h = 1 working day).
    hours: Annotated[float, msgspec.Meta(ge=0, le=2920)]
    #: How the dossier reaches this step from the previous one.
    handoff: Handoff = "internal"


class Procedure(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(pattern=PROCEDURE_CODE)]
    name: str
    field: str
    level: Level
    competent_unit: str
    receiving: tuple[str, ...]
    online_level: OnlineLevel
    time_limit: TimeLimit
    result: str
    result_type: ResultType
    documents: tuple[Document, ...]
    form: tuple[FormField, ...]
    workflow: tuple[WorkflowStep, ...]
    legal_basis: tuple[str, ...]
    fee: Fee = Fee()
    applicants: tuple[str, ...] = ("Công dân Việt Nam",)
    steps: str = ""
    #: False for procedures exempt from one-stop reception (Decree 61 Art. 14.5),
    #: e.g. mobile registration at the citizen's home.
    at_counter: bool = True
    #: True for entries invented to reach a realistic catalogue size.
    synthetic: bool = False
    sources: tuple[str, ...] = ()
    #: Facts taken as unconfirmed ([U] in the reference), for the README and the page.
    unconfirmed: tuple[str, ...] = ()

    @property
    def hours_budget(self) -> float:
        return sum(step.hours for step in self.workflow)
