"""The attack suite's targets: providers run in-process (ASGITransport) on a fresh database of each dialect,
consents signed by person certificates of a test CA and checked by the "local" consent verifier, two operators
seeded into the registry, and two customers (the victim and the attacker) with assets in bank, card and
telecom.

Alice is the person whose consent the operator holds; Bob is someone else. Every "foreign" identifier below
belongs to Bob and really exists at the provider, so that a provider looking records up by identifier alone
(and not by the token's customer) would leak them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit.clock import now_kst, to_date, to_dtime, today_kst
from openmydata.kit.pki import CertificateAuthority
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.consent import ConsentAsset, TargetInfo, TransmissionRequest
from openmydata.standard.dataset import CustomerData, StoredRecord
from tests.security.attacks import ATTACKS
from tests.unit.provider.conftest import (
    ALICE,
    BOB,
    CA_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    OPERATOR,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
    account,
    deposit_transactions,
)

__all__ = [
    "ALICE",
    "BOB",
    "CA_CODE",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "OPERATOR",
    "OTHER_CLIENT_ID",
    "OTHER_CLIENT_SECRET",
    "OTHER_OPERATOR",
    "PROVIDER",
    "Harness",
]

SECTORS = ["bank", "card", "telecom"]

# Alice's assets (the consenting person) and Bob's (someone else's), per sector.
A_DEPOSIT, A_INVEST, A_LOAN, A_CARD, A_MGMT = "11012345678", "21012345678", "31012345678", "CARD-ALICE-1", "MGMT-ALICE1"
A_DEPOSIT_2 = "11098765432"  # a second deposit of Alice's, left out of listed consents
B_DEPOSIT, B_INVEST, B_LOAN, B_CARD, B_MGMT = "11055555555", "21055555555", "31055555555", "CARD-BOB-001", "MGMT-BOB001"
A_IRP, B_IRP = "71012345678", "71055555555"  # 개인형 IRP accounts (IRP-001…004, served under bank here)
A_PREPAID, B_PREPAID = "PP-ALICE-01", "PP-BOB-0001"  # prepaid cards (선불-001…004, card.prepaid)
BOB_MARK = "BOBSECRET"  # appears in Bob's customer-level records only
TRANSACTIONS = 30


def months_ago(months: int) -> str:
    today = today_kst()
    index = today.year * 12 + today.month - 1 - months
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def days_range(days: int) -> dict[str, str]:
    today = today_kst()
    return {"from_date": to_date(today - timedelta(days=days - 1)), "to_date": to_date(today)}


def months_range(months: int) -> dict[str, str]:
    return {"from_month": months_ago(months - 1), "to_month": months_ago(0)}


def _dated(api_id: str, key: str, count: int, payload: Callable[[int, str], dict[str, Any]]) -> list[StoredRecord]:
    start = now_kst() - timedelta(days=60)
    return [
        StoredRecord(api_id=api_id, key=key, payload=payload(index, to_dtime(start + timedelta(days=index))))
        for index in reversed(range(count))
    ]


def _bank(deposit: str, invest: str, loan: str, mark: str) -> list[StoredRecord]:
    transactions = deposit_transactions(deposit, TRANSACTIONS)
    for record in transactions:
        record.payload["trans_memo"] = f"{mark}메모"
    return [
        account(deposit, "1001", f"{mark}입출금"),
        account(invest, "2001", f"{mark}펀드"),
        account(loan, "3001", f"{mark}대출"),
        StoredRecord(
            api_id="은행-002",
            key=f"{deposit}|",
            payload={"saving_method": "01", "issue_date": "20200101", "currency_code": "KRW"},
        ),
        StoredRecord(
            api_id="은행-003",
            key=f"{deposit}|",
            payload={"currency_code": "KRW", "balance_amt": "1000", "withdrawable_amt": "1000", "offered_rate": "1.5"},
        ),
        *transactions,
        StoredRecord(
            api_id="은행-005",
            key=f"{invest}|",
            payload={"standard_fund_code": "KR5000000001", "paid_in_type": "01", "issue_date": "20200101"},
        ),
        StoredRecord(
            api_id="은행-006",
            key=f"{invest}|",
            payload={
                "currency_code": "KRW",
                "balance_amt": "1000",
                "eval_amt": "1100",
                "inv_principal": "1000",
                "fund_num": "10",
            },
        ),
        *_dated(
            "은행-007",
            f"{invest}|",
            3,
            lambda i, at: {
                "trans_dtime": at,
                "trans_no": f"I{i}",
                "trans_type": "01",
                "currency_code": "KRW",
                "base_amt": "1000",
                "trans_fund_num": "1",
                "trans_amt": "1000",
                "balance_amt": "1000",
            },
        ),
        StoredRecord(
            api_id="은행-008",
            key=f"{loan}|",
            payload={
                "issue_date": "20200101",
                "exp_date": "20300101",
                "last_offered_rate": "3.5",
                "repay_method": "01",
            },
        ),
        StoredRecord(api_id="은행-009", key=f"{loan}|", payload={"balance_amt": "900", "loan_principal": "1000"}),
        *_dated(
            "은행-010",
            f"{loan}|",
            3,
            lambda i, at: {
                "trans_dtime": at,
                "trans_no": f"L{i}",
                "trans_type": "01",
                "trans_amt": "100",
                "balance_amt": "900",
                "principal_amt": "90",
                "int_amt": "10",
                "int_cnt": 0,
                "int_list": [],
            },
        ),
    ]


def _irp(account_num: str, mark: str) -> list[StoredRecord]:
    key = f"{account_num}|"
    return [
        StoredRecord(
            api_id="IRP-001",
            payload={"prod_name": f"{mark}IRP", "account_num": account_num, "account_status": "01"},
        ),
        StoredRecord(
            api_id="IRP-002",
            key=key,
            payload={
                "accum_amt": "1000",
                "eval_amt": "1100",
                "employer_amt": "600",
                "employee_amt": "400",
                "issue_date": "20200101",
            },
        ),
        StoredRecord(
            api_id="IRP-003",
            key=key,
            payload={
                "irp_name": f"{mark}정기예금",
                "irp_type": "01",
                "eval_amt": "1100",
                "inv_principal": "1000",
                "open_date": "20240101",
            },
        ),
        *_dated(
            "IRP-004",
            key,
            3,
            lambda i, at: {"trans_dtime": at, "trans_no": f"R{i}", "trans_type": "01", "trans_amt": "100"},
        ),
    ]


def _card(card: str, mark: str) -> list[StoredRecord]:
    month = months_ago(1)
    approval = {"status": "01", "pay_type": "01", "approved_amt": "4500", "merchant_name": f"{mark}상점"}
    return [
        StoredRecord(
            api_id="카드-001",
            payload={
                "card_id": card,
                "card_num": "1234-****-****-5678",
                "card_name": f"{mark}카드",
                "card_member": "1",
            },
        ),
        StoredRecord(
            api_id="카드-002",
            key=card,
            payload={
                "card_type": "01",
                "is_trans_payable": "true",
                "is_cash_card": "false",
                "card_brand": "I01",
                "issue_date": "20200101",
            },
        ),
        StoredRecord(api_id="카드-003", payload={"point_name": f"{mark}포인트", "remain_point_amt": "100"}),
        StoredRecord(
            api_id="카드-004",
            payload={
                "seqno": f"{mark[:3]}1",
                "charge_amt": "100000",
                "charge_day": "15",
                "charge_month": month,
                "paid_out_date": f"{month}15",
                "card_type": "01",
            },
        ),
        StoredRecord(
            api_id="카드-006", payload={"seqno": f"{mark[:3]}1", "pay_due_date": f"{month}15", "pay_amt": "1"}
        ),
        *_dated(
            "카드-008", card, 3, lambda i, at: {"approved_num": f"{mark[:3]}{i}", "approved_dtime": at, **approval}
        ),
        *_dated(
            "카드-009",
            card,
            2,
            lambda i, at: {
                "approved_num": f"{mark[:3]}{i}",
                "approved_dtime": at,
                **approval,
                "country_code": "US",
                "currency_code": "USD",
            },
        ),
        StoredRecord(
            api_id="카드-011",
            payload={
                "loan_dtime": to_dtime(now_kst()),
                "loan_amt": "777",
                "pay_due_date": f"{month}15",
                "int_rate": "1",
            },
        ),
    ]


def _prepaid(pp_id: str, mark: str) -> list[StoredRecord]:
    return [
        StoredRecord(api_id="선불-001", payload={"pp_id": pp_id, "pp_name": f"{mark}선불카드"}),
        StoredRecord(
            api_id="선불-002",
            key=pp_id,
            payload={
                "total_balance_amt": "5000",
                "charge_balance_amt": "5000",
                "reserve_balance_amt": "0",
                "reserve_due_amt": "0",
                "exp_due_amt": "0",
                "limit_amt": "2000000",
            },
        ),
        *_dated(
            "선불-003",
            pp_id,
            3,
            lambda i, at: {
                "trans_type": "01",
                "trans_dtime": at,
                "trans_no": f"P{i}",
                "trans_amt": "1000",
                "balance_amt": f"{(i + 1) * 1000}",
                "trans_org_nm": f"{mark}은행",
            },
        ),
        *_dated(
            "선불-004",
            pp_id,
            2,
            lambda i, at: {
                "approved_num": f"{mark[:3]}P{i}",
                "approved_dtime": at,
                "status": "01",
                "pay_type": "01",
                "merchant_name": f"{mark}가게",
                "approved_amt": "500",
            },
        ),
    ]


def _telecom(mgmt: str, mark: str) -> list[StoredRecord]:
    month = months_ago(1)
    return [
        StoredRecord(
            api_id="통신-001", payload={"mgmt_id": mgmt, "telecom_num": f"{mark}-1234", "type": "01", "status": "01"}
        ),
        StoredRecord(
            api_id="통신-002",
            period=month,
            payload={"mgmt_id": mgmt, "charge_amt": "55000", "charge_date": f"{month}25"},
        ),
        StoredRecord(
            api_id="통신-003", key=mgmt, payload={"trans_month": month, "paid_amt": "55000", "pay_method": mark[:2]}
        ),
        *_dated("통신-004", mgmt, 3, lambda i, at: {"trans_date": at[:8], "trans_amt": f"{i + 1}00"}),
    ]


def victim() -> CustomerData:
    return CustomerData(
        ci=ALICE,
        name="김앨리스",
        birth_date="19900101",
        phone="+821012345678",
        reg_date="20200101",
        records=[
            *_bank(A_DEPOSIT, A_INVEST, A_LOAN, "ALICE"),
            *_irp(A_IRP, "ALICE"),
            account(A_DEPOSIT_2, "1002", "ALICE정기예금"),
            StoredRecord(
                api_id="은행-002",
                key=f"{A_DEPOSIT_2}|",
                payload={"saving_method": "02", "issue_date": "20210101", "currency_code": "KRW"},
            ),
            *_card(A_CARD, "ALICE"),
            *_prepaid(A_PREPAID, "ALICE"),
            *_telecom(A_MGMT, "ALICE"),
        ],
    )


def stranger() -> CustomerData:
    return CustomerData(
        ci=BOB,
        name="박밥",
        birth_date="19850505",
        phone="+821099998888",
        reg_date="20210101",
        records=[
            *_bank(B_DEPOSIT, B_INVEST, B_LOAN, BOB_MARK),
            *_irp(B_IRP, BOB_MARK),
            *_card(B_CARD, BOB_MARK),
            *_prepaid(B_PREPAID, BOB_MARK),
            *_telecom(B_MGMT, BOB_MARK),
        ],
    )


ALICE_ASSETS = {"bank": (A_DEPOSIT, A_INVEST, A_LOAN), "card": (A_CARD,), "telecom": (A_MGMT,)}
BOB_ASSET_BY_SCOPE = {
    "bank.deposit": B_DEPOSIT,
    "bank.invest": B_INVEST,
    "bank.loan": B_LOAN,
    "bank.irp": B_IRP,
    "card.card": B_CARD,
    "card.prepaid": B_PREPAID,
    "telecom.mgmt": B_MGMT,
}
ALICE_ASSET_BY_SCOPE = {
    "bank.deposit": A_DEPOSIT,
    "bank.invest": A_INVEST,
    "bank.loan": A_LOAN,
    "bank.irp": A_IRP,
    "card.card": A_CARD,
    "card.prepaid": A_PREPAID,
    "telecom.mgmt": A_MGMT,
}


def all_scopes(industries: list[str]) -> list[str]:
    return [scope for industry in industries for scope in CATALOGUE.scopes(industry)]


def consent_for(harness: Harness, scopes: list[str], *, listed: bool = False, **kwargs: Any) -> TransmissionRequest:
    """A consent for `scopes`: every asset (`all_asset`) or, with `listed`, Alice's own assets by name."""
    targets = []
    for scope in scopes:
        if listed and scope in ALICE_ASSET_BY_SCOPE:
            targets.append(TargetInfo(scope=scope, asset_list=[ConsentAsset(asset=ALICE_ASSET_BY_SCOPE[scope])]))
        else:
            targets.append(TargetInfo(scope=scope))
    return harness.consent(targets, **kwargs)


def asset_request(api_id: str, asset: str) -> dict[str, str]:
    """A well-formed request to an asset-scoped API naming `asset`."""
    spec = CATALOGUE[api_id]
    request: dict[str, str] = {spec.asset_field or "": asset}
    if spec.range_fields is not None:
        request.update(months_range(3) if spec.range_unit == "month" else days_range(90))
    return request


ASSET_APIS = [
    spec.id for industry in SECTORS for spec in CATALOGUE.info_apis([industry]) if spec.asset_field is not None
]


@pytest.fixture(autouse=True)
def _registered_attack(request: pytest.FixtureRequest) -> None:
    """Every attack test names a registered attack; a stray test in this suite is an error."""
    marker = request.node.get_closest_marker("attack")
    if marker is not None:
        assert marker.args[0] in ATTACKS, f"{marker.args[0]} is not in ATTACKS"


@pytest.fixture(scope="session")
def security_ca() -> CertificateAuthority:
    return CertificateAuthority.create("openmydata security-suite CA")


@pytest.fixture
def trust_file(tmp_path: Path, security_ca: CertificateAuthority) -> Path:
    path = tmp_path / "trust.pem"
    path.write_bytes(security_ca.certificate_pem())
    return path


ProviderFactory = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def make_provider(db_url: str, trust_file: Path, security_ca: CertificateAuthority) -> ProviderFactory:
    """`async with make_provider(industries=[...], **settings) as harness:` a provider with Alice and Bob."""

    @asynccontextmanager
    async def factory(industries: list[str] | None = None, **overrides: Any) -> AsyncIterator[Harness]:
        industries = industries or SECTORS
        settings = ProviderSettings(
            insecure_plain_http=True,
            **{
                "org_code": PROVIDER,
                "industries": industries,
                "database_url": db_url,
                "portal_url": "",
                "ca_code": CA_CODE,
                "token_secret": "security-token-secret",
                "cursor_secret": "security-cursor-secret",
                "consent_verifier": "local",
                "consent_trust_roots_file": trust_file,
                **overrides,
            },
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            db = app.state.provider.db
            await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
            await register_service(
                db, client_id=OTHER_CLIENT_ID, client_secret=OTHER_CLIENT_SECRET, org_code=OTHER_OPERATOR
            )
            customers = [victim(), stranger()]
            for customer in customers:
                customer.records = [
                    record for record in customer.records if CATALOGUE[record.api_id].sector.value in industries
                ]
            await import_customers(db, customers)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                yield Harness(app=app, http=http, db=db, ca=security_ca)

    return factory


@pytest.fixture
async def target(make_provider: ProviderFactory) -> AsyncIterator[Harness]:
    """A provider serving bank, card and telecom."""
    async with make_provider() as harness:
        yield harness


@pytest.fixture
async def bank_only(make_provider: ProviderFactory) -> AsyncIterator[Harness]:
    async with make_provider(["bank"]) as harness:
        yield harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "attack(name): the test carries out the named attack of ATTACKS")
