"""OWASP API4/API8 and injection: oversized, malformed and hostile inputs in bodies, queries, paths and
headers. A client's mistake is never a 500 and never yields data it should not."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from openmydata.kit.clock import to_date, today_kst
from openmydata.kit.ids import urlsafe_nonce
from openmydata.standard.consent import TargetInfo
from tests.security.attacks import attack
from tests.security.conftest import (
    A_CARD,
    A_DEPOSIT,
    A_MGMT,
    ALICE,
    BOB_MARK,
    CLIENT_ID,
    CLIENT_SECRET,
    PROVIDER,
    Harness,
    days_range,
    months_ago,
)
from tests.security.helpers import info_headers, leaks, oauth, rsp, tran_id

BAD_PARAMETER = (400, "40001")
BAD_HEADER = (400, "40002")
DEPOSIT_BASIC = "/v1/bank/accounts/deposit/basic"

SQLI = [
    "' OR '1'='1",
    "1' OR 1=1 --",
    '" OR ""="',
    "1; DROP TABLE records; --",
    "' UNION SELECT ci, name FROM customers --",
    "'); DELETE FROM consents; --",
    "%' OR 1=1 --",
    "1' AND SLEEP(5) --",
    "0x27 OR pg_sleep(5)--",
    "\\'; SELECT 1; --",
]


async def _token(harness: Harness, **kwargs: Any) -> str:
    token: str = (await harness.grant(**kwargs))["access_token"]
    return token


def _transactions(**fields: str) -> dict[str, str]:
    return {"account_num": A_DEPOSIT, **days_range(90), **fields}


async def _post_raw(harness: Harness, token: str, content: bytes, content_type: str | None) -> httpx.Response:
    headers = info_headers(token)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await harness.http.post(DEPOSIT_BASIC, content=content, headers=headers)


def _never_leaks(response: httpx.Response, allowed: set[tuple[int, str]]) -> None:
    assert response.status_code != 500, response.text
    assert rsp(response) in allowed, response.text
    assert leaks(response, BOB_MARK, "ALICE") == []


class TestSizes:
    @attack("input_limit_over_500")
    @pytest.mark.parametrize("limit", ["501", "999", "0", "1000", "-1", "1e3", "0x10", "10.5"])
    async def test_input_limit_over_500(self, target: Harness, limit: str) -> None:
        token = await _token(target)
        assert rsp(await target.call("은행-001", {"limit": limit}, token=token)) == BAD_PARAMETER
        assert rsp(await target.call("은행-004", _transactions(limit=limit), token=token)) == BAD_PARAMETER

    @attack("input_account_num_too_long")
    async def test_input_account_num_too_long(self, target: Harness) -> None:
        token = await _token(target)
        too_long = A_DEPOSIT + "0" * (21 - len(A_DEPOSIT))
        assert len(too_long) == 21
        assert rsp(await target.call("은행-002", {"account_num": too_long}, token=token)) == BAD_PARAMETER
        assert rsp(await target.call("은행-004", _transactions(account_num=too_long), token=token)) == BAD_PARAMETER

    @attack("input_next_page_too_long")
    async def test_input_next_page_too_long(self, target: Harness) -> None:
        token = await _token(target)
        cursor = "A" * 1001
        assert rsp(await target.call("은행-001", {"next_page": cursor}, token=token)) == BAD_PARAMETER
        assert rsp(await target.call("은행-004", _transactions(next_page=cursor), token=token)) == BAD_PARAMETER

    @attack("input_huge_json_body")
    async def test_input_huge_json_body(self, target: Harness) -> None:
        token = await _token(target)
        padded = {"org_code": PROVIDER, "account_num": A_DEPOSIT, "padding": "x" * 4_000_000}
        response = await _post_raw(target, token, json.dumps(padded).encode(), "application/json")
        assert rsp(response) == BAD_PARAMETER
        many_keys = {"org_code": PROVIDER, "account_num": A_DEPOSIT, **{f"k{i}": i for i in range(200_000)}}
        response = await _post_raw(target, token, json.dumps(many_keys).encode(), "application/json")
        assert rsp(response) == BAD_PARAMETER
        small = {"org_code": PROVIDER, "account_num": A_DEPOSIT, "padding": "x" * 1000}
        assert (await _post_raw(target, token, json.dumps(small).encode(), "application/json")).status_code == 200


class TestMalformed:
    @attack("input_malformed_json")
    @pytest.mark.parametrize(
        "content",
        [
            b"{",
            b"{'org_code': 'x'}",
            b"[1, 2]",
            b'"a string"',
            b"null",
            b"\xff\xfe{}",
            b'{"org_code": "BANK000001", "account_num": NaN}',
            b"[" * 50_000 + b"]" * 50_000,
            b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
        ],
        ids=["truncated", "single-quotes", "array", "string", "null", "bom-bytes", "nan", "deep-array", "deep-object"],
    )
    async def test_input_malformed_json(self, target: Harness, content: bytes) -> None:
        token = await _token(target)
        assert rsp(await _post_raw(target, token, content, "application/json")) == BAD_PARAMETER

    @attack("input_wrong_content_type")
    @pytest.mark.parametrize(
        "content_type",
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/xml"],
    )
    async def test_input_wrong_content_type(self, target: Harness, content_type: str) -> None:
        token = await _token(target)
        body = json.dumps({"org_code": PROVIDER, "account_num": A_DEPOSIT}).encode()
        assert (await _post_raw(target, token, body, "application/json; charset=utf-8")).status_code == 200
        assert rsp(await _post_raw(target, token, body, content_type)) == BAD_HEADER
        # The token endpoint takes application/x-www-form-urlencoded only (RFC 6749 §3.2).
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        as_json = await target.http.post(
            "/oauth/2.0/token", content=json.dumps(form), headers={"Content-Type": "application/json"}
        )
        assert oauth(as_json) == (400, "invalid_request")
        assert "access_token" not in as_json.json()

    @attack("input_non_ascii_in_an_fields")
    @pytest.mark.parametrize(
        "value", ["계좌11012345", "１１０１２３４５６７８", "11012345678\u200b", "ＡＢＣ", "1101234567８"]
    )
    async def test_input_non_ascii_in_an_fields(self, target: Harness, value: str) -> None:
        token = await _token(target)
        assert rsp(await target.call("은행-002", {"account_num": value}, token=token)) == BAD_PARAMETER
        assert rsp(await target.call("은행-002", {"account_num": A_DEPOSIT, "seqno": value}, token=token)) == (
            BAD_PARAMETER
        )

    @attack("input_impossible_dates")
    @pytest.mark.parametrize(
        "day", ["20260230", "20261301", "20260000", "20261132", "2026-11-01", "99999999", "２０２６１１０１"]
    )
    async def test_input_impossible_dates(self, target: Harness, day: str) -> None:
        token = await _token(
            target, consent=target.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="card.card")])
        )
        today = to_date(today_kst())
        for fields in ({"from_date": day, "to_date": today}, {"from_date": today, "to_date": day}):
            assert rsp(await target.call("은행-004", _transactions(**fields), token=token)) == BAD_PARAMETER
            card = await target.call("카드-008", {"card_id": A_CARD, **fields}, token=token)
            assert rsp(card) == BAD_PARAMETER

    @attack("input_range_reversed")
    async def test_input_range_reversed(self, target: Harness) -> None:
        token = await _token(
            target, consent=target.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="card.bill")])
        )
        today = today_kst()
        reversed_days = {"from_date": to_date(today), "to_date": to_date(today - timedelta(days=1))}
        assert rsp(await target.call("은행-004", _transactions(**reversed_days), token=token)) == BAD_PARAMETER
        reversed_months = {"from_month": months_ago(0), "to_month": months_ago(1)}
        assert rsp(await target.call("카드-004", reversed_months, token=token)) == BAD_PARAMETER

    @attack("input_range_over_twelve_months")
    async def test_input_range_over_twelve_months(self, target: Harness) -> None:
        token = await _token(
            target, consent=target.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="card.bill")])
        )
        assert (await target.call("은행-004", _transactions(**days_range(365)), token=token)).status_code == 200
        too_long = _transactions(**days_range(400))
        assert rsp(await target.call("은행-004", too_long, token=token)) == (400, "40004")
        months = {"from_month": months_ago(12), "to_month": months_ago(0)}
        assert rsp(await target.call("카드-004", months, token=token)) == (400, "40004")

    @attack("input_data_older_than_five_years")
    async def test_input_data_older_than_five_years(self, target: Harness) -> None:
        token = await _token(
            target, consent=target.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="card.bill")])
        )
        start = today_kst() - timedelta(days=5 * 366 + 10)
        old = {"from_date": to_date(start), "to_date": to_date(start + timedelta(days=20))}
        response = await target.call("은행-004", _transactions(**old), token=token, api_type="user-search")
        assert rsp(response) == (403, "40304")
        months = {"from_month": months_ago(62), "to_month": months_ago(60)}
        assert rsp(await target.call("카드-004", months, token=token, api_type="user-search")) == (403, "40304")

    @attack("input_foreign_org_code")
    async def test_input_foreign_org_code(self, target: Harness) -> None:
        token = await _token(target)
        for org_code in ("BANK000002", "bank000001", "BANK00000", "BANK0000011", ""):
            assert rsp(await target.call("은행-001", {"org_code": org_code}, token=token)) == BAD_PARAMETER, org_code
        apis = await target.http.get("/apis", params={"org_code": "BANK000002"}, headers={"x-api-tran-id": tran_id()})
        assert rsp(apis) == BAD_PARAMETER


class TestHeaders:
    @attack("header_tran_id_invalid")
    @pytest.mark.parametrize(
        "value",
        [
            None,
            "",
            "oper000001m12345678901234",
            "OPER000001M123456789012345",
            "OPER000001M1234567890123",
            "OPER000001X12345678901234",
        ],
        ids=["missing", "empty", "lower-case", "too-long", "too-short", "unknown-party"],
    )
    async def test_header_tran_id_invalid(self, target: Harness, value: str | None) -> None:
        token = await _token(target)
        headers = info_headers(token)
        if value is None:
            del headers["x-api-tran-id"]
        else:
            headers["x-api-tran-id"] = value
        response = await target.http.get("/v1/bank/accounts", params={"org_code": PROVIDER}, headers=headers)
        assert rsp(response) == BAD_HEADER

    @attack("header_api_type_invalid")
    @pytest.mark.parametrize("value", [None, "", "admin", "USER-CONSENT", "scheduled ", "user-consent,scheduled"])
    async def test_header_api_type_invalid(self, target: Harness, value: str | None) -> None:
        token = await _token(target)
        headers = info_headers(token)
        if value is None:
            del headers["x-api-type"]
        else:
            headers["x-api-type"] = value
        response = await target.http.get("/v1/bank/accounts", params={"org_code": PROVIDER}, headers=headers)
        assert rsp(response) == BAD_HEADER

    @attack("header_injection_tran_id")
    @pytest.mark.parametrize(
        "suffix", ["\r\nSet-Cookie: session=evil", "\nX-Injected: 1", "\r\n\r\n<html>", "\x00", "\x7f", "\t"]
    )
    async def test_header_injection_tran_id(self, target: Harness, suffix: str) -> None:
        token = await _token(target)
        injected = tran_id() + suffix
        headers = {**info_headers(token), "x-api-tran-id": injected}
        response = await target.http.get("/v1/bank/accounts", params={"org_code": PROVIDER}, headers=headers)
        assert rsp(response) == BAD_HEADER
        echoed = response.headers.get("x-api-tran-id", "")
        assert echoed
        assert echoed != injected
        assert not any(ch in echoed for ch in "\r\n\x00\x7f\t")
        assert "set-cookie" not in response.headers
        assert "x-injected" not in response.headers
        token_endpoint = await target.http.post("/oauth/2.0/token", data={}, headers={"x-api-tran-id": injected})
        assert token_endpoint.status_code == 400
        assert token_endpoint.headers.get("x-api-tran-id", "") != injected


class TestInjection:
    @attack("sqli_bank_accounts")
    @pytest.mark.parametrize("field", ["org_code", "next_page", "limit", "search_timestamp"])
    async def test_sqli_bank_accounts(self, target: Harness, field: str) -> None:
        token = await _token(target)
        for payload in SQLI:
            response = await target.call("은행-001", {field: payload}, token=token)
            _never_leaks(response, {BAD_PARAMETER})

    @attack("sqli_bank_transactions")
    @pytest.mark.parametrize(
        "field", ["org_code", "account_num", "seqno", "from_date", "to_date", "next_page", "limit"]
    )
    async def test_sqli_bank_transactions(self, target: Harness, field: str) -> None:
        token = await _token(target)
        for payload in SQLI:
            response = await target.call("은행-004", _transactions(**{field: payload}), token=token)
            _never_leaks(response, {BAD_PARAMETER})

    @attack("sqli_card_path_card_id")
    async def test_sqli_card_path_card_id(self, target: Harness) -> None:
        token = await _token(target, consent=target.consent([TargetInfo(scope="card.card")]))
        for payload in [*SQLI, f"{A_CARD}' OR '1'='1", f"{A_CARD}%", "%", "_" * len(A_CARD), "*"]:
            response = await target.call("카드-008", {"card_id": payload, **days_range(30)}, token=token)
            _never_leaks(response, {(404, "40402"), (404, "40401")})
            basic = await target.call("카드-002", {"card_id": payload}, token=token)
            _never_leaks(basic, {(404, "40402"), (404, "40401")})

    @attack("sqli_telecom_paid_transactions")
    @pytest.mark.parametrize("field", ["org_code", "mgmt_id", "from_date", "to_date", "next_page", "limit"])
    async def test_sqli_telecom_paid_transactions(self, target: Harness, field: str) -> None:
        token = await _token(target, consent=target.consent([TargetInfo(scope="telecom.mgmt")]))
        request = {"mgmt_id": A_MGMT, **days_range(30)}
        assert (await target.call("통신-004", request, token=token)).status_code == 200
        for payload in [*SQLI, "MGMT%", "%", "_" * len(A_MGMT)]:
            response = await target.call("통신-004", {**request, field: payload}, token=token)
            _never_leaks(response, {BAD_PARAMETER, (404, "40402")})

    @attack("sqli_token_endpoint")
    async def test_sqli_token_endpoint(self, target: Harness) -> None:
        tokens = await target.grant()
        expected = {
            "username": "invalid_request",
            "client_id": "invalid_request",
            "client_secret": "invalid_request",
            "tx_id": "invalid_request",
            "org_code": "invalid_request",
            "consent_nonce": "invalid_grant",  # well-formed text, but not the nonce that was signed
        }
        for payload in SQLI:
            for field, error in expected.items():
                form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
                response = await target.post_token({**form, field: payload})
                assert oauth(response) == (400, error), (field, payload)
            refresh = {
                "org_code": PROVIDER,
                "grant_type": "refresh_token",
                "refresh_token": payload,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
            assert oauth(await target.post_token(refresh)) == (400, "invalid_grant")
            revoke = {"org_code": PROVIDER, "token": payload, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
            assert rsp(await target.http.post("/oauth/2.0/revoke", data=revoke)) == (200, "99999")
        assert (await target.call("은행-001", {}, token=tokens["access_token"])).status_code == 200


class TestPropertyLevelAuthorisation:
    @attack("excessive_data_sensitive_fields")
    async def test_excessive_data_sensitive_fields(self, target: Harness) -> None:
        scopes = [TargetInfo(scope="bank.deposit"), TargetInfo(scope="card.card")]
        plain = await _token(target, consent=target.consent(scopes))
        transactions = await target.call("은행-004", _transactions(), token=plain)
        assert transactions.status_code == 200
        assert all("trans_memo" not in entry for entry in transactions.json()["trans_list"])
        approvals = await target.call("카드-008", {"card_id": A_CARD, **days_range(90)}, token=plain)
        assert approvals.status_code == 200
        assert all("merchant_name" not in entry for entry in approvals.json()["approved_list"])
        with_memo = await _token(target, consent=target.consent(scopes, trans_memo=True))
        shown = await target.call("은행-004", _transactions(), token=with_memo)
        assert all("trans_memo" in entry for entry in shown.json()["trans_list"])
