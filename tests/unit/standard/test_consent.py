"""The consent model and the signed content (digest §3.3, §4)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from openmydata.kit.clock import KST, to_dtime
from openmydata.standard.consent import (
    ALL_ASSETS,
    ConsentAsset,
    SignedConsentContent,
    TargetInfo,
    TransmissionCycle,
    TransmissionRequest,
    decode_signed_content,
    encode_signed_content,
)

SIGNED_AT = datetime(2024, 3, 1, 9, 0, 0, tzinfo=KST)
HANGUL = "".join(chr(code) for code in range(0xAC00, 0xAC00 + 100))


def consent(end: datetime | None = None, **changes: object) -> TransmissionRequest:
    values: dict[str, object] = {
        "snd_org_code": "BANK000001",
        "rcv_org_code": "OPER000001",
        "end_date": to_dtime(end or SIGNED_AT + timedelta(days=180)),
        "purpose": "자산 관리",
        "holding_period": to_dtime(SIGNED_AT + timedelta(days=365)),
        "target_info": [
            {"scope": "bank.list"},
            {"scope": "bank.deposit", "asset_list": [{"asset": "1002001234"}, {"asset": "1002005678"}]},
        ],
    }
    values.update(changes)
    return TransmissionRequest.model_validate(values)


class TestSignedContent:
    @given(
        st.text(HANGUL + "abc ", min_size=1, max_size=100),
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=64),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.lists(st.text("0123456789", min_size=1, max_size=20), max_size=5),
    )
    def test_round_trip(
        self, purpose: str, nonce: str, memo: bool, merchant: bool, category: bool, assets: list[str]
    ) -> None:
        original = consent(
            purpose=purpose,
            is_consent_trans_memo=memo,
            is_consent_merchant_name_regno=merchant,
            is_consent_trans_category=category,
            target_info=[
                {"scope": "card.card", "asset_list": [{"asset": a} for a in assets] or [{"asset": ALL_ASSETS}]}
            ],
        )
        data = encode_signed_content(original, nonce)
        decoded = decode_signed_content(data)
        assert decoded.consent == original
        assert decoded.consentNonce == nonce
        assert decoded.to_bytes() == data

    def test_encoding_is_compact_sorted_utf8_json(self) -> None:
        data = encode_signed_content(consent(), "nonce1")
        text = data.decode("utf-8")
        assert "자산 관리" in text  # not \\u-escaped
        assert ", " not in text
        assert ": " not in text
        parsed = json.loads(text)
        assert list(parsed) == ["consent", "consentNonce"]
        assert list(parsed["consent"]) == sorted(parsed["consent"])
        assert parsed["consent"]["is_scheduled"] == "true"
        assert parsed["consent"]["cycle"] == {"add_cycle": "1/w", "fnd_cycle": "1/w"}

    def test_signed_content_model_to_bytes(self) -> None:
        content = SignedConsentContent(consent=consent(), consentNonce="abc")
        assert content.to_bytes() == encode_signed_content(content.consent, "abc")

    @pytest.mark.parametrize("data", [b"", b"{}", b'{"consent": {}, "consentNonce": "x"}', b"\xff"])
    def test_decode_rejects_malformed(self, data: bytes) -> None:
        with pytest.raises(ValidationError):
            decode_signed_content(data)


class TestDuration:
    @given(st.integers(1, 366 * 24 * 3600))
    def test_up_to_one_year_is_accepted(self, seconds: int) -> None:
        consent(end=SIGNED_AT + timedelta(seconds=seconds)).validate_duration(SIGNED_AT)

    @given(st.integers(366 * 24 * 3600 + 1, 3 * 366 * 24 * 3600))
    def test_longer_than_a_year_is_refused(self, seconds: int) -> None:
        with pytest.raises(ValueError, match="longer than one year"):
            consent(end=SIGNED_AT + timedelta(seconds=seconds)).validate_duration(SIGNED_AT)

    @given(st.integers(0, 10 * 366 * 24 * 3600))
    def test_end_in_the_past_is_refused(self, seconds: int) -> None:
        with pytest.raises(ValueError, match="past"):
            consent(end=SIGNED_AT - timedelta(seconds=seconds)).validate_duration(SIGNED_AT)

    def test_end_property_is_kst(self) -> None:
        assert consent(end=SIGNED_AT + timedelta(days=1)).end == SIGNED_AT + timedelta(days=1)


class TestCovers:
    def test_scope_without_asset(self) -> None:
        request = consent()
        assert request.covers("bank.list", None)
        assert request.covers("bank.deposit", None)
        assert not request.covers("bank.loan", None)

    def test_listed_assets_only(self) -> None:
        request = consent()
        assert request.covers("bank.deposit", "1002001234")
        assert not request.covers("bank.deposit", "9999")
        assert not request.covers("bank.loan", "1002001234")

    @given(st.text(min_size=1, max_size=30))
    def test_all_asset_covers_every_asset(self, asset: str) -> None:
        assert consent().covers("bank.list", asset)
        assert TargetInfo(scope="x.y").covers(asset)
        assert TargetInfo(scope="x.y", asset_list=[ConsentAsset(asset=ALL_ASSETS)]).covers(asset)

    def test_scopes_and_flags(self) -> None:
        request = consent(is_consent_trans_memo=True)
        assert request.scopes == ["bank.list", "bank.deposit"]
        assert request.sensitive_flags() == {
            "is_consent_trans_memo": True,
            "is_consent_merchant_name_regno": False,
            "is_consent_trans_category": False,
        }


class TestValidation:
    def test_target_info_must_not_be_empty(self) -> None:
        with pytest.raises(ValidationError):
            consent(target_info=[])

    @pytest.mark.parametrize("cycle", ["1/w", "4/m", "1/d", "999/w"])
    def test_cycle_accepts(self, cycle: str) -> None:
        assert TransmissionCycle(fnd_cycle=cycle, add_cycle=cycle).fnd_cycle == cycle

    @pytest.mark.parametrize("cycle", ["0/w", "1/y", "1w", "1000/w", ""])
    def test_cycle_rejects(self, cycle: str) -> None:
        with pytest.raises(ValidationError):
            TransmissionCycle(fnd_cycle=cycle)

    def test_end_date_must_be_dtime(self) -> None:
        with pytest.raises(ValidationError):
            consent(end_date="20240101")
