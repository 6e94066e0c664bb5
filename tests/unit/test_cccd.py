"""The CCCD shape rules (Circular 07/2016/TT-BCA Art. 7): province, gender/century, birth year."""

from datetime import date

import pytest

from app.domain.cccd import CccdError, check_matches, parse_cccd

TODAY = date(2021, 6, 1)


def test_a_yen_bai_man_born_1985():
    info = parse_cccd("015085123456", today=TODAY)
    assert (info.province_code, info.female, info.birth_year) == ("015", False, 1985)


def test_a_woman_born_in_2001_has_century_digit_3():
    info = parse_cccd("001301000123", today=TODAY)
    assert info.female and info.birth_year == 2001


@pytest.mark.parametrize(
    "number, fragment",
    [
        ("01508512345", "12 chữ số"),
        ("01508512345a", "12 chữ số"),
        ("003085123456", "mã tỉnh"),  # 003 is no province
        ("015299123456", "tương lai"),  # born 2099
    ],
)
def test_malformed_numbers_are_refused_with_a_reason(number, fragment):
    with pytest.raises(CccdError, match=fragment):
        parse_cccd(number, today=TODAY)


def test_declared_birth_year_and_gender_must_match_the_number():
    info = parse_cccd("015185123456", today=TODAY)  # woman, 1985
    check_matches(info, birth_year=1985, female=True)
    with pytest.raises(CccdError, match="Năm sinh"):
        check_matches(info, birth_year=1986, female=True)
    with pytest.raises(CccdError, match="Giới tính"):
        check_matches(info, birth_year=1985, female=False)
