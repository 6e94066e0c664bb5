from app.domain.directory import Directory, UnitRecord
from app.domain.text import fold, format_vnd, slugify


def test_search_folding_ignores_diacritics_and_case():
    assert fold("Đăng ký KHAI SINH") == fold("dang ky khai sinh") == "dang ky khai sinh"
    assert slugify("Xã Tuy Lộc") == "xa-tuy-loc"


def test_money_is_grouped_with_dots():
    assert format_vnd(200000) == "200.000 đồng"
    assert format_vnd(0) == "0 đồng"


def _units(with_districts: bool) -> list[UnitRecord]:
    units = [
        UnitRecord("000.00.00.H63", "ubnd", "UBND tỉnh", "province", "province", None, ""),
        UnitRecord("000.00.50.H63", "tt", "Trung tâm", "center", "province", "000.00.00.H63", "TT"),
        UnitRecord("000.00.02.H63", "tu-phap", "Sở Tư pháp", "department", "province", "000.00.00.H63", ""),
    ]
    parent = "000.00.00.H63"
    if with_districts:
        units.append(UnitRecord("000.00.60.H63", "tp", "UBND TP", "district", "district", parent, "BP TP"))
        parent = "000.00.60.H63"
    units += [
        UnitRecord("000.01.60.H63", "xa-a", "Xã A", "commune", "commune", parent, "BP xã A"),
        UnitRecord(
            "001.01.60.H63",
            "xa-a-cong-an",
            "Công an xã A",
            "commune_agency",
            "commune",
            "000.01.60.H63",
            "BP CA",
        ),
    ]
    return units


def test_receiving_units_follow_the_procedure_kinds():
    d = Directory(_units(with_districts=True))
    assert [u.key for u in d.receiving_units(["district", "commune"])] == ["tp", "xa-a"]
    assert [u.key for u in d.receiving_units(["center"])] == ["tt"]
    assert [u.key for u in d.receiving_units(["commune:cong-an"])] == ["xa-a-cong-an"]


def test_without_districts_the_level_map_sends_district_procedures_to_communes():
    d = Directory(_units(with_districts=False), {"district": "commune"})
    assert [u.key for u in d.receiving_units(["district"])] == ["xa-a"]


def test_unit_scope_is_the_subtree():
    d = Directory(_units(with_districts=True))
    assert d.is_within("001.01.60.H63", "000.00.60.H63")
    assert not d.is_within("000.00.60.H63", "000.01.60.H63")
    assert [u.key for u in d.ancestors("000.01.60.H63")] == ["tp", "ubnd"]


def test_workflow_selectors_resolve_from_the_receiving_unit():
    d = Directory(
        _units(with_districts=True)
        + [
            UnitRecord(
                "000.60.60.H63",
                "tp-tu-phap",
                "Phòng Tư pháp",
                "district_office",
                "district",
                "000.00.60.H63",
                "",
            ),
        ]
    )
    commune = "000.01.60.H63"
    assert d.resolve("receiving", commune).key == "xa-a"
    assert d.resolve("commune", commune).key == "xa-a"
    assert d.resolve("commune:cong-an", commune).key == "xa-a-cong-an"
    assert d.resolve("district", commune).key == "tp"
    assert d.resolve("district:tu-phap", commune).key == "tp-tu-phap"
    assert d.resolve("department:tu-phap", commune).key == "tu-phap"
    assert d.resolve("center", commune).key == "tt"
    assert d.resolve("commune", "001.01.60.H63").key == "xa-a"  # received by the commune police


def test_without_districts_district_selectors_land_on_the_commune():
    d = Directory(_units(with_districts=False), {"district": "commune"})
    assert d.resolve("district:tu-phap", "000.01.60.H63").key == "xa-a"
    assert d.resolve("district", "000.01.60.H63").key == "xa-a"
