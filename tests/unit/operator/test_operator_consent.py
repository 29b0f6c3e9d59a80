"""Consent (전송요구) composition: scopes from the catalogue, duration within one year, unique nonces."""

from __future__ import annotations

from datetime import datetime

import pytest
from operator_fakes import BANK, CA, OPERATOR

from openmydata.kit.clock import KST, parse_dtime
from openmydata.operator.personal import Identity
from openmydata.operator.service import (
    ProviderChoice,
    compose_consents,
    normalise_applicant,
    sign_request_body,
)
from openmydata.operator.settings import OperatorSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.codes import StandardError
from openmydata.standard.consent import decode_signed_content, encode_signed_content
from openmydata.standard.formats import parse_tx_id

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=KST)
SETTINGS = OperatorSettings(org_code=OPERATOR, ca_code=CA, session_secret="x")
CHOICES = [
    ProviderChoice(BANK, "가나은행", ("bank",), "http://bank.test"),
    ProviderChoice("CARD000001", "가나카드", ("card",), "http://card.test"),
    ProviderChoice("TELCO00001", "가나통신", ("telecom",), "http://telco.test", relay_org_code="RELAY00001"),
    ProviderChoice("GROUP00001", "가나금융", ("bank", "card"), "http://group.test"),
]


class TestComposeConsents:
    def test_scopes_are_every_scope_of_the_industry(self) -> None:
        prepared = compose_consents(CHOICES, settings=SETTINGS, now=NOW)
        by_org = {item.org_code: item.consent for item in prepared}
        assert by_org[BANK].scopes == CATALOGUE.scopes("bank")
        assert by_org["CARD000001"].scopes == CATALOGUE.scopes("card")
        assert by_org["TELCO00001"].scopes == CATALOGUE.scopes("telecom")
        assert by_org["GROUP00001"].scopes == CATALOGUE.scopes("bank") + CATALOGUE.scopes("card")
        for consent in by_org.values():
            assert all(target.asset_list[0].asset == "all_asset" for target in consent.target_info)
            assert consent.cycle.fnd_cycle == "1/w"
            assert consent.cycle.add_cycle == "1/w"
            assert consent.snd_org_code != consent.rcv_org_code == OPERATOR
            assert consent.purpose == SETTINGS.purpose

    def test_duration_is_at_most_one_year(self) -> None:
        for item in compose_consents(CHOICES, settings=SETTINGS, now=NOW):
            item.consent.validate_duration(NOW)
            assert (parse_dtime(item.consent.end_date) - NOW).days == 365

    def test_shorter_duration_from_settings(self) -> None:
        settings = OperatorSettings(org_code=OPERATOR, ca_code=CA, session_secret="x", consent_days=90)
        [item] = compose_consents(CHOICES[:1], settings=settings, now=NOW)
        assert (parse_dtime(item.consent.end_date) - NOW).days == 90

    def test_consent_days_above_a_year_are_refused(self) -> None:
        with pytest.raises(ValueError, match="365"):
            OperatorSettings(consent_days=400)

    def test_nonces_and_tx_ids_are_unique_and_well_formed(self) -> None:
        prepared = compose_consents(CHOICES, settings=SETTINGS, now=NOW) + compose_consents(
            CHOICES, settings=SETTINGS, now=NOW
        )
        assert len({item.nonce for item in prepared}) == len(prepared)
        assert len({item.tx_id for item in prepared}) == len(prepared)
        for item in prepared:
            assert len(item.nonce) == 22  # 16 random bytes, URL-safe Base64 without padding
            parsed = parse_tx_id(item.tx_id)
            assert parsed is not None
            operator, provider, relay, ca, moment, _ = parsed
            assert (operator, provider, ca, moment) == (OPERATOR, item.org_code, CA, "20261122100000")
            assert relay == ("RELAY00001" if item.org_code == "TELCO00001" else item.org_code)

    def test_sensitive_flags_off_unless_ticked(self) -> None:
        [plain] = compose_consents(CHOICES[:1], settings=SETTINGS, now=NOW)
        assert plain.consent.sensitive_flags() == {
            "is_consent_trans_memo": False,
            "is_consent_merchant_name_regno": False,
            "is_consent_trans_category": False,
        }
        [ticked] = compose_consents(CHOICES[:1], settings=SETTINGS, now=NOW, flags={"is_consent_trans_memo": True})
        assert ticked.consent.is_consent_trans_memo is True
        assert ticked.consent.is_consent_merchant_name_regno is False

    def test_provider_without_information_apis_is_refused(self) -> None:
        with pytest.raises(StandardError):
            compose_consents([ProviderChoice("X000000001", "X", ("support",), "http://x")], settings=SETTINGS, now=NOW)


class TestSignRequestBody:
    def test_carries_every_consent_as_the_exact_signed_text(self) -> None:
        prepared = compose_consents(CHOICES, settings=SETTINGS, now=NOW)
        person = Identity(ci="CI", name="김철수", birth_date="19900101", phone="01012345678")
        body = sign_request_body(person, prepared, sign_tx_id="S" * 49, title="전송요구")
        assert body["consent_cnt"] == len(prepared) == len(body["consent_list"])
        assert body["consent_type"] == "0"
        for item, entry in zip(prepared, body["consent_list"], strict=True):
            assert entry["tx_id"] == item.tx_id
            assert entry["consent"] == encode_signed_content(item.consent, item.nonce).decode()
            assert entry["consent_len"] == len(entry["consent"].encode("utf-8"))
            signed = decode_signed_content(entry["consent"].encode("utf-8"))
            assert signed.consentNonce == item.nonce
            assert signed.consent == item.consent


class TestNormaliseApplicant:
    def test_accepts_common_spellings(self) -> None:
        applicant = normalise_applicant("  김  철수 ", "1990-01-01", "010-1234-5678")
        assert (applicant.name, applicant.birth_date, applicant.phone) == ("김 철수", "19900101", "01012345678")
        assert normalise_applicant("김철수", "19900101", "+821012345678").phone == "01012345678"

    @pytest.mark.parametrize(
        ("name", "birth_date", "phone"),
        [
            ("", "19900101", "01012345678"),
            ("김철수", "19901301", "01012345678"),
            ("김철수", "1990", "01012345678"),
            ("김철수", "29990101", "01012345678"),
            ("김철수", "19900101", "12345"),
        ],
    )
    def test_refuses_mistakes_with_40001(self, name: str, birth_date: str, phone: str) -> None:
        with pytest.raises(StandardError) as caught:
            normalise_applicant(name, birth_date, phone)
        assert caught.value.rsp_code == "40001"
