"""The information APIs: the enforcement point (every refusal with its status and rsp_code) and the generic
handlers (paging, search_timestamp, sensitive fields, 공통-001/002, access records)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from openmydata.kit.clock import to_date, today_kst, utcnow
from openmydata.provider.models import AccessRecord, Consent, Record
from openmydata.provider.tokens import TokenCodec
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.formats import Party, new_tran_id

from .conftest import (
    DEPOSIT,
    DEPOSIT_2,
    LOAN,
    OPERATOR,
    PROVIDER,
    STRANGER_ACCOUNT,
    TRANSACTIONS,
    Harness,
    history_range,
)


def _rsp(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


class TestInfoEnforcement:
    async def test_headers_are_checked_first(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        bad_tran = await harness.call("은행-001", {}, token=token, tran_id="not-a-tran-id")
        assert _rsp(bad_tran) == (400, "40002")
        assert bad_tran.headers["x-api-tran-id"] == "not-a-tran-id"
        no_type = await harness.call("은행-001", {}, token=token, api_type=None)
        assert _rsp(no_type) == (400, "40002")
        bad_type = await harness.call("은행-001", {}, token=token, api_type="whenever")
        assert _rsp(bad_type) == (400, "40002")

    async def test_malformed_fields_and_foreign_org_code(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        bad_account = await harness.call("은행-002", {"account_num": "11-01"}, token=token)
        assert _rsp(bad_account) == (400, "40001")
        bad_date = await harness.call(
            "은행-004", {"account_num": DEPOSIT, "from_date": "20251399", "to_date": "20251231"}, token=token
        )
        assert _rsp(bad_date) == (400, "40001")
        big_limit = await harness.call("은행-001", {"limit": "501"}, token=token)
        assert _rsp(big_limit) == (400, "40001")
        other_org = await harness.call("은행-001", {"org_code": "OTHER00001"}, token=token)
        assert _rsp(other_org) == (400, "40001")
        not_json = await harness.http.post(
            "/v1/bank/accounts/deposit/basic",
            content=b"[1, 2]",
            headers={
                "x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR),
                "x-api-type": "user-consent",
                "Authorization": f"Bearer {token}",
            },
        )
        assert _rsp(not_json) == (400, "40001")

    async def test_revoked_forged_and_missing_tokens(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        forged, _ = TokenCodec("another secret", PROVIDER).encode(
            consent_id="x",
            audience=OPERATOR,
            kind="access",
            scopes=["bank.list"],
            expires_at=utcnow() + timedelta(days=1),
        )
        assert _rsp(await harness.call("은행-001", {}, token=forged)) == (401, "40101")
        assert _rsp(await harness.call("은행-001", {}, token=None)) == (401, "40101")
        assert _rsp(await harness.call("은행-001", {}, token=token[:-2] + "xx")) == (401, "40101")
        await harness.grant()  # replaces the consent: the first token is revoked
        assert _rsp(await harness.call("은행-001", {}, token=token)) == (401, "40101")

    async def test_scope_not_granted(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        response = await harness.call("은행-008", {"account_num": LOAN}, token=token)
        assert _rsp(response) == (401, "40104")

    async def test_asset_not_in_consent_and_asset_of_someone_else(self, harness: Harness) -> None:
        consent = harness.consent(
            [TargetInfo(scope="bank.list"), TargetInfo(scope="bank.deposit", asset_list=[ConsentAsset(asset=DEPOSIT)])]
        )
        token = (await harness.grant(consent=consent))["access_token"]
        assert _rsp(await harness.call("은행-002", {"account_num": DEPOSIT_2}, token=token)) == (401, "40105")
        assert (await harness.call("은행-002", {"account_num": DEPOSIT}, token=token)).status_code == 200
        everything = (await harness.grant())["access_token"]
        stranger = await harness.call("은행-002", {"account_num": STRANGER_ACCOUNT}, token=everything)
        assert _rsp(stranger) == (404, "40402")

    async def test_ended_consent_is_40106_even_though_its_tokens_are_dead(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        async with harness.db.transaction() as session:
            await session.execute(update(Consent).values(end_at=utcnow() - timedelta(seconds=1)))
        assert _rsp(await harness.call("은행-001", {}, token=token)) == (401, "40106")

    async def test_ranges(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        today = today_kst()
        backwards = {"account_num": DEPOSIT, "from_date": to_date(today), "to_date": to_date(today - timedelta(days=1))}
        assert _rsp(await harness.call("은행-004", backwards, token=token)) == (400, "40001")
        too_long = {"account_num": DEPOSIT, **history_range(400)}
        assert _rsp(await harness.call("은행-004", too_long, token=token)) == (400, "40004")
        scheduled = {"account_num": DEPOSIT, **history_range(32)}
        assert _rsp(await harness.call("은행-004", scheduled, token=token, api_type="scheduled")) == (400, "40004")
        assert (
            await harness.call(
                "은행-004", {"account_num": DEPOSIT, **history_range(31)}, token=token, api_type="scheduled"
            )
        ).status_code == 200
        old_start = today - timedelta(days=5 * 366 + 10)
        too_old = {
            "account_num": DEPOSIT,
            "from_date": to_date(old_start),
            "to_date": to_date(old_start + timedelta(days=20)),
        }
        assert _rsp(await harness.call("은행-004", too_old, token=token, api_type="user-search")) == (403, "40304")

    async def test_wrong_method_and_unknown_path(self, harness: Harness) -> None:
        headers = {"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
        wrong = await harness.http.get("/v1/bank/accounts/deposit/basic", headers=headers)
        assert _rsp(wrong) == (405, "40501")
        assert wrong.headers["x-api-tran-id"] == headers["x-api-tran-id"]
        assert _rsp(await harness.http.get("/v1/bank/nothing", headers=headers)) == (404, "40401")
        assert _rsp(await harness.http.get("/v1/card/cards", headers=headers)) == (404, "40401")

    async def test_cursor_from_another_api_or_person(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        request = {"account_num": DEPOSIT, **history_range(365), "limit": "10"}
        first = (await harness.call("은행-004", request, token=token)).json()
        foreign = await harness.call("은행-001", {"next_page": first["next_page"]}, token=token)
        assert _rsp(foreign) == (400, "40001")
        other_consent = (await harness.grant())["access_token"]
        replayed = await harness.call("은행-004", {**request, "next_page": first["next_page"]}, token=other_consent)
        assert _rsp(replayed) == (400, "40001")

    async def test_every_call_leaves_an_access_record(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        await harness.call("은행-001", {}, token=token)
        await harness.call("은행-002", {"account_num": STRANGER_ACCOUNT}, token=token)
        await harness.call("은행-001", {}, token=token, tran_id="bad")
        async with harness.db.transaction() as session:
            records = (await session.execute(select(AccessRecord).order_by(AccessRecord.id))).scalars().all()
        assert [(r.api_id, r.status_code, r.rsp_code) for r in records] == [
            ("은행-001", 200, "00000"),
            ("은행-002", 404, "40402"),
            ("은행-001", 400, "40002"),
        ]
        assert records[0].rcv_org_code == OPERATOR
        assert records[0].consent_id
        assert records[0].api_type == "user-consent"
        assert records[1].key == f"{STRANGER_ACCOUNT}|"
        assert records[2].consent_id is None


class TestInfoHandlers:
    async def test_paging_to_the_end_returns_every_record_once(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        request: dict[str, Any] = {"org_code": PROVIDER, "account_num": DEPOSIT, **history_range(365), "limit": "500"}
        seen: list[str] = []
        pages = 0
        async for result in harness.client.pages("은행-004", request, token=token, api_type="user-consent"):
            pages += 1
            assert int(result.raw["trans_cnt"]) == len(result.raw["trans_list"])
            seen.extend(item["trans_no"] for item in result.raw["trans_list"])
            if pages < 3:
                assert "next_page" in result.raw
        assert pages == 3
        assert "next_page" not in result.raw
        assert len(seen) == TRANSACTIONS == len(set(seen))
        assert all(item["balance_amt"].isdigit() for item in result.raw["trans_list"])

    async def test_range_filters_records(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        response = await harness.call("은행-004", {"account_num": DEPOSIT, **history_range(10)}, token=token)
        body = response.json()
        cutoff = to_date(today_kst() - timedelta(days=9))
        assert 0 < int(body["trans_cnt"]) < TRANSACTIONS
        assert all(item["trans_dtime"][:8] >= cutoff for item in body["trans_list"])

    async def test_sensitive_fields_need_the_consent_flag(self, harness: Harness) -> None:
        request = {"account_num": DEPOSIT, **history_range(30), "limit": "5"}
        plain = (await harness.grant())["access_token"]
        body = (await harness.call("은행-004", request, token=plain)).json()
        assert body["trans_list"]
        assert all("trans_memo" not in item for item in body["trans_list"])
        with_memo = (await harness.grant(consent=harness.consent(trans_memo=True)))["access_token"]
        body = (await harness.call("은행-004", request, token=with_memo)).json()
        assert all(item["trans_memo"] == "월급" for item in body["trans_list"])

    async def test_asset_list_marks_consented_assets_and_search_timestamp(self, harness: Harness) -> None:
        consent = harness.consent(
            [TargetInfo(scope="bank.list"), TargetInfo(scope="bank.deposit", asset_list=[ConsentAsset(asset=DEPOSIT)])]
        )
        token = (await harness.grant(consent=consent))["access_token"]
        async with harness.db.transaction() as session:  # imported an hour ago (timestamps have 1 s resolution)
            await session.execute(update(Record).values(updated_at=utcnow() - timedelta(hours=1)))
        response = await harness.call("은행-001", {"search_timestamp": "0"}, token=token)
        body = response.json()
        assert (response.status_code, body["rsp_code"], body["account_cnt"], body["reg_date"]) == (
            200,
            "00000",
            "3",
            "20200101",
        )
        assert {item["account_num"]: item["is_consent"] for item in body["account_list"]} == {
            DEPOSIT: "true",
            DEPOSIT_2: "false",
            LOAN: "false",
        }
        again = await harness.call("은행-001", {"search_timestamp": body["search_timestamp"]}, token=token)
        assert again.json() == {"rsp_code": "00001", "rsp_msg": again.json()["rsp_msg"]}
        basic = (await harness.call("은행-002", {"account_num": DEPOSIT}, token=token)).json()
        assert (basic["saving_method"], basic["currency_code"]) == ("01", "KRW")
        unchanged = await harness.call(
            "은행-002", {"account_num": DEPOSIT, "search_timestamp": basic["search_timestamp"]}, token=token
        )
        assert unchanged.json()["rsp_code"] == "00001"
        stale = await harness.call(
            "은행-002", {"account_num": DEPOSIT, "search_timestamp": "20000101000000"}, token=token
        )
        assert stale.json()["rsp_code"] == "00000"

    async def test_consent_api_returns_the_live_consent(self, harness: Harness) -> None:
        consent = harness.consent(trans_memo=True)
        token = (await harness.grant(consent=consent))["access_token"]
        through_client = await harness.call("정보제공-공통-002", {}, token=token, path_params={"industry": "bank"})
        assert (through_client.status_code, through_client.json()["purpose"]) == (200, consent.purpose)
        tran = new_tran_id(OPERATOR, Party.OPERATOR)
        response = await harness.http.get(
            "/v1/bank/consents",
            params={"org_code": PROVIDER},
            headers={"x-api-tran-id": tran, "x-api-type": "user-refresh", "Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert response.status_code == 200
        assert response.headers["x-api-tran-id"] == tran
        assert (body["end_date"], body["purpose"], body["is_consent_trans_memo"]) == (
            consent.end_date,
            consent.purpose,
            "true",
        )
        assert body["cycle"] == {"fnd_cycle": "1/w", "add_cycle": "1/w"}

    async def test_api_list(self, harness: Harness) -> None:
        headers = {"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
        response = await harness.http.get("/apis", params={"org_code": PROVIDER}, headers=headers)
        body = response.json()
        assert response.status_code == 200
        assert body["rsp_code"] == "00000"
        listed = {(entry["api_code"], entry["api_uri"]) for entry in body["api_list"]}
        assert ("BA01", "/v1/bank/accounts") in listed
        assert ("BA04", "/v1/bank/accounts/deposit/transactions") in listed
        assert {("CM01", "/apis"), ("CM02", "/v1/bank/consents"), ("AU11", "/oauth/2.0/token")} <= listed
        assert int(body["api_cnt"]) == len(body["api_list"])
        assert not any(uri.startswith("/v1/card") for _, uri in listed)
        wrong = await harness.http.get("/apis", params={"org_code": "OTHER00001"}, headers=headers)
        assert _rsp(wrong) == (400, "40001")
