"""The nationwide telecom profile: its entries (통신(전국)-001…004), the catalogue's per-profile views, and the
nationwide response-code set."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from openmydata.kit.errors import ServiceError
from openmydata.standard.apis import CATALOGUE, NATIONWIDE_CATALOGUE
from openmydata.standard.apis.telecom_nationwide import SPECS
from openmydata.standard.catalogue import ApiSpec, Catalogue, CycleClass, Kind, Sector
from openmydata.standard.client import ApiCallError, StandardClient
from openmydata.standard.codes import CODES, RspCode, Situation, StandardError, success_envelope
from openmydata.standard.models import Envelope, StampedRequest
from openmydata.standard.profiles import (
    FINANCIAL_RESPONSE_CODES,
    NATIONWIDE_CODES,
    NATIONWIDE_FOR,
    NATIONWIDE_RESPONSE_CODES,
    SUCCESS_CODES,
    UP_TO_DATE_CODES,
    NationwideCode,
    Profile,
    response_codes,
)

ORG = "F1ABCD0000"
OK = {"rsp_code": "20001", "rsp_msg": "성공"}
MGMT = "879913411801"
MONTHS = {"org_code": ORG, "mgmt_id": MGMT, "from_month": "202407", "to_month": "202506"}
NATIONWIDE_IDS = ["통신(전국)-001", "통신(전국)-002", "통신(전국)-003", "통신(전국)-004"]

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "통신(전국)-001": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250601000000",
            "telecom_cnt": "1",
            "telecom_list": [
                {
                    "mgmt_id": MGMT,
                    "is_consent": "true",
                    "telecom_num": "010-****-4074",
                    "type": "01",
                    "status": "01",
                    "plan_name": "5G 스탠다드 69",
                }
            ],
        },
    ),
    "통신(전국)-002": (
        MONTHS,
        {
            **OK,
            "use_cnt": "1",
            "use_list": [{"use_month": "202505", "voice_usage": "297", "sms_usage": "35", "data_usage": "6389.21"}],
        },
    ),
    "통신(전국)-003": (
        MONTHS,
        {
            **OK,
            "bill_cnt": "1",
            "bill_list": [{"charge_month": "202506", "charge_amt": "69000", "charge_date": "20250625"}],
        },
    ),
    "통신(전국)-004": (
        MONTHS,
        {**OK, "trans_cnt": "1", "trans_list": [{"trans_month": "202506", "paid_amt": "69000", "pay_method": "01"}]},
    ),
}


class TestNationwideTelecomEntries:
    def test_four_apis_cover_the_fifteen_items(self) -> None:
        assert [spec.id for spec in NATIONWIDE_CATALOGUE.info_apis(["telecom"])] == NATIONWIDE_IDS
        fields = set()
        for spec in SPECS:
            assert spec.record_model is not None
            fields |= {name for name in spec.record_model.model_fields if name != "is_consent"}
        assert fields == {
            # 고객정보, 가입정보
            *("mgmt_id", "telecom_num", "type", "status", "plan_name"),
            # 이용정보
            *("use_month", "voice_usage", "sms_usage", "data_usage"),
            # 청구정보
            *("charge_month", "charge_amt", "charge_date"),
            # 납부정보
            *("trans_month", "paid_amt", "pay_method"),
        }

    def test_paths_scopes_and_keys(self) -> None:
        table = {
            spec.id: (spec.method, spec.path, spec.scope, spec.cycle, spec.kind)
            for spec in NATIONWIDE_CATALOGUE.sector("telecom")
            if spec.is_info_api and spec.kind is not Kind.CONSENT
        }
        assert table == {
            "통신(전국)-001": ("GET", "/v1/telecom/telecoms", "telecom.list", CycleClass.BASIC, Kind.ASSET_LIST),
            "통신(전국)-002": (
                "POST",
                "/v1/telecom/telecoms/usages",
                "telecom.mgmt",
                CycleClass.ADDITIONAL,
                Kind.RECORDS,
            ),
            "통신(전국)-003": (
                "POST",
                "/v1/telecom/telecoms/bills",
                "telecom.mgmt",
                CycleClass.ADDITIONAL,
                Kind.RECORDS,
            ),
            "통신(전국)-004": (
                "POST",
                "/v1/telecom/telecoms/transactions",
                "telecom.mgmt",
                CycleClass.ADDITIONAL,
                Kind.RECORDS,
            ),
        }
        for spec in SPECS[1:]:
            assert spec.source is not None
            assert spec.source.api_id == "통신(전국)-001"
            assert spec.asset_field == "mgmt_id"
            assert spec.range_fields == ("from_month", "to_month")
        assert NATIONWIDE_CATALOGUE.asset_lists_for(SPECS[2]) == [SPECS[0]]

    def test_every_entry_says_it_is_the_projects_reading(self) -> None:
        for spec in SPECS:
            assert spec.profile is Profile.NATIONWIDE
            assert "project's reading" in spec.note
            assert "unconfirmed" in spec.note

    @pytest.mark.parametrize("api_id", NATIONWIDE_IDS)
    def test_models_accept_realistic_messages(self, api_id: str) -> None:
        spec = NATIONWIDE_CATALOGUE[api_id]
        request, response = EXAMPLES[api_id]
        assert spec.request.model_validate(request).to_wire() == request
        assert spec.response.model_validate(response).to_wire() == response

    def test_models_refuse_bad_values(self) -> None:
        usages = NATIONWIDE_CATALOGUE["통신(전국)-002"].response
        good = EXAMPLES["통신(전국)-002"][1]
        with pytest.raises(ValidationError):
            usages.model_validate({**good, "use_list": [{**good["use_list"][0], "use_month": "202513"}]})
        with pytest.raises(ValidationError):
            usages.model_validate({**good, "use_list": [{**good["use_list"][0], "voice_usage": "-3"}]})
        contracts = NATIONWIDE_CATALOGUE["통신(전국)-001"].record_model
        assert contracts is not None
        entry = EXAMPLES["통신(전국)-001"][1]["telecom_list"][0]
        with pytest.raises(ValidationError):
            contracts.model_validate({k: v for k, v in entry.items() if k != "plan_name"})


class TestProfileViews:
    def test_the_financial_view_keeps_the_financial_telecom_apis_only(self) -> None:
        assert CATALOGUE.profile is Profile.FINANCIAL
        assert [spec.id for spec in CATALOGUE.info_apis(["telecom"])] == [
            "통신-001",
            "통신-002",
            "통신-003",
            "통신-004",
        ]
        for api_id in NATIONWIDE_IDS:
            assert api_id not in CATALOGUE
        assert CATALOGUE.by_route("POST", "/v1/telecom/telecoms/usages") == []

    def test_the_nationwide_view_has_no_financial_information_api(self) -> None:
        assert NATIONWIDE_CATALOGUE.profile is Profile.NATIONWIDE
        assert all(
            spec.profile is Profile.NATIONWIDE for spec in NATIONWIDE_CATALOGUE if spec.sector.value == "telecom"
        )
        assert "통신-001" not in NATIONWIDE_CATALOGUE
        assert "은행-001" not in NATIONWIDE_CATALOGUE
        assert NATIONWIDE_CATALOGUE.info_apis(["bank"]) == []
        # the shared machinery is in both views
        for api_id in ("통합인증-002", "개별인증-004", "정보제공-공통-001", "정보제공-공통-002", "지원-102"):
            assert NATIONWIDE_CATALOGUE[api_id] is CATALOGUE[api_id]
        assert [s.id for s in NATIONWIDE_CATALOGUE.by_route("GET", "/v1/telecom/telecoms")] == ["통신(전국)-001"]
        assert NATIONWIDE_CATALOGUE.scopes("telecom") == ["telecom.list", "telecom.mgmt"]

    def test_views_are_made_once_and_lead_back(self) -> None:
        assert CATALOGUE.for_profile("nationwide") is NATIONWIDE_CATALOGUE
        assert NATIONWIDE_CATALOGUE.for_profile(Profile.FINANCIAL) is CATALOGUE
        assert CATALOGUE.profiles == (Profile.FINANCIAL, Profile.NATIONWIDE)
        every = {spec.id for spec in CATALOGUE.every_profile()}
        assert every == {spec.id for spec in CATALOGUE} | set(NATIONWIDE_IDS)

    def test_ids_stay_unique_across_profiles(self) -> None:
        clash = ApiSpec(**{**SPECS[0].__dict__, "id": "통신-001"})
        with pytest.raises(ValueError, match="duplicate"):
            Catalogue([*CATALOGUE.every_profile(), clash])

    def test_only_information_apis_belong_to_one_profile(self) -> None:
        with pytest.raises(ValueError, match="only information APIs"):
            ApiSpec(
                id="X-001",
                api_code="XX01",
                title="x",
                sector=Sector.SUPPORT,
                method="GET",
                resource="/x",
                request=StampedRequest,
                response=Envelope,
                kind=Kind.SUPPORT,
                profile=Profile.NATIONWIDE,
            )


class TestNationwideResponseCodes:
    def test_every_financial_situation_has_a_nationwide_code(self) -> None:
        assert set(NATIONWIDE_FOR) == set(RspCode)
        assert set(NATIONWIDE_FOR.values()) <= set(NATIONWIDE_CODES)

    def test_the_codes_of_digest_section_8(self) -> None:
        assert {code.value for code in NationwideCode} == {
            *("20001", "20002", "40001", "40002", "40003"),
            *("40101", "40102", "40103", "40104", "40105", "40106", "40107", "40108"),
            *("40301", "40302", "40303", "40304", "40305", "40306"),
            *("40401", "40402", "40403", "40501", "40801", "42901"),
            *("50001", "50005", "50007", "50008", "50301"),
        }
        for code, info in NATIONWIDE_CODES.items():
            assert info.http_status == int(code.value[:3]) or (code.value[0] == "2" and info.http_status == 200)

    @pytest.mark.parametrize(
        ("financial", "nationwide", "status"),
        [
            (RspCode.OK, "20001", 200),
            (RspCode.UP_TO_DATE, "20002", 200),
            (RspCode.BAD_PARAMETER, "40002", 400),
            (RspCode.BAD_HEADER, "40003", 400),
            (RspCode.VERSION_NOT_ALLOWED, "40001", 400),
            (RspCode.RANGE_EXCEEDED, "40304", 403),
            (RspCode.TOO_OLD, "40304", 403),
            (RspCode.CERT_CHECK_FAILED, "40103", 401),
            (RspCode.ASSET_NOT_NORMAL, "40305", 403),
            (RspCode.OUTSIDE_WINDOW, "40306", 403),
            (RspCode.TIMEOUT, "40801", 408),
            (RspCode.MARKET_HOURS, "50301", 503),
            (RspCode.REVOKE_INVALID_TOKEN, "20001", 200),
        ],
    )
    def test_situations_in_nationwide_codes(self, financial: RspCode, nationwide: str, status: int) -> None:
        codes = response_codes("nationwide")
        assert codes.code(financial) == nationwide
        assert NATIONWIDE_CODES[NationwideCode(nationwide)].http_status == status

    def test_errors_are_rendered_in_the_profile_s_codes(self) -> None:
        error = StandardError(RspCode.BAD_PARAMETER, "org_code", {"X-Test": "1"})
        rendered = NATIONWIDE_RESPONSE_CODES.error(error)
        assert isinstance(rendered, ServiceError)
        assert (rendered.status_code, rendered.rsp_code) == (400, "40002")
        assert rendered.rsp_msg.endswith(": org_code")
        assert rendered.headers == {"X-Test": "1"}
        assert FINANCIAL_RESPONSE_CODES.error(error) is error

    def test_finer_situations(self) -> None:
        withdrawn = StandardError(RspCode.INVALID_TOKEN, situation=Situation.CONSENT_WITHDRAWN)
        expired = StandardError(RspCode.INVALID_TOKEN, situation=Situation.TOKEN_EXPIRED)
        assert withdrawn.rsp_code == expired.rsp_code == "40101"  # the financial table folds both into 40101
        assert FINANCIAL_RESPONSE_CODES.error(withdrawn).rsp_code == "40101"
        assert (
            NATIONWIDE_RESPONSE_CODES.error(withdrawn).status_code,
            NATIONWIDE_RESPONSE_CODES.error(withdrawn).rsp_code,
        ) == (
            401,
            "40107",
        )
        assert NATIONWIDE_RESPONSE_CODES.error(expired).rsp_code == "40108"
        assert NATIONWIDE_RESPONSE_CODES.error(StandardError(RspCode.INVALID_TOKEN)).rsp_code == "40101"

    def test_success_answers(self) -> None:
        body = {**success_envelope(RspCode.UP_TO_DATE), "x": "1"}
        assert NATIONWIDE_RESPONSE_CODES.answer(body) == {
            "rsp_code": "20002",
            "rsp_msg": NATIONWIDE_CODES[NationwideCode.UP_TO_DATE].message,
            "x": "1",
        }
        assert NATIONWIDE_RESPONSE_CODES.answer(success_envelope())["rsp_code"] == "20001"
        assert FINANCIAL_RESPONSE_CODES.answer(body) is body
        assert NATIONWIDE_RESPONSE_CODES.answer({"x": "1"}) == {"x": "1"}

    def test_success_codes_of_every_profile(self) -> None:
        assert {"00000", "20001"} == SUCCESS_CODES
        assert {"00001", "20002"} == UP_TO_DATE_CODES
        assert CODES[RspCode.OK].http_status == 200


class TestClientReadsNationwideAnswers:
    def _client(self) -> StandardClient:
        return StandardClient(
            httpx.AsyncClient(), "http://provider", org_code="OPER000001", catalogue=NATIONWIDE_CATALOGUE
        )

    def test_20001_and_20002_are_success(self) -> None:
        client = self._client()
        spec = NATIONWIDE_CATALOGUE["통신(전국)-002"]
        answer = client.parse(spec, httpx.Response(200, json=EXAMPLES["통신(전국)-002"][1]))
        assert answer.model.use_list[0].voice_usage == 297
        assert not answer.up_to_date
        unchanged = client.parse(spec, httpx.Response(200, json={"rsp_code": "20002", "rsp_msg": "성공"}))
        assert unchanged.up_to_date

    def test_nationwide_errors_are_errors(self) -> None:
        client = self._client()
        spec = NATIONWIDE_CATALOGUE["통신(전국)-001"]
        with pytest.raises(ApiCallError) as caught:
            client.parse(spec, httpx.Response(401, json={"rsp_code": "40107", "rsp_msg": "전송요구 철회"}))
        assert caught.value.code == "40107"
        with pytest.raises(ApiCallError):
            client.parse(spec, httpx.Response(200, json={"rsp_code": "20003", "rsp_msg": "?"}))
