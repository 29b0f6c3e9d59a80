"""Cursor paging (digest §2.4) and search_timestamp (§2.5)."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openmydata.kit.clock import to_dtime
from openmydata.standard.paging import BadCursor, decode_cursor, encode_cursor, is_up_to_date, search_timestamp_for

KEY = b"k" * 32
positions = st.dictionaries(
    st.text(min_size=1, max_size=10),
    st.integers(-(10**12), 10**12) | st.text(max_size=30) | st.booleans() | st.none(),
    max_size=5,
)
bindings = st.text(max_size=40)


class TestCursor:
    @given(positions, bindings)
    def test_round_trip(self, position: dict[str, Any], binding: str) -> None:
        cursor = encode_cursor(position, key=KEY, binding=binding)
        assert decode_cursor(cursor, key=KEY, binding=binding) == position

    @given(positions, bindings)
    def test_cursor_is_url_safe_and_fits_next_page(self, position: dict[str, Any], binding: str) -> None:
        cursor = encode_cursor(position, key=KEY, binding=binding)
        assert all(ch.isalnum() or ch in "-_" for ch in cursor)

    @given(positions, bindings, bindings)
    def test_other_binding_is_refused(self, position: dict[str, Any], binding: str, other: str) -> None:
        if other == binding:
            other += "x"
        cursor = encode_cursor(position, key=KEY, binding=binding)
        with pytest.raises(BadCursor):
            decode_cursor(cursor, key=KEY, binding=other)

    @given(positions, bindings)
    def test_other_key_is_refused(self, position: dict[str, Any], binding: str) -> None:
        cursor = encode_cursor(position, key=KEY, binding=binding)
        with pytest.raises(BadCursor):
            decode_cursor(cursor, key=b"other-key", binding=binding)

    @given(positions, bindings, st.data())
    def test_tampered_cursor_is_refused(self, position: dict[str, Any], binding: str, data: st.DataObject) -> None:
        cursor = encode_cursor(position, key=KEY, binding=binding)
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] ^= data.draw(st.integers(1, 255))
        tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii")
        with pytest.raises(BadCursor):
            decode_cursor(tampered, key=KEY, binding=binding)

    @given(st.text(max_size=60))
    def test_garbage_raises_only_bad_cursor(self, garbage: str) -> None:
        with contextlib.suppress(BadCursor):
            decode_cursor(garbage, key=KEY, binding="b")

    def test_a_signed_non_object_is_refused(self) -> None:
        import hashlib
        import hmac

        body = b"[1,2]"
        tag = hmac.new(KEY, b"b\x00" + body, hashlib.sha256).digest()[:12]
        cursor = base64.urlsafe_b64encode(tag + body).rstrip(b"=").decode("ascii")
        with pytest.raises(BadCursor):
            decode_cursor(cursor, key=KEY, binding="b")


class TestSearchTimestamp:
    moment = datetime(2024, 3, 1, 3, 0, 0, tzinfo=UTC)

    def test_search_timestamp_is_dtime_in_kst(self) -> None:
        assert search_timestamp_for(self.moment) == "20240301120000"

    @pytest.mark.parametrize("requested", [None, "", "0"])
    def test_first_call_is_never_up_to_date(self, requested: str | None) -> None:
        assert not is_up_to_date(requested, self.moment)

    def test_no_data_is_never_up_to_date(self) -> None:
        assert not is_up_to_date("20991231000000", None)

    def test_later_timestamp_is_up_to_date(self) -> None:
        assert is_up_to_date(to_dtime(self.moment + timedelta(seconds=1)), self.moment)

    def test_same_second_is_not_up_to_date(self) -> None:
        assert not is_up_to_date(to_dtime(self.moment), self.moment)

    @given(st.integers(-(10**7), 10**7))
    def test_up_to_date_exactly_when_timestamp_is_later(self, offset: int) -> None:
        requested = to_dtime(self.moment + timedelta(seconds=offset))
        assert is_up_to_date(requested, self.moment) is (offset > 0)
