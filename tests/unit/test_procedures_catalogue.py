"""The catalogue as data: every file loads, the fee rules compute as the law says, and a
broken file is refused naming the file and the field."""

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from procedures.fees import quote
from procedures.forms import form_schema, validate_form
from procedures.loader import CATALOGUE_DIR, CatalogueError, load_catalogue, statutory_hours

REAL_CODES = """1.001193 1.003583 1.000894 1.000593 1.000656 1.004884 2.000908 2.000635 2.000815 2.000884
1.004222 1.004194 1.010038 1.003677 1.001612 2.000575 2.001610 3.000333 1.002804 1.009994 1.013227
2.000806 1.004837 1.001022 2.000200 1.001456 1.000948 2.001218""".split()

CATALOGUE = load_catalogue()


def test_the_28_real_procedures_are_all_there():
    real = {p.code for p in CATALOGUE if not p.synthetic}
    assert set(REAL_CODES) <= real and len(REAL_CODES) == 28


def test_synthetic_entries_are_marked_and_coded_apart():
    for p in CATALOGUE:
        assert p.synthetic == p.code.startswith("SYN."), p.code


def test_every_form_is_a_valid_json_schema():
    for p in CATALOGUE:
        Draft202012Validator.check_schema(form_schema(p))


def test_every_workflow_fits_its_statutory_time():
    for p in CATALOGUE:
        assert p.hours_budget <= statutory_hours(p), p.code


def test_mobile_registrations_are_not_received_at_the_counter():
    # Decree 61/2018 Art. 14.5: itinerant procedures are exempt from one-stop reception.
    assert not CATALOGUE.get("1.003583").at_counter and not CATALOGUE.get("1.000593").at_counter


def test_certification_of_copies_costs_2000_per_page_then_1000_capped_at_200000():
    # Thông tư 226/2016/TT-BTC.
    p = CATALOGUE.get("2.000815")
    assert [quote(p, {"so_trang": n}, online=False).total for n in (1, 2, 5, 300)] == [
        2000,
        4000,
        7000,
        200000,
    ]


def test_permanent_residence_costs_less_online():
    # Thông tư 75/2022/TT-BTC: 20.000 đồng at the counter, 10.000 đồng online.
    p = CATALOGUE.get("1.004222")
    assert quote(p, {}, online=False).total == 20000
    assert quote(p, {}, online=True).total == 10000
    assert quote(p, {"thuoc_dien_mien": True}, online=True).total == 0


def test_criminal_record_extracts_charge_5000_from_the_third_copy():
    # QĐ 1050/QĐ-BTP: 200.000 đồng per request, +5.000 đồng per extra copy from the 3rd.
    p = CATALOGUE.get("3.000333")
    assert quote(p, {"so_phieu": 2}, online=True).total == 200000
    assert quote(p, {"so_phieu": 4}, online=True).total == 210000


def test_on_time_birth_registration_is_free():
    # Luật Hộ tịch 2014, Điều 11.
    p = CATALOGUE.get("1.001193")
    assert quote(p, {"dang_ky_dung_han": True}, online=True).total == 0
    assert quote(p, {"dang_ky_dung_han": False}, online=True).total == 8000


def test_form_validation_names_the_fields():
    p = CATALOGUE.get("1.001193")
    errors = validate_form(p, {"ho_ten_tre": "Lò Văn A", "ngay_sinh": "2021-02-30", "gioi_tinh": "Khác"})
    assert set(errors) == {"ngay_sinh", "gioi_tinh", "noi_sinh", "ho_ten_me", "quan_he"}


def _valid_value(f):
    """A value the field accepts."""
    return {
        "date": "1985-06-15",
        "integer": max(f.minimum or 0, 1) if f.maximum is None or f.maximum >= 1 else f.maximum,
        "money": max(f.minimum or 0, 1000),
        "email": "an.nguyen@example.vn",
        "phone": "0912345678",
        "cccd": "015085063742",
        "select": f.options[0] if f.options else "",
        "boolean": True,
    }.get(f.type, "Nguyễn Văn An"[: f.max_length] if not f.pattern else None)


#: Values tried in every field: of each JSON type, at and across the edges of the field kinds.
TRIED = [
    None, True, False, 0, 1, -1, 1.0, 1.5, 10**12, "", " ", "a", "Nguyễn Văn An", "x" * 10_001,
    "1985-06-15", "1985-02-30", "15/06/1985", "19850615", "1985-6-15", "１９８５-06-15",
    "0912345678", "+84912345678", "091234567", "０９１２３４５６７８", "015085063742",
    "01508506374", "٠١٥٠٨٥٠٦٣٧٤٢", "an@example.vn", "an@", "@example.vn", "an example.vn",
    [], {}, ["1985-06-15"], {"a": 1},
]  # fmt: skip


def test_what_the_fast_validator_accepts_the_full_one_accepts():
    """validate_form asks fastjsonschema first and, when it accepts, names no error: every
    form, with every tried value in each field in turn (and a field missing, one too many),
    is valid to it exactly when jsonschema finds no error."""
    checked = 0
    for p in CATALOGUE:
        schema = form_schema(p)
        full = Draft202012Validator(schema, format_checker=FormatChecker())
        base = {f.key: _valid_value(f) for f in p.form if _valid_value(f) is not None}
        variants = [
            base,
            {**base, "khac": "x"},
            *({k: v for k, v in base.items() if k != key} for key in base),
        ]
        variants += [{**base, f.key: value} for f in p.form for value in [*TRIED, *f.options]]
        for form in variants:
            assert (validate_form(p, form) == {}) == full.is_valid(form), (p.code, form)
            checked += 1
    assert checked > 28 * 40


@pytest.fixture
def broken(tmp_path):
    """A copy of one real file to break in one place."""

    def make(old: str, new: str, name: str = "1.001193.toml") -> Path:
        target = tmp_path / "catalogue"
        target.mkdir(exist_ok=True)
        text = (CATALOGUE_DIR / "1.001193.toml").read_text(encoding="utf-8")
        assert old in text
        (target / name).write_text(text.replace(old, new, 1), encoding="utf-8")
        return target

    return make


@pytest.mark.parametrize(
    "old, new, field",
    [
        ('value = 0\nunit = "same_day"', 'value = "zero"\nunit = "same_day"', "$.time_limit.value"),
        (
            'unit = "commune"\nrole = "specialist"',
            'unit = "village"\nrole = "specialist"',
            "$.workflow[1].unit",
        ),
        ("hours = 4", "hours = 40", "$.workflow"),
        ('when = "dang_ky_dung_han"', 'when = "ho_ten_tre"', "$.fee.exemptions[0].when"),
        ('level = "commune"', 'level = "hamlet"', "$.level"),
        ('key = "to_khai"', 'key = "To Khai"', "$.documents[0].key"),
    ],
)
def test_a_broken_file_is_refused_naming_file_and_field(broken, old, new, field):
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(broken(old, new))
    message = str(excinfo.value)
    assert "1.001193.toml" in message and field in message


def test_a_file_must_be_named_after_its_code(broken):
    with pytest.raises(CatalogueError, match=r"9\.999999\.toml.*\$\.code"):
        load_catalogue(broken("code = ", "code = ", name="9.999999.toml"))


def test_not_toml_at_all(tmp_path):
    (tmp_path / "1.000001.toml").write_text("code = [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid TOML"):
        load_catalogue(tmp_path)
