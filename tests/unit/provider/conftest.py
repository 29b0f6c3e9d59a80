"""A provider app on a fresh database (both dialects), a test CA whose person certificates sign consents
(verified by the "local" consent verifier), an operator service seeded into the registry, and customers
imported through the provider's own import path."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit import cms
from openmydata.kit.clock import now_kst, to_date, to_dtime, today_kst
from openmydata.kit.db import Database
from openmydata.kit.ids import urlsafe_nonce
from openmydata.kit.pki import CertificateAuthority, PrivateKey
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.client import StandardClient
from openmydata.standard.consent import TargetInfo, TransmissionRequest, encode_signed_content
from openmydata.standard.dataset import CustomerData, StoredRecord
from openmydata.standard.formats import Party, new_tran_id, new_tx_id

PROVIDER = "BANK000001"
OPERATOR = "OPER000001"
OTHER_OPERATOR = "OPER000002"
CA_CODE = "CERTAUTH01"
CLIENT_ID = "operatorservice01"
CLIENT_SECRET = "operatorsecret01"
OTHER_CLIENT_ID = "otherservice01"
OTHER_CLIENT_SECRET = "othersecret01"

DEPOSIT = "11012345678"
DEPOSIT_2 = "11098765432"
LOAN = "31012345678"
STRANGER_ACCOUNT = "11055555555"
TRANSACTIONS = 1203


def make_ci(seed: str) -> str:
    return base64.b64encode(hashlib.sha512(seed.encode()).digest()).decode()


ALICE = make_ci("alice")
BOB = make_ci("bob")
NOBODY = make_ci("nobody")


def account(num: str, account_type: str, name: str) -> StoredRecord:
    return StoredRecord(
        api_id="은행-001",
        payload={
            "account_num": num,
            "prod_name": name,
            "account_type": account_type,
            "account_status": "01",
            "is_minus": "false",
            "is_foreign_deposit": "false",
        },
    )


def deposit_transactions(num: str, count: int) -> list[StoredRecord]:
    """`count` transactions over the last 300 days, listed newest first (the importer orders them)."""
    start = now_kst() - timedelta(days=300)
    records = []
    for index in reversed(range(count)):
        moment = start + timedelta(minutes=index * 350)
        records.append(
            StoredRecord(
                api_id="은행-004",
                key=f"{num}|",
                payload={
                    "trans_dtime": to_dtime(moment),
                    "trans_no": f"T{index:06d}",
                    "trans_type": "01",
                    "trans_class": "입금",
                    "currency_code": "KRW",
                    "trans_amt": "1000.5",
                    "balance_amt": str(10_000 + index),
                    "trans_memo": "월급",
                },
            )
        )
    return records


def alice() -> CustomerData:
    return CustomerData(
        ci=ALICE,
        name="김앨리스",
        birth_date="19900101",
        phone="+821012345678",
        reg_date="20200101",
        records=[
            account(DEPOSIT, "1001", "자유입출금"),
            account(DEPOSIT_2, "1002", "정기예금"),
            account(LOAN, "3001", "신용대출"),
            StoredRecord(
                api_id="은행-002",
                key=f"{DEPOSIT}|",
                payload={"saving_method": "01", "issue_date": "20200101", "currency_code": "KRW"},
            ),
            StoredRecord(
                api_id="은행-002",
                key=f"{DEPOSIT_2}|",
                payload={"saving_method": "02", "issue_date": "20210101", "currency_code": "KRW"},
            ),
            *deposit_transactions(DEPOSIT, TRANSACTIONS),
        ],
    )


def bob() -> CustomerData:
    return CustomerData(
        ci=BOB,
        name="박밥",
        birth_date="19850505",
        phone="+821099998888",
        records=[account(STRANGER_ACCOUNT, "1001", "자유입출금")],
    )


@dataclass
class Person:
    ci: str
    key: PrivateKey
    certificate: Any


@dataclass
class Harness:
    app: Any
    http: httpx.AsyncClient
    db: Database
    ca: CertificateAuthority
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def client(self) -> StandardClient:
        return StandardClient(self.http, "http://test", org_code=OPERATOR, party=Party.OPERATOR, peer="provider")

    def person(self, ci: str) -> Person:
        if ci not in self.people:
            key, certificate = self.ca.issue_person(ci)
            self.people[ci] = Person(ci, key, certificate)
        return self.people[ci]

    def consent(
        self,
        targets: list[TargetInfo] | None = None,
        *,
        snd: str = PROVIDER,
        rcv: str = OPERATOR,
        trans_memo: bool = False,
    ) -> TransmissionRequest:
        return TransmissionRequest(
            snd_org_code=snd,
            rcv_org_code=rcv,
            end_date=to_dtime(now_kst() + timedelta(days=300)),
            purpose="자산 조회",
            holding_period=to_dtime(now_kst() + timedelta(days=300)),
            target_info=targets or [TargetInfo(scope="bank.list"), TargetInfo(scope="bank.deposit")],
            is_consent_trans_memo=trans_memo,
        )

    def grant_form(
        self,
        ci: str,
        consent: TransmissionRequest,
        *,
        nonce: str,
        signer: str | None = None,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        operator: str = OPERATOR,
    ) -> dict[str, str]:
        person = self.person(signer or ci)
        der = cms.sign(encode_signed_content(consent, nonce), person.key, person.certificate)
        password = base64.urlsafe_b64encode(der).rstrip(b"=").decode()
        return {
            "tx_id": new_tx_id(operator, PROVIDER, CA_CODE),
            "org_code": PROVIDER,
            "grant_type": "password",
            "client_id": client_id,
            "client_secret": client_secret,
            "ca_code": CA_CODE,
            "username": ci,
            "request_type": "1",
            "password_len": str(len(password)),
            "password": password,
            "auth_type": "1",
            "consent_type": "0",
            "consent_nonce": nonce,
            "cert_tx_id": "CERTTX" + hashlib.sha256(nonce.encode()).hexdigest()[:20],
        }

    async def post_token(self, form: Mapping[str, str]) -> httpx.Response:
        return await self.http.post(
            "/oauth/2.0/token", data=form, headers={"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
        )

    async def grant(self, ci: str = ALICE, consent: TransmissionRequest | None = None, **kwargs: Any) -> dict[str, Any]:
        nonce = kwargs.pop("nonce", None) or urlsafe_nonce()
        response = await self.post_token(self.grant_form(ci, consent or self.consent(), nonce=nonce, **kwargs))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def call(
        self,
        api_id: str,
        request: Mapping[str, Any],
        *,
        token: str | None,
        api_type: str | None = "user-consent",
        tran_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        client = self.client
        spec = client.catalogue[api_id]
        http_request = client.build_request(
            spec,
            {"org_code": PROVIDER, **request},
            token=token,
            api_type=api_type,
            tran_id=tran_id,
            headers=headers,
            path_params=path_params,
        )
        return await self.http.send(http_request)


def history_range(days: int = 365) -> dict[str, str]:
    today = today_kst()
    return {"from_date": to_date(today - timedelta(days=days - 1)), "to_date": to_date(today)}


@pytest.fixture(scope="session")
def test_ca() -> CertificateAuthority:
    return CertificateAuthority.create("openmydata test CA")


@pytest.fixture
def trust_file(tmp_path: Path, test_ca: CertificateAuthority) -> Path:
    path = tmp_path / "trust.pem"
    path.write_bytes(test_ca.certificate_pem())
    return path


@pytest.fixture
def provider_settings(db_url: str, trust_file: Path) -> ProviderSettings:
    return ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["bank"],
        database_url=db_url,
        portal_url="",
        ca_code=CA_CODE,
        token_secret="test-token-secret",
        cursor_secret="test-cursor-secret",
        consent_verifier="local",
        consent_trust_roots_file=trust_file,
    )


@pytest.fixture
async def harness(provider_settings: ProviderSettings, test_ca: CertificateAuthority) -> AsyncIterator[Harness]:
    app = create_app(provider_settings)
    async with app.router.lifespan_context(app):
        db: Database = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await register_service(
            db, client_id=OTHER_CLIENT_ID, client_secret=OTHER_CLIENT_SECRET, org_code=OTHER_OPERATOR
        )
        await import_customers(db, [alice(), bob()])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)
