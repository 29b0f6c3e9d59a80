"""OWASP API1 (broken object level authorisation) and API5 (function level: scopes): someone else's assets and
records, and APIs outside the consent's scopes."""

from __future__ import annotations

from typing import Any

import pytest

from openmydata.kit.ids import urlsafe_nonce
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.consent import ConsentAsset, TargetInfo
from tests.security.attacks import attack
from tests.security.conftest import (
    A_CARD,
    A_DEPOSIT,
    A_DEPOSIT_2,
    ALICE,
    ALICE_ASSET_BY_SCOPE,
    ASSET_APIS,
    B_CARD,
    B_DEPOSIT,
    B_INVEST,
    B_IRP,
    B_LOAN,
    B_MGMT,
    B_PREPAID,
    BOB_ASSET_BY_SCOPE,
    BOB_MARK,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    PROVIDER,
    SECTORS,
    Harness,
    all_scopes,
    asset_request,
    consent_for,
    months_ago,
    months_range,
)
from tests.security.helpers import info_headers, leaks, oauth, rsp

BOB_IDS = (BOB_MARK, B_DEPOSIT, B_INVEST, B_LOAN, B_IRP, B_CARD, B_PREPAID, B_MGMT)


def _scope(api_id: str) -> str:
    return CATALOGUE[api_id].scope or ""


class TestObjectLevelAuthorisation:
    async def _every_asset_api(self, target: Harness, token: str, expected: tuple[int, str]) -> list[str]:
        """Alice's asset (must be served) and then Bob's (must be refused) at every asset-scoped API."""
        wrong = []
        for api_id in ASSET_APIS:
            own = await target.call(api_id, asset_request(api_id, ALICE_ASSET_BY_SCOPE[_scope(api_id)]), token=token)
            if own.status_code != 200:
                wrong.append(f"{api_id}: Alice's own asset refused {own.text}")
            foreign = await target.call(api_id, asset_request(api_id, BOB_ASSET_BY_SCOPE[_scope(api_id)]), token=token)
            if rsp(foreign) != expected or leaks(foreign, *BOB_IDS):
                wrong.append(f"{api_id}: Bob's asset answered {foreign.status_code} {foreign.text[:200]}")
        return wrong

    @attack("bola_foreign_asset_all_asset_consent")
    async def test_bola_foreign_asset_all_asset_consent(self, target: Harness) -> None:
        assert len(ASSET_APIS) == 20  # 은행-002…010, IRP-002…004, 카드-002/008/009, 선불-002…004, 통신-003/004
        token = (await target.grant(consent=consent_for(target, all_scopes(SECTORS))))["access_token"]
        assert await self._every_asset_api(target, token, (404, "40402")) == []

    @attack("bola_foreign_asset_listed_consent")
    async def test_bola_foreign_asset_listed_consent(self, target: Harness) -> None:
        token = (await target.grant(consent=consent_for(target, all_scopes(SECTORS), listed=True)))["access_token"]
        assert await self._every_asset_api(target, token, (401, "40105")) == []

    @attack("bola_own_asset_not_in_consent")
    async def test_bola_own_asset_not_in_consent(self, target: Harness) -> None:
        consent = target.consent([TargetInfo(scope="bank.deposit", asset_list=[ConsentAsset(asset=A_DEPOSIT)])])
        token = (await target.grant(consent=consent))["access_token"]
        assert (await target.call("은행-002", {"account_num": A_DEPOSIT}, token=token)).status_code == 200
        left_out = await target.call("은행-002", {"account_num": A_DEPOSIT_2}, token=token)
        assert rsp(left_out) == (401, "40105")

    @attack("bola_asset_lists_only_own")
    @pytest.mark.parametrize(
        ("api_id", "own"), [("은행-001", A_DEPOSIT), ("카드-001", A_CARD), ("통신-001", "MGMT-ALICE1")]
    )
    async def test_bola_asset_lists_only_own(self, target: Harness, api_id: str, own: str) -> None:
        token = (await target.grant(consent=consent_for(target, all_scopes(SECTORS))))["access_token"]
        response = await target.call(api_id, {}, token=token)
        assert response.status_code == 200, response.text
        assert own in response.text
        assert leaks(response, *BOB_IDS) == []

    @attack("bola_customer_level_data_only_own")
    @pytest.mark.parametrize(
        ("api_id", "request_fields"),
        [
            ("카드-003", {}),
            ("카드-004", months_range(3)),
            ("카드-006", {}),
            ("카드-011", {}),
            ("통신-002", {"charge_month": months_ago(1)}),
        ],
    )
    async def test_bola_customer_level_data_only_own(
        self, target: Harness, api_id: str, request_fields: dict[str, str]
    ) -> None:
        token = (await target.grant(consent=consent_for(target, all_scopes(SECTORS))))["access_token"]
        response = await target.call(api_id, request_fields, token=token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body[CATALOGUE[api_id].list_field or ""], f"{api_id} returned none of Alice's records"
        assert leaks(response, *BOB_IDS) == []

    @attack("bola_parameter_pollution_card_id")
    async def test_bola_parameter_pollution_card_id(self, target: Harness) -> None:
        token = (await target.grant(consent=consent_for(target, all_scopes(SECTORS))))["access_token"]
        polluted = await target.http.get(
            f"/v1/card/cards/{B_CARD}",
            params={"org_code": PROVIDER, "card_id": A_CARD},
            headers=info_headers(token),
        )
        assert rsp(polluted) == (404, "40402")
        body_pollution = await target.http.post(
            "/v1/bank/accounts/deposit/basic",
            content=f'{{"org_code":"{PROVIDER}","account_num":"{A_DEPOSIT}","account_num":"{B_DEPOSIT}"}}',
            headers={**info_headers(token), "Content-Type": "application/json"},
        )
        assert rsp(body_pollution) == (404, "40402")

    @attack("bola_mass_assignment_extra_fields")
    async def test_bola_mass_assignment_extra_fields(self, target: Harness) -> None:
        token = (await target.grant(consent=consent_for(target, all_scopes(SECTORS))))["access_token"]
        smuggled: dict[str, Any] = {"customer_id": "2", "ci": "BOB", "user_ci": "BOB", "consent_id": "x", "key": ""}
        listed = await target.call("은행-001", smuggled, token=token)
        assert listed.status_code == 200, listed.text
        assert A_DEPOSIT in listed.text
        assert leaks(listed, *BOB_IDS) == []
        points = await target.call("카드-003", smuggled, token=token)
        assert points.status_code == 200, points.text
        assert leaks(points, *BOB_IDS) == []

    @attack("bola_revoke_other_operators_token")
    async def test_bola_revoke_other_operators_token(self, target: Harness) -> None:
        tokens = await target.grant()
        for token in (tokens["access_token"], tokens["refresh_token"]):
            response = await target.http.post(
                "/oauth/2.0/revoke",
                data={
                    "org_code": PROVIDER,
                    "token": token,
                    "client_id": OTHER_CLIENT_ID,
                    "client_secret": OTHER_CLIENT_SECRET,
                },
            )
            assert rsp(response) == (200, "99999")
        assert (await target.call("은행-001", {}, token=tokens["access_token"])).status_code == 200

    @attack("bola_refresh_other_operators_token")
    async def test_bola_refresh_other_operators_token(self, target: Harness) -> None:
        tokens = await target.grant()
        response = await target.http.post(
            "/oauth/2.0/token",
            data={
                "org_code": PROVIDER,
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": OTHER_CLIENT_ID,
                "client_secret": OTHER_CLIENT_SECRET,
            },
        )
        assert oauth(response) == (400, "invalid_grant")
        assert "access_token" not in response.json()


class TestFunctionLevelAuthorisation:
    @attack("scope_card_api_with_bank_token")
    @pytest.mark.parametrize("api_id", ["카드-001", "카드-002", "카드-003", "통신-001"])
    async def test_scope_card_api_with_bank_token(self, target: Harness, api_id: str) -> None:
        token = (await target.grant(consent=consent_for(target, all_scopes(["bank"]))))["access_token"]
        spec = CATALOGUE[api_id]
        request = {spec.asset_field: A_CARD} if spec.asset_field else {}
        assert rsp(await target.call(api_id, request, token=token)) == (401, "40104")

    @attack("scope_other_api_same_industry")
    async def test_scope_other_api_same_industry(self, target: Harness) -> None:
        token = (await target.grant(consent=consent_for(target, ["bank.deposit"])))["access_token"]
        assert (await target.call("은행-002", {"account_num": A_DEPOSIT}, token=token)).status_code == 200
        loan = await target.call("은행-008", {"account_num": "31012345678"}, token=token)
        assert rsp(loan) == (401, "40104")

    @attack("scope_consents_api_other_industry")
    async def test_scope_consents_api_other_industry(self, target: Harness) -> None:
        token = (await target.grant(consent=consent_for(target, ["bank.deposit"])))["access_token"]
        params = {"org_code": PROVIDER}
        own = await target.http.get("/v1/bank/consents", params=params, headers=info_headers(token))
        assert own.status_code == 200, own.text
        for industry in ("card", "telecom"):
            other = await target.http.get(f"/v1/{industry}/consents", params=params, headers=info_headers(token))
            assert rsp(other) == (401, "40104")

    @attack("scope_foreign_industry_in_consent")
    async def test_scope_foreign_industry_in_consent(self, bank_only: Harness) -> None:
        consent = bank_only.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="card.card")])
        response = await bank_only.post_token(bank_only.grant_form(ALICE, consent, nonce=urlsafe_nonce()))
        assert oauth(response) == (400, "invalid_scope")
        assert "access_token" not in response.json()

    @attack("scope_unknown_scope_in_consent")
    async def test_scope_unknown_scope_in_consent(self, bank_only: Harness) -> None:
        for scope in ("bank.admin", "bank.*", "telecom.mgmt"):
            consent = bank_only.consent([TargetInfo(scope="bank.list"), TargetInfo(scope=scope)])
            response = await bank_only.post_token(bank_only.grant_form(ALICE, consent, nonce=urlsafe_nonce()))
            assert oauth(response) == (400, "invalid_scope"), scope
