"""The catalogue as data: every file loads, the fee rules compute as the law says, and a
broken file is refused naming the file and the field."""

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

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
