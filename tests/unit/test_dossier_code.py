"""Circular 01/2018/TT-VPCP Art. 19: V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX."""

import itertools
from datetime import date, datetime, timezone

import pytest

from app.domain.clock import VN_TZ
from app.domain.dossier_code import DossierCode, make_code, parse_code


def test_the_worked_example_of_the_reference():
    code = parse_code("000.00.64.H10-230515-0011")
    assert code == DossierCode("000.00.64.H10", date(2023, 5, 15), 11)
    assert str(code) == "000.00.64.H10-230515-0011"


def test_the_date_is_the_day_of_reception_in_vietnam_time():
    late_evening_utc = datetime(2021, 3, 15, 18, 30, tzinfo=timezone.utc)  # 01:30 on 16/3 in Hà Nội
    assert str(make_code("000.01.60.H63", late_evening_utc, 7)) == "000.01.60.H63-210316-0007"


def test_four_digit_sequence_per_day():
    with pytest.raises(ValueError):
        make_code("000.01.60.H63", datetime(2021, 3, 15, tzinfo=VN_TZ), 10000)


@pytest.mark.parametrize(
    "text", ["000.01.60.H63-210230-0001", "000.01.60-210315-0001", "000.01.60.H63-210315-01", ""]
)
def test_malformed_codes_are_not_codes(text):
    assert parse_code(text) is None


def test_the_day_is_read_as_strptime_would():
    # parse_code reads YYMMDD by hand (strptime was a tenth of a look-up): every two-digit
    # year, month 00-13 and day 00-32 gives strptime's date, or no code where it refuses.
    for yy, mm, dd in itertools.product(range(100), range(14), range(33)):
        digits = f"{yy:02d}{mm:02d}{dd:02d}"
        try:
            expected = datetime.strptime(digits, "%y%m%d").date()
        except ValueError:
            expected = None
        parsed = parse_code(f"000.00.61.H63-{digits}-0002")
        assert (parsed.day if parsed else None) == expected, digits
