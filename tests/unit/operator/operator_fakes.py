"""In-memory stand-ins for the operator's peers (portal, certauth, one bank provider), served to the operator
through an httpx.MockTransport, so the operator's flows can be tested without the other participants."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from openmydata.operator.settings import OperatorSettings

OPERATOR = "OPERATOR01"
BANK = "BANK000001"
BANK2 = "BANK000002"
CA = "CERTAUTH01"
CI = "Q0lfT0ZfS0lNX0NIVUxTT09fMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="

ACCOUNTS = [
    {
        "account_num": "1002123456789",
        "is_consent": "true",
        "prod_name": "자유입출금 통장",
        "account_type": "1001",
        "account_status": "01",
    },
    {
        "account_num": "1002999888777",
        "is_consent": "true",
        "seqno": "1",
        "prod_name": "정기예금",
        "account_type": "1003",
        "account_status": "01",
    },
    {
        "account_num": "3170111222333",
        "is_consent": "true",
        "prod_name": "직장인 신용대출",
        "account_type": "3170",
        "account_status": "01",
    },
    {
        "account_num": "2001555444333",
        "is_consent": "false",
        "prod_name": "적립식 펀드",
        "account_type": "2001",
        "account_status": "01",
    },
]

OK = {"rsp_code": "00000", "rsp_msg": "성공"}
STAMP = "20261120090000"


def settings_for(db_url: str, key_file: Path | None = None) -> OperatorSettings:
    # beside the key file, the test's own credit model and product catalogue paths (absent unless a test writes
    # them), never the working directory's .openmydata/
    own = {}
    if key_file is not None:
        own = {
            "credit_model_path": str(key_file.parent / "insights" / "credit-model.json"),
            "product_catalogue_path": str(key_file.parent / "products.json"),
        }
    return OperatorSettings(
        **own,
        insecure_plain_http=True,
        database_url=db_url,
        key_file=key_file,
        org_code=OPERATOR,
        org_name="테스트마이데이터",
        portal_url="http://portal.test",
        certauth_url="http://ca.test",
        ca_code=CA,
        support_client_id="support",
        support_client_secret="supportsecret",
        ca_client_id="caclient",
        ca_client_secret="casecret",
        service_client_id="service",
        service_client_secret="servicesecret",
        session_secret="test-session-secret",
        # collection jobs and retries on a test's time scale
        jobs_poll_interval_s=0.05,
        jobs_backoff_base_s=0.05,
        jobs_backoff_max_s=0.5,
        retry_base_s=0.01,
        retry_max_s=0.05,
        schedule_interval_s=0,
    )


def _json(body: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


@dataclass
class Calls:
    """What the bank received: (path, body or query, x-api-type)."""

    items: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)

    def to(self, path: str) -> list[dict[str, Any]]:
        return [body for called, body, _ in self.items if called == path]


class FakeEcosystem:
    """Portal, certauth and two banks (the second one answers every info call with 50005)."""

    def __init__(self) -> None:
        self.identity_status = "01"
        self.sign_status = "01"
        self.sign_requests: list[dict[str, Any]] = []
        self.bank_calls = Calls()
        self.revoked: list[dict[str, str]] = []
        self.tokens_issued: list[dict[str, str]] = []
        self.bank2_down = False
        self.identity_requests = 0
        self.bank_windows: list[str] = []  # the first bank's scheduled-transmission windows (지원-002 np_time_list)

    # routing

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host == "portal.test":
            return self._portal(request)
        if host == "ca.test":
            return self._certauth(request)
        if host == "bank.test":
            return self._bank(request)
        if host == "bank2.test":
            if self.bank2_down:
                raise httpx.ConnectError("bank2 is down", request=request)
            return self._bank(request)
        return _json({"rsp_code": "40401", "rsp_msg": "no such host"}, 404)

    @staticmethod
    def _form(request: httpx.Request) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}

    def _portal(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/mgmts/oauth/2.0/token":
            return _json(
                {"token_type": "Bearer", "access_token": "portal-token", "expires_in": "3600", "scope": "manage"}
            )
        if request.url.path == "/v1/mgmts/orgs":
            assert request.headers.get("authorization") == "Bearer portal-token"
            orgs = [
                {
                    "op_type": "I",
                    "org_code": BANK,
                    "org_type": "01",
                    "org_name": "가나은행",
                    "industry": "bank",
                    "domain": "http://bank.test",
                    "auth_type": "01",
                },
                {
                    "op_type": "I",
                    "org_code": BANK2,
                    "org_type": "01",
                    "org_name": "다라은행",
                    "industry": "bank",
                    "domain": "http://bank2.test",
                    "auth_type": "01",
                },
                {
                    "op_type": "I",
                    "org_code": OPERATOR,
                    "org_type": "03",
                    "org_name": "테스트마이데이터",
                    "industry": "bank",
                    "domain": "http://operator.test",
                },
            ]
            if self.bank_windows:
                orgs[0] = {
                    **orgs[0],
                    "np_time_cnt": str(len(self.bank_windows)),
                    "np_time_list": [{"np_time": window} for window in self.bank_windows],
                }
            return _json({**OK, "search_timestamp": STAMP, "org_cnt": str(len(orgs)), "org_list": orgs})
        return _json({"rsp_code": "40401", "rsp_msg": "not found"}, 404)

    def _certauth(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/2.0/token":
            return _json({"token_type": "Bearer", "access_token": "ca-token", "expires_in": "3600", "scope": "ca"})
        assert request.headers.get("authorization") == "Bearer ca-token"
        body = json.loads(request.content or b"{}")
        if path == "/v1/ca/identity_request":
            self.identity_requests += 1
            cert_tx_id = f"IDTX{self.identity_requests:04d}"
            return _json({**OK, "cert_tx_id": cert_tx_id, "approval_url": f"http://ca.test/approve/{cert_tx_id}"})
        if path == "/v1/ca/identity_result":
            if self.identity_status != "02":
                return _json({**OK, "sign_status": self.identity_status})
            return _json(
                {
                    **OK,
                    "sign_status": "02",
                    "user_ci": CI,
                    "real_name": "김철수",
                    "birth_date": "19900101",
                    "phone_num": "01012345678",
                }
            )
        if path == "/v1/ca/sign_request":
            self.sign_requests.append(body)
            cert_tx_id = f"SIGNTX{len(self.sign_requests):04d}"
            return _json({**OK, "cert_tx_id": cert_tx_id, "approval_url": f"http://ca.test/approve/{cert_tx_id}"})
        if path == "/v1/ca/sign_result":
            if self.sign_status != "02":
                return _json({**OK, "sign_status": self.sign_status})
            consents = self.sign_requests[-1]["consent_list"]
            signed = [
                {
                    "tx_id": item["tx_id"],
                    "signed_consent": base64.urlsafe_b64encode(item["consent"].encode()).decode().rstrip("="),
                    "signed_consent_len": "1",
                }
                for item in consents
            ]
            return _json(
                {**OK, "sign_status": "02", "signed_consent_cnt": str(len(signed)), "signed_consent_list": signed}
            )
        return _json({"rsp_code": "40401", "rsp_msg": "not found"}, 404)

    def _bank(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/2.0/token":
            form = self._form(request)
            self.tokens_issued.append(form)
            if form.get("grant_type") == "refresh_token":
                assert form["refresh_token"] == f"rt-{request.url.host}"
                return _json(
                    {"token_type": "Bearer", "access_token": f"at-{request.url.host}", "expires_in": "7776000"}
                )
            return _json(
                {
                    "tx_id": form["tx_id"],
                    "token_type": "Bearer",
                    "access_token": f"at-{request.url.host}",
                    "expires_in": "7776000",
                    "refresh_token": f"rt-{request.url.host}",
                    "refresh_token_expires_in": "31536000",
                    "scope": "bank.list bank.deposit bank.invest bank.loan",
                }
            )
        if path == "/oauth/2.0/revoke":
            self.revoked.append(self._form(request))
            return _json(OK)
        if request.method == "GET":
            body: dict[str, Any] = dict(request.url.params)
        else:
            body = json.loads(request.content or b"{}")
        self.bank_calls.items.append((path, body, request.headers.get("x-api-type")))
        if request.headers.get("authorization") != f"Bearer at-{request.url.host}":
            return _json({"rsp_code": "40101", "rsp_msg": "invalid token"}, 401)
        if request.url.host == "bank2.test":
            return _json({"rsp_code": "50005", "rsp_msg": "unavailable"}, 500)
        handler = {
            "/v1/bank/accounts": self._accounts,
            "/v1/bank/accounts/deposit/basic": self._deposit_basic,
            "/v1/bank/accounts/deposit/detail": self._deposit_detail,
            "/v1/bank/accounts/deposit/transactions": self._deposit_transactions,
            "/v1/bank/accounts/loan/basic": self._loan_basic,
            "/v1/bank/accounts/loan/detail": self._loan_detail,
            "/v1/bank/accounts/loan/transactions": self._loan_transactions,
            "/v1/bank/irps": self._irps,
        }.get(path)
        if handler is None:
            return _json({"rsp_code": "40401", "rsp_msg": "not found"}, 404)
        return _json(handler(body))

    @staticmethod
    def _stamped(body: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        if body.get("search_timestamp") == STAMP:
            return {"rsp_code": "00001", "rsp_msg": "up to date"}
        return {**OK, "search_timestamp": STAMP, **payload}

    def _accounts(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._stamped(body, {"account_cnt": str(len(ACCOUNTS)), "account_list": ACCOUNTS})

    def _irps(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._stamped(body, {"irp_cnt": "0", "irp_list": []})  # the customer holds no IRP here

    def _deposit_basic(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._stamped(body, {"saving_method": "01", "issue_date": "20200101", "currency_code": "KRW"})

    def _deposit_detail(self, body: dict[str, Any]) -> dict[str, Any]:
        balance = "1500000" if body["account_num"] == "1002123456789" else "10000000"
        return self._stamped(
            body,
            {
                "detail_cnt": "1",
                "detail_list": [
                    {"currency_code": "KRW", "balance_amt": balance, "withdrawable_amt": balance, "offered_rate": "0.1"}
                ],
            },
        )

    def _deposit_transactions(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["account_num"] != "1002123456789":
            return {**OK, "trans_cnt": "0", "trans_list": []}
        if body.get("next_page") == "page2":
            return {
                **OK,
                "trans_cnt": "1",
                "trans_list": [
                    {
                        "trans_dtime": "20261101120000",
                        "trans_no": "T3",
                        "trans_type": "01",
                        "trans_class": "입금",
                        "currency_code": "KRW",
                        "trans_amt": "3000000",
                        "balance_amt": "1500000",
                    }
                ],
            }
        return {
            **OK,
            "next_page": "page2",
            "trans_cnt": "2",
            "trans_list": [
                {
                    "trans_dtime": "20261115093000",
                    "trans_no": "T1",
                    "trans_type": "02",
                    "trans_class": "출금",
                    "currency_code": "KRW",
                    "trans_amt": "45000",
                    "balance_amt": "1455000",
                },
                {
                    "trans_dtime": "20261110180000",
                    "trans_no": "T2",
                    "trans_type": "02",
                    "trans_class": "출금",
                    "currency_code": "KRW",
                    "trans_amt": "1500000",
                    "balance_amt": "1500000",
                },
            ],
        }

    def _loan_basic(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._stamped(
            body, {"issue_date": "20250101", "exp_date": "20280101", "last_offered_rate": "4.5", "repay_method": "01"}
        )

    def _loan_detail(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._stamped(
            body, {"balance_amt": "25000000", "loan_principal": "30000000", "next_repay_date": "20261225"}
        )

    def _loan_transactions(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            **OK,
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_dtime": "20261025",
                    "trans_no": "L1",
                    "trans_type": "01",
                    "trans_amt": "600000",
                    "balance_amt": "25000000",
                    "principal_amt": "500000",
                    "int_amt": "100000",
                    "int_cnt": "1",
                    "int_list": [
                        {"int_start_date": "20260925", "int_end_date": "20261024", "int_rate": "4.5", "int_type": "02"}
                    ],
                }
            ],
        }
