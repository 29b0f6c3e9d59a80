"""The generic client: request building per API class, and response parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from openmydata.kit.errors import PeerUnavailable
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.client import API_TYPE, TRAN_ID, ApiCallError, StandardClient
from openmydata.standard.formats import TRAN_ID_RE, Party

from .examples import EXAMPLES, OK

BASE = "https://provider.example/"
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler | None = None) -> StandardClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler or refuse))
    return StandardClient(http, BASE, org_code="OPER000001", party=Party.OPERATOR, peer="provider")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class TestBuildRequest:
    def test_get_fields_go_in_the_query(self) -> None:
        client = make_client()
        request = client.build_request(CATALOGUE["카드-001"], {"org_code": "ORG0000001", "search_timestamp": "0"})
        assert request.method == "GET"
        assert request.url.path == "/v1/card/cards"
        assert dict(request.url.params) == {"org_code": "ORG0000001", "search_timestamp": "0"}
        assert request.content == b""

    def test_models_are_sent_in_wire_form(self) -> None:
        client = make_client()
        spec = CATALOGUE["카드-004"]
        model = spec.request.model_validate({"org_code": "ORG0000001", "from_month": "202401", "to_month": "202402"})
        request = client.build_request(spec, model)
        assert dict(request.url.params) == {
            "org_code": "ORG0000001",
            "from_month": "202401",
            "to_month": "202402",
            "limit": "500",
        }

    def test_none_values_are_omitted(self) -> None:
        client = make_client()
        request = client.build_request(CATALOGUE["카드-003"], {"org_code": "ORG0000001", "search_timestamp": None})
        assert dict(request.url.params) == {"org_code": "ORG0000001"}

    def test_post_fields_go_in_a_json_body(self) -> None:
        client = make_client()
        body = {"org_code": "ORG0000001", "charge_month": "202402"}
        request = client.build_request(CATALOGUE["통신-002"], body)
        assert request.method == "POST"
        assert request.url.path == "/v1/telecom/telecoms/bills"
        assert request.url.query == b""
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body

    def test_oauth_bodies_are_form_encoded(self) -> None:
        client = make_client()
        form = {
            "org_code": "ORG0000001",
            "grant_type": "authorization_code",
            "code": "abc",
            "client_id": "client",
            "client_secret": "secret",
            "redirect_uri": "https://operator.example/callback",
        }
        request = client.build_request(CATALOGUE["개별인증-002"], form, api_type="scheduled")
        assert request.url.path == "/oauth/2.0/token"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert {k: v[0] for k, v in parse_qs(request.content.decode()).items()} == form
        assert API_TYPE not in request.headers

    def test_path_params_are_substituted_url_quoted_and_left_out_of_the_query(self) -> None:
        client = make_client()
        request = client.build_request(
            CATALOGUE["카드-008"],
            {"org_code": "ORG0000001", "card_id": "a/b c?", "from_date": "20240101", "to_date": "20240131"},
        )
        assert request.url.raw_path.split(b"?")[0] == b"/v1/card/cards/a%2Fb%20c%3F/approval-domestic"
        assert "card_id" not in request.url.params
        assert request.url.params["from_date"] == "20240101"

    def test_explicit_path_params_win(self) -> None:
        client = make_client()
        request = client.build_request(CATALOGUE["카드-002"], {"org_code": "ORG0000001"}, path_params={"card_id": "C1"})
        assert request.url.path == "/v1/card/cards/C1"

    def test_missing_path_param_is_an_error(self) -> None:
        client = make_client()
        with pytest.raises(ValueError, match="card_id"):
            client.build_request(CATALOGUE["카드-002"], {"org_code": "ORG0000001"})

    def test_x_api_type_only_on_info_apis(self) -> None:
        client = make_client()
        info = client.build_request(CATALOGUE["은행-001"], {"org_code": "ORG0000001"}, api_type="user-consent")
        assert info.headers[API_TYPE] == "user-consent"
        consent = client.build_request(
            CATALOGUE["정보제공-공통-002"],
            {"org_code": "ORG0000001"},
            api_type="scheduled",
            path_params={"industry": "bank"},
        )
        assert consent.headers[API_TYPE] == "scheduled"
        assert consent.url.path == "/v1/bank/consents"
        listing = client.build_request(CATALOGUE["정보제공-공통-001"], {"org_code": "ORG0000001"}, api_type="scheduled")
        assert API_TYPE not in listing.headers

    def test_tran_id_and_token_headers(self) -> None:
        client = make_client()
        request = client.build_request(CATALOGUE["은행-001"], {"org_code": "ORG0000001"}, token="tok")
        assert TRAN_ID_RE.fullmatch(request.headers[TRAN_ID])
        assert request.headers[TRAN_ID].startswith("OPER000001M")
        assert request.headers["authorization"] == "Bearer tok"
        given = client.build_request(CATALOGUE["은행-001"], {"org_code": "ORG0000001"}, tran_id="X" * 25)
        assert given.headers[TRAN_ID] == "X" * 25
        assert "authorization" not in given.headers


class TestParse:
    def test_success_returns_the_validated_model(self) -> None:
        client = make_client()
        spec = CATALOGUE["통신-002"]
        result = client.parse(spec, json_response(200, EXAMPLES["통신-002"][1], {TRAN_ID: "T" * 25}))
        assert result.rsp_code == "00000"
        assert not result.up_to_date
        assert result.tran_id == "T" * 25
        assert isinstance(result.model, spec.response)
        assert result.model.bill_list[0].mgmt_id == "M000123"

    def test_up_to_date_has_no_model(self) -> None:
        client = make_client()
        result = client.parse(CATALOGUE["카드-001"], json_response(200, {"rsp_code": "00001", "rsp_msg": "UP"}))
        assert result.up_to_date
        assert result.model is None

    @pytest.mark.parametrize(
        ("status", "body", "code"),
        [
            (400, {"rsp_code": "40001", "rsp_msg": "bad"}, "40001"),
            (401, {"rsp_code": "40105", "rsp_msg": "asset"}, "40105"),
            (200, {"rsp_code": "40305", "rsp_msg": "not normal"}, "40305"),
            (400, {"error": "invalid_grant", "error_description": "expired"}, "invalid_grant"),
            (500, {"rsp_code": "50001", "rsp_msg": "down"}, "50001"),
        ],
    )
    def test_error_envelopes_raise(self, status: int, body: dict[str, str], code: str) -> None:
        client = make_client()
        with pytest.raises(ApiCallError) as caught:
            client.parse(CATALOGUE["카드-001"], json_response(status, body))
        assert caught.value.code == code
        assert caught.value.status_code == status

    @pytest.mark.parametrize(
        "body",
        [
            {**OK, "card_cnt": "1"},
            {**OK, "card_cnt": "1", "card_list": [{"card_id": "C1"}]},
            {**OK, "card_cnt": "x", "card_list": []},
        ],
    )
    def test_a_response_not_matching_the_model_is_50007(self, body: dict[str, Any]) -> None:
        client = make_client()
        with pytest.raises(ApiCallError) as caught:
            client.parse(CATALOGUE["카드-001"], json_response(200, body))
        assert caught.value.code == "50007"

    @pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b""])
    def test_a_non_object_is_50007(self, content: bytes) -> None:
        client = make_client()
        with pytest.raises(ApiCallError) as caught:
            client.parse(CATALOGUE["카드-001"], httpx.Response(200, content=content))
        assert caught.value.code == "50007"


class TestCall:
    async def test_call_sends_and_parses(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return json_response(200, EXAMPLES["카드-002"][1], {TRAN_ID: request.headers[TRAN_ID]})

        client = make_client(handler)
        result = await client.call(
            "카드-002", {"org_code": "ORG0000001", "card_id": "C-0001"}, token="t", api_type="user-refresh"
        )
        assert seen[0].url.path == "/v1/card/cards/C-0001"
        assert seen[0].headers[API_TYPE] == "user-refresh"
        assert result.tran_id == seen[0].headers[TRAN_ID]
        assert result.model.card_type == "01"
        await client.http.aclose()

    async def test_transport_failure_is_peer_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        client = make_client(handler)
        with pytest.raises(PeerUnavailable):
            await client.call("카드-003", {"org_code": "ORG0000001"})
        await client.http.aclose()

    async def test_pages_follow_next_page_and_send_search_timestamp_first_only(self) -> None:
        seen: list[dict[str, str]] = []
        card = EXAMPLES["카드-001"][1]["card_list"][0]

        def handler(request: httpx.Request) -> httpx.Response:
            params = dict(request.url.params)
            seen.append(params)
            body: dict[str, Any] = {**OK, "card_cnt": "1", "card_list": [card]}
            if "next_page" not in params:
                body["next_page"] = "page2"
                body["search_timestamp"] = "20240101000000"
            elif params["next_page"] == "page2":
                body["next_page"] = "page3"
            return json_response(200, body)

        client = make_client(handler)
        pages = [page async for page in client.pages("카드-001", {"org_code": "ORG0000001", "search_timestamp": "0"})]
        assert len(pages) == 3
        assert seen[0] == {"org_code": "ORG0000001", "search_timestamp": "0"}
        assert seen[1] == {"org_code": "ORG0000001", "next_page": "page2"}
        assert seen[2] == {"org_code": "ORG0000001", "next_page": "page3"}
        await client.http.aclose()

    async def test_pages_stop_on_up_to_date(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return json_response(200, {"rsp_code": "00001", "rsp_msg": "UP_TO_DATE"})

        client = make_client(handler)
        pages = [page async for page in client.pages("카드-001", {"org_code": "ORG0000001", "search_timestamp": "9"})]
        assert len(pages) == 1
        assert pages[0].up_to_date
        await client.http.aclose()

    async def test_pages_give_up_after_max_pages(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return json_response(200, {**OK, "next_page": "again", "card_cnt": "0", "card_list": []})

        client = make_client(handler)
        with pytest.raises(ApiCallError):
            async for _ in client.pages("카드-001", {"org_code": "ORG0000001"}, max_pages=3):
                pass
        await client.http.aclose()
