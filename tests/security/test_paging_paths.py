"""Paging cursors that are not this request's, methods and paths the provider does not serve, and rate-limit
abuse (OWASP API4)."""

from __future__ import annotations

import json

import pytest

from openmydata.standard.consent import TargetInfo
from tests.security.attacks import attack
from tests.security.conftest import (
    A_CARD,
    A_DEPOSIT,
    A_INVEST,
    ALICE,
    B_DEPOSIT,
    BOB,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
    ProviderFactory,
    days_range,
)
from tests.security.helpers import b64url, b64url_decode, info_headers, rsp, tran_id

BAD_PARAMETER = (400, "40001")


def _history(account: str, **fields: str) -> dict[str, str]:
    return {"account_num": account, **days_range(365), "limit": "10", **fields}


async def _cursor(harness: Harness, token: str, account: str) -> str:
    first = await harness.call("은행-004", _history(account), token=token)
    assert first.status_code == 200, first.text
    cursor: str = first.json()["next_page"]
    second = await harness.call("은행-004", _history(account, next_page=cursor), token=token)
    assert second.status_code == 200  # the cursor is good for the request it was minted for
    return cursor


def _bank_consent(harness: Harness) -> object:
    return harness.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="bank.invest")])


class TestCursors:
    @attack("cursor_of_other_person")
    async def test_cursor_of_other_person(self, target: Harness) -> None:
        bob_token = (await target.grant(BOB, consent=_bank_consent(target)))["access_token"]
        bobs_cursor = await _cursor(target, bob_token, B_DEPOSIT)
        alice_token = (await target.grant(ALICE, consent=_bank_consent(target)))["access_token"]
        response = await target.call("은행-004", _history(A_DEPOSIT, next_page=bobs_cursor), token=alice_token)
        assert rsp(response) == BAD_PARAMETER

    @attack("cursor_of_other_api")
    async def test_cursor_of_other_api(self, target: Harness) -> None:
        token = (await target.grant(consent=_bank_consent(target)))["access_token"]
        cursor = await _cursor(target, token, A_DEPOSIT)
        assert rsp(await target.call("은행-001", {"next_page": cursor}, token=token)) == BAD_PARAMETER
        invest = await target.call("은행-007", _history(A_INVEST, next_page=cursor), token=token)
        assert rsp(invest) == BAD_PARAMETER
        seqno = await target.call("은행-004", _history(A_DEPOSIT, seqno="1", next_page=cursor), token=token)
        assert rsp(seqno) == BAD_PARAMETER

    @attack("cursor_tampered")
    async def test_cursor_tampered(self, target: Harness) -> None:
        token = (await target.grant(consent=_bank_consent(target)))["access_token"]
        cursor = await _cursor(target, token, A_DEPOSIT)
        raw = b64url_decode(cursor)
        tag, body = raw[:12], raw[12:]
        position = json.loads(body)
        forged = [
            b64url(tag + json.dumps({**position, "seq": 0}, separators=(",", ":")).encode()),
            b64url(tag + json.dumps({**position, "seq": str(position["seq"])}, separators=(",", ":")).encode()),
            b64url(bytes(12) + body),
            b64url(body),
            "!!!not-base64!!!",
            b64url(tag + b"[1]"),
            b64url(tag + b'{"seq":true}'),
            cursor[:-2],
        ]
        for value in forged:
            response = await target.call("은행-004", _history(A_DEPOSIT, next_page=value), token=token)
            assert rsp(response) == BAD_PARAMETER, value


class TestMethodsAndPaths:
    @attack("method_not_allowed")
    @pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
    async def test_method_not_allowed(self, target: Harness, method: str) -> None:
        token = (await target.grant())["access_token"]
        for path in ("/v1/bank/accounts", "/v1/bank/accounts/deposit/basic", f"/v1/card/cards/{A_CARD}"):
            response = await target.http.request(method, path, headers=info_headers(token))
            assert rsp(response) == (405, "40501"), path
        for path in ("/oauth/2.0/token", "/oauth/2.0/revoke"):
            response = await target.http.request(method, path, headers={"x-api-tran-id": tran_id()})
            assert rsp(response) == (405, "40501"), path
        get_token = await target.http.get("/oauth/2.0/token", params={"grant_type": "password"})
        assert rsp(get_token) == (405, "40501")

    @attack("path_unknown")
    @pytest.mark.parametrize(
        "path",
        [
            "/v1/insu/insurances",
            "/v1/bank/accounts/deposit",
            "/admin/orgs",
            "/v1/mgmts/orgs",
            "/v1/bank/accounts;jsessionid=1",
            "/V1/BANK/ACCOUNTS",
            "/v1/bank/accounts%00",
        ],
    )
    async def test_path_unknown(self, target: Harness, path: str) -> None:
        token = (await target.grant())["access_token"]
        response = await target.http.get(path, params={"org_code": PROVIDER}, headers=info_headers(token))
        assert rsp(response) == (404, "40401")

    async def test_version_not_served(self, target: Harness) -> None:
        """A served industry's path under another version: 400 40003 (digest §2.7), not 40401."""
        token = (await target.grant())["access_token"]
        response = await target.http.get(
            "/v2/bank/accounts", params={"org_code": PROVIDER}, headers=info_headers(token)
        )
        assert rsp(response) == (400, "40003")

    @attack("path_traversal_card_id")
    @pytest.mark.parametrize(
        ("raw_card_id", "expected"),
        [
            ("..%2F..%2Fbank%2Faccounts", (404, "40401")),
            ("..%2f..%2f..%2fadmin", (404, "40401")),
            ("%2E%2E", (404, "40402")),
            ("..%5C..%5Cbank", (404, "40402")),
            ("%252E%252E%252F", (404, "40402")),
            (f"{A_CARD}%2F..%2F{A_CARD}", (404, "40401")),
        ],
    )
    async def test_path_traversal_card_id(self, target: Harness, raw_card_id: str, expected: tuple[int, str]) -> None:
        token = (await target.grant(consent=target.consent([TargetInfo(scope="card.card")])))["access_token"]
        for suffix in ("", "/approval-domestic"):
            dates = days_range(30)
            query = f"org_code={PROVIDER}&from_date={dates['from_date']}&to_date={dates['to_date']}"
            url = f"http://test/v1/card/cards/{raw_card_id}{suffix}?{query}"
            response = await target.http.get(url, headers=info_headers(token))
            assert rsp(response) == expected, url
            assert "account_list" not in response.text


class TestRateLimit:
    @attack("rate_limit_per_token")
    async def test_rate_limit_per_token(self, make_provider: ProviderFactory) -> None:
        async with make_provider(["bank"], rate_limit_per_minute=5) as harness:
            limiter = harness.app.state.provider.info.limiter
            now = [1000.0]
            limiter.clock = lambda: now[0]
            token = (await harness.grant())["access_token"]
            for _ in range(5):
                now[0] += 1
                assert (await harness.call("은행-001", {}, token=token)).status_code == 200
            now[0] += 1
            refused = await harness.call("은행-001", {}, token=token)
            assert rsp(refused) == (429, "42901")
            assert refused.headers["Retry-After"] == "55"  # the first call leaves the window 55 s from now
            other_api = await harness.call("은행-002", {"account_num": A_DEPOSIT}, token=token)
            assert rsp(other_api) == (429, "42901")
            # Another token (another operator's consent) has its own budget.
            other_consent = harness.consent(rcv=OTHER_OPERATOR)
            other = await harness.grant(
                consent=other_consent,
                client_id=OTHER_CLIENT_ID,
                client_secret=OTHER_CLIENT_SECRET,
                operator=OTHER_OPERATOR,
            )
            assert (await harness.call("은행-001", {}, token=other["access_token"])).status_code == 200
            # The window slides: once the first call is a minute old, one more call is admitted.
            now[0] += 55
            assert (await harness.call("은행-001", {}, token=token)).status_code == 200
            assert rsp(await harness.call("은행-001", {}, token=token)) == (429, "42901")
