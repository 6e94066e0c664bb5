"""The province files: both geographies parse, expand and keep their codes consistent."""

from pathlib import Path

import msgspec
import pytest

from app.domain.geography import check_province, expand, parse_province

PROVINCES = Path(__file__).parents[2] / "fixtures" / "provinces"


def load(key):
    pf = parse_province((PROVINCES / key / "province.toml").read_text(encoding="utf-8"))
    return pf, expand(pf)


def test_yen_bai_2021_has_its_nine_district_level_units():
    pf, units = load("yen-bai-2021")
    assert check_province(pf, units) == []
    districts = [u.name for u in units if u.kind == "district"]
    assert len(districts) == 9
    for name in (
        "thành phố Yên Bái",
        "thị xã Nghĩa Lộ",
        "huyện Lục Yên",
        "huyện Mù Cang Chải",
        "huyện Trạm Tấu",
        "huyện Trấn Yên",
        "huyện Văn Chấn",
        "huyện Văn Yên",
        "huyện Yên Bình",
    ):
        assert any(d.endswith(name) for d in districts), name
    communes = [u for u in units if u.kind == "commune"]
    assert 165 <= len(communes) <= 185
    assert {u.kind for u in units if u.parent_code == units[0].code} == {"center", "department", "district"}


def test_every_commune_has_its_police_and_every_district_its_offices():
    _, units = load("yen-bai-2021")
    for commune in (u for u in units if u.kind == "commune"):
        assert [c.kind for c in units if c.parent_code == commune.code] == ["commune_agency"]
    for district in (u for u in units if u.kind == "district"):
        offices = [c for c in units if c.parent_code == district.code and c.kind == "district_office"]
        assert len(offices) == 7


def test_codes_are_unique_under_h63_and_parents_come_first():
    _, units = load("yen-bai-2021")
    seen = set()
    for u in units:
        assert u.code.endswith(".H63") and u.code not in seen
        assert u.parent_code is None or u.parent_code in seen
        seen.add(u.code)


def test_real_and_invented_commune_names_are_told_apart():
    _, units = load("yen-bai-2021")
    real = {u.name for u in units if u.kind == "commune" and not u.synthetic}
    assert real == {"Phường Nguyễn Phúc", "Phường Hồng Hà", "Xã Bạch Hà", "Xã Yên Bình"}


def test_lao_cai_2025_has_no_district_level():
    pf, units = load("lao-cai-2025")
    assert check_province(pf, units) == []
    assert not [u for u in units if u.level == "district"]
    assert len([u for u in units if u.kind == "commune"]) == 99
    assert pf.level_map == {"district": "commune"}


def test_a_malformed_file_names_the_field():
    text = (PROVINCES / "yen-bai-2021" / "province.toml").read_text(encoding="utf-8")
    with pytest.raises(msgspec.ValidationError, match=r"\$\.province\.code"):
        parse_province(text.replace('code = "000.00.00.H63"', 'code = "00.00.00.H63"', 1))
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        parse_province(text.replace('place = "Yên Bái"', 'place = "Yên Bái"\ncapital = "x"', 1))


@pytest.mark.parametrize("key", ["yen-bai-2021", "lao-cai-2025"])
def test_every_workflow_step_of_the_catalogue_has_a_unit_in_both_geographies(key):
    from app.domain.directory import Directory, UnitRecord
    from procedures.loader import load_catalogue

    pf, units = load(key)
    d = Directory(
        (UnitRecord(u.code, u.key, u.name, u.kind, u.level, u.parent_code, u.one_stop_name) for u in units),
        pf.level_map,
    )
    for p in load_catalogue():
        receivers = d.receiving_units(p.receiving)
        assert receivers, p.code
        for r in receivers:
            for step in p.workflow:
                assert d.resolve(step.unit, r.code) is not None, (p.code, r.key, step.unit)
