"""x-api-tran-id (digest §2.3, §10.5) and tx_id (§3.3)."""

from __future__ import annotations

import string
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openmydata.kit.clock import KST
from openmydata.standard.formats import (
    TRAN_ID_RE,
    Party,
    is_valid_tran_id,
    new_tran_id,
    new_tx_id,
    parse_tx_id,
)

ALNUM = string.ascii_letters + string.digits
org_codes = st.text(ALNUM, min_size=10, max_size=10)
upper_org_codes = st.text(string.ascii_uppercase + string.digits, min_size=10, max_size=10)
parties = st.sampled_from(list(Party))


class TestTranId:
    @given(org_codes, parties)
    def test_new_tran_id_is_25_upper_case_characters_naming_org_and_party(self, org: str, party: Party) -> None:
        tran_id = new_tran_id(org, party)
        assert len(tran_id) == 25
        assert TRAN_ID_RE.fullmatch(tran_id)
        assert is_valid_tran_id(tran_id)
        assert tran_id[:10] == org.upper()
        assert tran_id[10] == party.value

    def test_new_tran_ids_differ(self) -> None:
        assert len({new_tran_id("ORG0000001", Party.OPERATOR) for _ in range(200)}) == 200

    @given(st.text(ALNUM, max_size=9) | st.text(ALNUM, min_size=11, max_size=14) | st.just("ORG00-0001"))
    def test_new_tran_id_needs_a_10_character_org_code(self, org: str) -> None:
        with pytest.raises(ValueError, match="org_code"):
            new_tran_id(org, Party.PROVIDER)

    @given(upper_org_codes, parties, st.integers(0, 13), st.sampled_from(string.ascii_lowercase))
    def test_rejects_lower_case(self, org: str, party: Party, position: int, letter: str) -> None:
        tran_id = new_tran_id(org, party)
        index = 11 + position
        assert not is_valid_tran_id(tran_id[:index] + letter + tran_id[index + 1 :])

    @given(upper_org_codes, parties, st.integers(1, 5))
    def test_rejects_wrong_length(self, org: str, party: Party, cut: int) -> None:
        tran_id = new_tran_id(org, party)
        assert not is_valid_tran_id(tran_id[:-cut])
        assert not is_valid_tran_id(tran_id + "A" * cut)

    @given(
        upper_org_codes, parties, st.sampled_from(sorted(set(string.ascii_uppercase + string.digits) - set("MSRCPA")))
    )
    def test_rejects_unknown_party(self, org: str, party: Party, letter: str) -> None:
        tran_id = new_tran_id(org, party)
        assert not is_valid_tran_id(tran_id[:10] + letter + tran_id[11:])

    @pytest.mark.parametrize("value", [None, "", " " * 25])
    def test_rejects_empty(self, value: str | None) -> None:
        assert not is_valid_tran_id(value)


class TestTxId:
    @given(
        org_codes,
        org_codes,
        org_codes,
        st.none() | org_codes,
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    )
    def test_new_tx_id_is_74_characters_and_parses_back(
        self, operator: str, provider: str, ca: str, relay: str | None, moment: datetime
    ) -> None:
        at = moment.replace(tzinfo=KST)
        tx_id = new_tx_id(operator, provider, ca, relay, at=at)
        assert len(tx_id) == 74
        parsed = parse_tx_id(tx_id)
        assert parsed is not None
        assert parsed[:5] == (operator, provider, relay or provider, ca, at.strftime("%Y%m%d%H%M%S"))
        assert len(parsed[5]) == 12

    def test_new_tx_id_rejects_bad_org_codes(self) -> None:
        with pytest.raises(ValueError, match="org codes"):
            new_tx_id("SHORT", "ORG0000002", "CA00000001")

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "MD_ORG0000001_ORG0000002_ORG0000002_CA00000001_20240101120000",
            "XX_ORG0000001_ORG0000002_ORG0000002_CA00000001_20240101120000_ABCDEFGHIJKL",
            "MD_ORG0000001_ORG0000002_ORG0000002_CA00000001_2024010112000_ABCDEFGHIJKLM",
            "MD_ORG000001_ORG0000002_ORG0000002_CA00000001_20240101120000_ABCDEFGHIJKL",
        ],
    )
    def test_parse_rejects_malformed(self, value: str) -> None:
        assert parse_tx_id(value) is None
