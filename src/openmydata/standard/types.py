"""Field types of the standard (spec 첨부2, digest §2.1 and §10.3) as validating annotated types.

- `AN(n)` digits and upper-case letters; `aN(n)` digits and letters; `aNS(n)` printable ASCII;
  `AH(n)` any text whose UTF-8 encoding is at most n bytes (Hangul = 3 bytes); `A(n)` / `a(n)` letters only.
- `N(n)` a non-negative integer of at most n digits; `F(p, s)` a Decimal of at most p digits, s after the point.
- `DATE` YYYYMMDD, `DTIME` YYYYMMDDhhmmss, `MONTH` YYYYMM, `DATE_OR_DTIME`; `B64(n)` Base64 text.
- Every value travels as a JSON string (§10.3); numbers and Booleans are accepted either way on input and
  emitted as strings.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, PlainSerializer, StringConstraints
from pydantic import BaseModel as _PydanticBase


class StandardModel(_PydanticBase):
    """Base of every request and response model of the standard."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=False)

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict; optional fields without a value are omitted, never null (digest §2.1)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


def _byte_length_at_most(limit: int) -> Any:
    def check(value: str) -> str:
        if len(value.encode("utf-8")) > limit:
            raise ValueError(f"longer than {limit} bytes")
        return value

    return AfterValidator(check)


def _pattern_type(pattern: str, length: int, *, exact: bool = False) -> Any:
    return Annotated[
        str,
        StringConstraints(pattern=pattern, max_length=length, min_length=length if exact else 0),
    ]


@cache
def AN(length: int) -> Any:
    return _pattern_type(r"^[0-9A-Z]*$", length)


@cache
def aN(length: int) -> Any:
    return _pattern_type(r"^[0-9A-Za-z]*$", length)


@cache
def aNS(length: int) -> Any:
    return _pattern_type(r"^[\x20-\x7e]*$", length)


@cache
def A(length: int) -> Any:
    return _pattern_type(r"^[A-Z]*$", length)


@cache
def a(length: int) -> Any:
    return _pattern_type(r"^[A-Za-z]*$", length)


@cache
def AH(length: int) -> Any:
    return Annotated[str, _byte_length_at_most(length)]


@cache
def B64(length: int) -> Any:
    return _pattern_type(r"^[A-Za-z0-9+/_\-]*={0,2}$", length)


def _coerce_int_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]+", value):
            raise ValueError("not a non-negative integer")
        return int(value)
    return value


@cache
def N(length: int) -> Any:
    def check(value: int) -> int:
        if value < 0 or len(str(value)) > length:
            raise ValueError(f"not a non-negative integer of at most {length} digits")
        return value

    return Annotated[
        int,
        BeforeValidator(_coerce_int_text),
        AfterValidator(check),
        PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
    ]


def _coerce_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("not a decimal number") from exc
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise ValueError("not a decimal number")
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def format_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


@cache
def F(precision: int, scale: int) -> Any:
    def check(value: Decimal) -> Decimal:
        _sign, digits, exponent = value.normalize().as_tuple()
        assert isinstance(exponent, int)
        fraction_digits = max(0, -exponent)
        integer_digits = max(0, len(digits) + exponent) if digits != (0,) else 0
        if fraction_digits > scale:
            raise ValueError(f"more than {scale} digits after the point")
        if integer_digits > precision - scale:
            raise ValueError(f"more than {precision - scale} digits before the point")
        return value

    return Annotated[
        Decimal,
        BeforeValidator(_coerce_decimal),
        AfterValidator(check),
        PlainSerializer(format_decimal, return_type=str, when_used="json"),
    ]


def _coerce_bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "y"}:
            return True
        if lowered in {"false", "n"}:
            return False
        raise ValueError("not a Boolean")
    return value


Bool = Annotated[
    bool,
    BeforeValidator(_coerce_bool),
    PlainSerializer(lambda v: "true" if v else "false", return_type=str, when_used="json"),
]


def is_calendar_digits(value: str) -> bool:
    """True for a real calendar YYYYMM, YYYYMMDD or YYYYMMDDhhmmss (cheaper than strptime on hot paths)."""
    if not (value.isascii() and value.isdigit()):
        return False
    try:
        if len(value) == 6:
            datetime(int(value[:4]), int(value[4:6]), 1)
        elif len(value) == 8:
            datetime(int(value[:4]), int(value[4:6]), int(value[6:8]))
        elif len(value) == 14:
            datetime(
                int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]), int(value[12:14])
            )
        else:
            return False
    except ValueError:
        return False
    return True


def _datetime_check(length: int, name: str) -> Any:
    def check(value: str) -> str:
        if len(value) != length or not is_calendar_digits(value):
            raise ValueError(f"not a valid {name}")
        return value

    return AfterValidator(check)


DATE = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$"), _datetime_check(8, "DATE (YYYYMMDD)")]
DTIME = Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$"), _datetime_check(14, "DTIME (YYYYMMDDhhmmss)")]
MONTH = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$"), _datetime_check(6, "month (YYYYMM)")]


def _date_or_dtime(value: str) -> str:
    if len(value) not in (8, 14) or not is_calendar_digits(value):
        raise ValueError("not a valid DATE or DTIME")
    return value


DATE_OR_DTIME = Annotated[str, AfterValidator(_date_or_dtime)]
DAY = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|[12][0-9]|3[01])$")]
