"""Property tests for the standard's field types (digest §2.1, §10.3)."""

from __future__ import annotations

import base64
import string
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError, create_model

from openmydata.standard.types import (
    AH,
    AN,
    B64,
    DATE,
    DATE_OR_DTIME,
    DTIME,
    MONTH,
    A,
    Bool,
    F,
    N,
    StandardModel,
    a,
    aN,
    aNS,
    format_decimal,
)

HANGUL = "".join(chr(code) for code in range(0xAC00, 0xAC00 + 200))
PRINTABLE = "".join(chr(code) for code in range(0x20, 0x7F))


@cache
def model_for(field_type: Any) -> type[StandardModel]:
    return create_model("Probe", __base__=StandardModel, value=(field_type, ...))


def accepts(field_type: Any, value: Any) -> bool:
    try:
        model_for(field_type).model_validate({"value": value})
    except ValidationError:
        return False
    return True


def round_trip(field_type: Any, value: Any) -> Any:
    """Validate, emit on the wire, validate the wire form again; both validated values must agree."""
    model = model_for(field_type)
    first = model.model_validate({"value": value})
    wire = first.to_wire()
    assert isinstance(wire["value"], str), "every value travels as a JSON string (§10.3)"
    second = model.model_validate(wire)
    assert second.value == first.value
    assert second.to_wire() == wire
    return wire["value"]


class TestTextTypes:
    @given(st.integers(1, 40), st.data())
    def test_an_accepts_digits_and_upper_case_up_to_length(self, length: int, data: st.DataObject) -> None:
        value = data.draw(st.text(string.digits + string.ascii_uppercase, max_size=length))
        assert round_trip(AN(length), value) == value

    @given(st.text(string.ascii_lowercase, min_size=1, max_size=5), st.text(string.digits, max_size=5))
    def test_an_rejects_lower_case(self, lower: str, digits: str) -> None:
        assert not accepts(AN(20), digits + lower)

    @given(st.integers(1, 30), st.data())
    def test_an_family_rejects_values_longer_than_length(self, length: int, data: st.DataObject) -> None:
        value = data.draw(st.text(string.digits, min_size=length + 1, max_size=length + 10))
        for factory in (AN, aN, aNS):
            assert not accepts(factory(length), value)

    @given(st.integers(1, 40), st.data())
    def test_an_lower_accepts_mixed_case_alphanumerics(self, length: int, data: st.DataObject) -> None:
        value = data.draw(st.text(string.ascii_letters + string.digits, max_size=length))
        assert round_trip(aN(length), value) == value

    @given(st.text(string.ascii_letters, max_size=3), st.sampled_from("-_ /.@가"))
    def test_an_lower_rejects_special_characters(self, prefix: str, special: str) -> None:
        assert not accepts(aN(10), prefix + special)

    @given(st.integers(1, 60), st.data())
    def test_ans_accepts_printable_ascii(self, length: int, data: st.DataObject) -> None:
        value = data.draw(st.text(PRINTABLE, max_size=length))
        assert round_trip(aNS(length), value) == value

    @given(st.text(PRINTABLE, max_size=5), st.sampled_from(["\n", "\t", "가", "é", "\x7f"]))
    def test_ans_rejects_non_printable_or_non_ascii(self, prefix: str, bad: str) -> None:
        assert not accepts(aNS(20), prefix + bad)

    @given(st.integers(1, 20), st.data())
    def test_letter_types(self, length: int, data: st.DataObject) -> None:
        upper = data.draw(st.text(string.ascii_uppercase, max_size=length))
        mixed = data.draw(st.text(string.ascii_letters, max_size=length))
        assert round_trip(A(length), upper) == upper
        assert round_trip(a(length), mixed) == mixed
        assert not accepts(A(length + 5), upper + "a")
        assert not accepts(a(length + 5), mixed + "1")
        assert not accepts(A(length), upper + "A" * (length + 1 - len(upper)))

    @given(st.text(HANGUL + string.ascii_letters + " ", max_size=40), st.integers(1, 90))
    def test_ah_counts_utf8_bytes(self, value: str, length: int) -> None:
        fits = len(value.encode("utf-8")) <= length
        assert accepts(AH(length), value) is fits
        if fits:
            assert round_trip(AH(length), value) == value

    def test_ah_30_holds_ten_hangul_characters(self) -> None:
        assert accepts(AH(30), "가" * 10)
        assert not accepts(AH(30), "가" * 11)
        assert accepts(AH(30), "a" * 30)

    @given(st.binary(max_size=60), st.booleans())
    def test_b64_accepts_standard_and_url_safe_base64(self, raw: bytes, url_safe: bool) -> None:
        encoded = (base64.urlsafe_b64encode(raw) if url_safe else base64.b64encode(raw)).decode("ascii")
        assert round_trip(B64(100), encoded) == encoded
        if encoded:
            assert not accepts(B64(len(encoded) - 1), encoded)

    @given(st.sampled_from(["a b", "ab$", "abc===", "가나", "ab=c"]))
    def test_b64_rejects_non_base64(self, value: str) -> None:
        assert not accepts(B64(100), value)


class TestNumberTypes:
    @given(st.integers(1, 12), st.data())
    def test_n_accepts_integers_of_at_most_n_digits_as_int_or_text(self, length: int, data: st.DataObject) -> None:
        value = data.draw(st.integers(0, 10**length - 1))
        assert round_trip(N(length), value) == str(value)
        assert round_trip(N(length), str(value)) == str(value)

    @given(st.integers(1, 12))
    def test_n_rejects_too_many_digits(self, length: int) -> None:
        assert not accepts(N(length), 10**length)
        assert not accepts(N(length), str(10**length))

    @given(st.sampled_from([-1, "-1", "1.5", "12a", "", " 1", True, False, "1e3"]))
    def test_n_rejects_non_numbers(self, value: Any) -> None:
        assert not accepts(N(5), value)

    @given(st.integers(2, 20), st.data())
    def test_f_accepts_values_within_precision_and_scale(self, precision: int, data: st.DataObject) -> None:
        scale = data.draw(st.integers(0, precision - 1))
        integer = data.draw(st.integers(0, 10 ** (precision - scale) - 1))
        fraction = data.draw(st.integers(0, 10**scale - 1)) if scale else 0
        negative = data.draw(st.booleans())
        value = Decimal(integer) + Decimal(fraction).scaleb(-scale)
        value = -value if negative else value
        wire = round_trip(F(precision, scale), str(value))
        assert Decimal(wire) == value
        assert round_trip(F(precision, scale), wire) == wire

    @given(st.integers(2, 20), st.data())
    def test_f_rejects_too_many_integer_digits(self, precision: int, data: st.DataObject) -> None:
        scale = data.draw(st.integers(0, precision - 1))
        too_big = 10 ** (precision - scale)
        assert not accepts(F(precision, scale), too_big)
        assert not accepts(F(precision, scale), str(too_big))

    @given(st.integers(2, 20), st.data())
    def test_f_rejects_too_many_fraction_digits(self, precision: int, data: st.DataObject) -> None:
        scale = data.draw(st.integers(0, precision - 1))
        value = Decimal(1).scaleb(-(scale + 1))
        assert not accepts(F(precision, scale), str(value))

    def test_f_18_3_bounds(self) -> None:
        assert accepts(F(18, 3), "999999999999999.999")
        assert not accepts(F(18, 3), "1000000000000000")
        assert not accepts(F(18, 3), "0.0001")
        assert accepts(F(5, 3), "99.999")
        assert not accepts(F(5, 3), "100")
        assert accepts(F(18, 3), 2.31)
        assert accepts(F(18, 3), "1.5000")  # trailing zeros are not significant

    @given(st.sampled_from(["abc", "NaN", "Infinity", "-inf", "", True]))
    def test_f_rejects_non_numbers(self, value: Any) -> None:
        assert not accepts(F(18, 3), value)

    @given(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9))
    def test_format_decimal_has_no_exponent_or_trailing_zeros(self, value: Decimal) -> None:
        text = format_decimal(value)
        assert "E" not in text
        assert "e" not in text
        assert Decimal(text) == value
        if "." in text:
            assert not text.endswith("0")


class TestBool:
    @given(st.sampled_from([True, "true", "TRUE", "Y", "y", " true "]))
    def test_true_values(self, value: Any) -> None:
        assert round_trip(Bool, value) == "true"

    @given(st.sampled_from([False, "false", "False", "N", "n"]))
    def test_false_values(self, value: Any) -> None:
        assert round_trip(Bool, value) == "false"

    @given(st.sampled_from(["yes", "1x", "", "t"]))
    def test_rejects_other_text(self, value: str) -> None:
        assert not accepts(Bool, value)


class TestDates:
    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
    def test_date_round_trip(self, day: date) -> None:
        text = day.strftime("%Y%m%d")
        assert round_trip(DATE, text) == text
        assert round_trip(DATE_OR_DTIME, text) == text
        assert round_trip(MONTH, text[:6]) == text[:6]

    @given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)))
    def test_dtime_round_trip(self, moment: datetime) -> None:
        text = moment.strftime("%Y%m%d%H%M%S")
        assert round_trip(DTIME, text) == text
        assert round_trip(DATE_OR_DTIME, text) == text
        assert not accepts(DATE, text)

    @pytest.mark.parametrize("value", ["20230230", "20231301", "2023010", "202301011", "2023-01-01", "abcdefgh"])
    def test_date_rejects_invalid(self, value: str) -> None:
        assert not accepts(DATE, value)

    @pytest.mark.parametrize("value", ["20230101246000", "20230101", "2023010112000", "20230101120060"])
    def test_dtime_rejects_invalid(self, value: str) -> None:
        assert not accepts(DTIME, value)

    @pytest.mark.parametrize("value", ["202313", "202300", "20230", "2023011"])
    def test_month_rejects_invalid(self, value: str) -> None:
        assert not accepts(MONTH, value)

    @given(st.text(string.digits, min_size=0, max_size=16))
    def test_date_or_dtime_accepts_only_8_or_14_digits(self, value: str) -> None:
        assume(len(value) not in (8, 14))
        assert not accepts(DATE_OR_DTIME, value)

    @pytest.mark.parametrize("value", ["20230230", "20230101250000", "2023010a"])
    def test_date_or_dtime_rejects_impossible_values(self, value: str) -> None:
        assert not accepts(DATE_OR_DTIME, value)


class TestStandardModel:
    def test_to_wire_omits_unset_optionals(self) -> None:
        model = create_model("Optionals", __base__=StandardModel, required=(aN(5), ...), optional=(aN(5) | None, None))
        assert model(required="A1").to_wire() == {"required": "A1"}
        assert model(required="A1", optional="B").to_wire() == {"required": "A1", "optional": "B"}

    def test_unknown_fields_are_ignored(self) -> None:
        model = model_for(aN(5))
        assert model.model_validate({"value": "x", "extra": "y"}).to_wire() == {"value": "x"}
