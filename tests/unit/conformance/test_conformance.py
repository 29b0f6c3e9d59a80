"""The conformance checker against the project's own provider, in process.

The provider serves bank, card and telecom to one customer whose data (from the sandbox) exercises every
catalogued API of the three sectors; the consent leaves one card out, so 40105 is checked too. The checker must
find nothing wrong with it beyond the known findings (`KNOWN_FINDINGS`). Then small ASGI middlewares break one
thing each (a required field, the x-api-tran-id echo, the token check, a count field, the paging) and the checker
must report exactly that.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.conformance import Check, ConformanceReport, checks, render_html, run_conformance, write_report
from openmydata.kit import cms
from openmydata.kit.clock import now_kst, to_dtime, today_kst
from openmydata.kit.ids import urlsafe_nonce
from openmydata.kit.pki import CertificateAuthority
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.consent import ConsentAsset, TargetInfo, TransmissionRequest, encode_signed_content
from openmydata.standard.dataset import CustomerData, StoredRecord
from openmydata.standard.formats import Party, new_tran_id, new_tx_id

PROVIDER = "PROVCONF01"
OPERATOR = "OPERCONF01"
CA_CODE = "CERTAUTH01"
CLIENT_ID = "conformanceservice01"
CLIENT_SECRET = "conformancesecret01"
ALICE = base64.b64encode(hashlib.sha512(b"conformance-alice").digest()).decode()
BOB = base64.b64encode(hashlib.sha512(b"conformance-bob").digest()).decode()
SECTORS = ("bank", "card", "telecom")
SEED = 20240917
PEOPLE = 400
BASE_URL = "http://test"

# What the checker reports against the project's provider: nothing (each known non-conformance is fixed in the
# provider rather than listed here).
KNOWN_FINDINGS: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class Sample:
    customer: CustomerData
    consented_cards: tuple[str, ...]
    left_out_card: str


def _bundles(customer: CustomerData) -> dict[str, list[StoredRecord]]:
    """Per asset of the customer: its asset-list entry and every record keyed by it."""
    bundles: dict[str, list[StoredRecord]] = {}
    for record in customer.records:
        spec = CATALOGUE[record.api_id]
        if spec.kind.value == "asset_list":
            bundles[str(record.payload[spec.asset_id_field or ""])] = [record]
    for record in customer.records:
        owner = record.key.split("|")[0]  # asset-list entries have the key "", never an asset
        if owner in bundles:
            bundles[owner].append(record)
    return bundles


def _customer_level(sector: str, customer: CustomerData, api_id: str) -> list[StoredRecord]:
    """The customer's records of a customer-level API and of the APIs selected by its records."""
    dependents = {api_id} | {
        spec.id for spec in CATALOGUE.info_apis([sector]) if spec.source and spec.source.api_id == api_id
    }
    return [r for r in customer.records if r.api_id in dependents]


def sector_records(sector: str, people: list[Any]) -> tuple[list[StoredRecord], list[StoredRecord]]:
    """(records reaching every API of the sector, one more asset bundle of another customer): the first sandbox
    customer's records, completed from later customers with whole asset bundles or whole customer-level APIs."""
    wanted = {spec.id for spec in CATALOGUE.info_apis([sector])}
    customers = generate_customers(people, sector=sector, org_code=PROVIDER, seed=SEED, as_of=today_kst())  # type: ignore[arg-type]
    records = list(next(customers).records)
    for donor in customers:
        have = {r.api_id for r in records}
        if have >= wanted:
            return records, next(iter(_bundles(donor).values()))
        for bundle in _bundles(donor).values():
            if {r.api_id for r in bundle} - have:
                records += bundle
        for api_id in sorted(wanted - have):
            spec = CATALOGUE[api_id]
            if spec.source is None and spec.kind.value != "asset_list" and not any(r.api_id == api_id for r in records):
                records += _customer_level(sector, donor, api_id)
    raise AssertionError(f"the sandbox customers do not reach every {sector} API")


@pytest.fixture(scope="session")
def sample() -> Sample:
    """One customer whose records reach every API of the three sectors, with one more card left out of the
    consent."""
    people = generate_people(PEOPLE, SEED, today_kst())
    records: list[StoredRecord] = []
    consented: tuple[str, ...] = ()
    left_out = ""
    for sector in SECTORS:
        complete, extra = sector_records(sector, people)
        records += complete
        if sector == "card":
            # the cards (카드-001) and the prepaid cards (선불-001, card.prepaid) of the customer
            consented = tuple(
                str(r.payload[CATALOGUE[r.api_id].asset_id_field or ""])
                for r in complete
                if r.api_id in {"카드-001", "선불-001"}
            )
            left_out = str(extra[0].payload["card_id"])
            records += extra
    customer = CustomerData(
        ci=ALICE, name="김적합", birth_date="19900101", phone="+821012345678", reg_date="20200101", records=records
    )
    return Sample(customer, consented, left_out)


def consent(sample: Sample, sectors: tuple[str, ...] = SECTORS) -> TransmissionRequest:
    """Every scope of the three sectors; the card scopes name every card but the last one."""
    targets = []
    for sector in sectors:
        for scope in CATALOGUE.scopes(sector):
            if sector == "card":
                targets.append(
                    TargetInfo(scope=scope, asset_list=[ConsentAsset(asset=c) for c in sample.consented_cards])
                )
            else:
                targets.append(TargetInfo(scope=scope))
    end = to_dtime(now_kst() + timedelta(days=300))
    return TransmissionRequest(
        snd_org_code=PROVIDER,
        rcv_org_code=OPERATOR,
        end_date=end,
        purpose="기능적합성 점검",
        holding_period=end,
        target_info=targets,
        is_consent_trans_memo=True,
        is_consent_merchant_name_regno=True,
        is_consent_trans_category=True,
    )


async def grant(http: httpx.AsyncClient, ca: CertificateAuthority, terms: TransmissionRequest) -> str:
    """통합인증-002 for ALICE: the consent signed with a person certificate of the test CA; the access token."""
    key, certificate = ca.issue_person(ALICE)
    nonce = urlsafe_nonce()
    der = cms.sign(encode_signed_content(terms, nonce), key, certificate)
    password = base64.urlsafe_b64encode(der).rstrip(b"=").decode()
    form = {
        "tx_id": new_tx_id(OPERATOR, PROVIDER, CA_CODE),
        "org_code": PROVIDER,
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "ca_code": CA_CODE,
        "username": ALICE,
        "request_type": "1",
        "password_len": str(len(password)),
        "password": password,
        "auth_type": "1",
        "consent_type": "0",
        "consent_nonce": nonce,
        "cert_tx_id": "CERTTX" + hashlib.sha256(nonce.encode()).hexdigest()[:20],
    }
    response = await http.post(
        "/oauth/2.0/token", data=form, headers={"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def other_customer() -> CustomerData:
    """Someone else's deposit account is in the provider's database too."""
    account = {
        "account_num": "11055555555",
        "prod_name": "자유입출금",
        "account_type": "1001",
        "account_status": "01",
        "is_minus": "false",
        "is_foreign_deposit": "false",
    }
    return CustomerData(
        ci=BOB,
        name="박밥",
        birth_date="19850505",
        phone="+821099998888",
        records=[StoredRecord(api_id="은행-001", payload=account)],
    )


@dataclass
class Provider:
    http: httpx.AsyncClient
    token: str

    async def check(self, sectors: tuple[str, ...] = SECTORS, **kwargs: Any) -> ConformanceReport:
        return await run_conformance(
            self.http,
            base_url=BASE_URL,
            org_code=PROVIDER,
            token=self.token,
            sectors=sectors,
            operator_org_code=OPERATOR,
            **kwargs,
        )


@pytest.fixture(scope="session")
def conformance_ca() -> CertificateAuthority:
    return CertificateAuthority.create("openmydata conformance test CA")


@asynccontextmanager
async def start_provider(
    database_url: str,
    tmp_path: Path,
    ca: CertificateAuthority,
    sample: Sample,
    wrap: Callable[[Any], Any] | None = None,
    sectors: tuple[str, ...] = SECTORS,
) -> AsyncIterator[Provider]:
    trust = tmp_path / "trust.pem"
    trust.write_bytes(ca.certificate_pem())
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=list(sectors),
        database_url=database_url,
        token_secret="conformance-token-secret",
        cursor_secret="conformance-cursor-secret",
        consent_verifier="local",
        consent_trust_roots_file=trust,
        ca_code=CA_CODE,
        rate_limit_per_minute=100_000,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        records = [r for r in sample.customer.records if CATALOGUE[r.api_id].sector.value in sectors]
        await import_customers(db, [sample.customer.model_copy(update={"records": records}), other_customer()])
        served = wrap(app) if wrap is not None else app
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url=BASE_URL) as http:
            yield Provider(http, await grant(http, ca, consent(sample, sectors)))


def failures(report: ConformanceReport) -> set[tuple[str, str, str]]:
    return {(result.api_id, result.sector, check.name) for result, check in report.failures()}


def check_of(report: ConformanceReport, api_id: str, name: str, sector: str | None = None) -> Check:
    found = report.result(api_id, sector).check(name)
    assert found is not None, f"{api_id} has no check {name}"
    return found


def new_failures(report: ConformanceReport) -> set[tuple[str, str, str]]:
    """The failures beyond the known findings."""
    return failures(report) - KNOWN_FINDINGS


class TestConformantProvider:
    @pytest.fixture
    async def provider(
        self, db_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> AsyncIterator[Provider]:
        async with start_provider(db_url, tmp_path, conformance_ca, sample) as provider:
            yield provider

    async def test_the_project_provider_passes_every_check(
        self, provider: Provider, sample: Sample, tmp_path: Path
    ) -> None:
        assert sample.left_out_card not in sample.consented_cards
        seen: list[tuple[str, int, int]] = []
        report = await provider.check(progress=lambda label, done, total: seen.append((label, done, total)))

        assert failures(report) == KNOWN_FINDINGS, json.dumps(
            [(r.api_id, r.sector, c.name, c.detail) for r, c in report.failures()], ensure_ascii=False, indent=1
        )
        info_apis = [spec.id for spec in CATALOGUE.info_apis(SECTORS)]
        assert [r.api_id for r in report.results if r.api_id in info_apis] == info_apis
        assert [r.sector for r in report.results if r.api_id == "정보제공-공통-002"] == list(SECTORS)
        assert report.apis_checked == len(info_apis) + 1 + len(SECTORS)
        assert report.not_exercised == []
        assert report.sectors == list(SECTORS)
        assert report.failed == len(KNOWN_FINDINGS)
        assert report.passed > 400
        assert report.totals()["calls"] > 100
        assert [done for _, done, _ in seen] == list(range(1, report.apis_checked + 1))
        assert {total for _, _, total in seen} == {report.apis_checked}

        def names(api_id: str, sector: str | None = None) -> set[str]:
            return {check.name for check in report.result(api_id, sector).checks}

        positive = {
            checks.HTTP_200,
            checks.RSP_CODE_SUCCESS,
            checks.TRAN_ID_ECHOED,
            checks.CONTENT_TYPE_JSON,
            checks.RESPONSE_SCHEMA,
        }
        common = {
            checks.NO_TOKEN,
            checks.GARBAGE_TOKEN,
            checks.MISSING_TRAN_ID,
            checks.UNKNOWN_API_TYPE,
            checks.WRONG_ORG_CODE,
            checks.WRONG_METHOD,
        }
        ranged = {
            checks.RANGE_REVERSED,
            checks.RANGE_TOO_LONG,
            checks.RANGE_TOO_LONG_SCHEDULED,
            checks.RANGE_OLDER_THAN_5_YEARS,
        }
        paging = {
            checks.LIMIT_ZERO,
            checks.LIMIT_OVER_500,
            checks.PAGING_TERMINATES,
            checks.NEXT_PAGE_OMITTED_ON_LAST_PAGE,
        }
        assert positive | common | paging | {
            checks.COUNT_MATCHES_LIST,
            checks.PAGING_CONSISTENT,
            checks.SEARCH_TIMESTAMP_FIRST_PAGE_ONLY,
            checks.SEARCH_TIMESTAMP_RESEND,
            checks.UNSUPPORTED_VERSION,
            checks.UNKNOWN_RESOURCE,
        } <= names("은행-001")
        assert positive | common | paging | ranged | {checks.FOREIGN_ASSET, checks.PAGING_CONSISTENT} <= names(
            "은행-004"
        )
        assert positive | common | {
            checks.FOREIGN_ASSET,
            checks.UNCONSENTED_ASSET,
            checks.SEARCH_TIMESTAMP_RESEND,
        } <= names("카드-002")
        assert positive | common | paging | ranged <= names("카드-004")
        assert positive | common | ranged | {checks.FOREIGN_ASSET} <= names("통신-003")
        assert positive | common <= names("정보제공-공통-002", "card")
        assert {checks.API_LIST_COMPLETE, checks.MISSING_TRAN_ID, checks.WRONG_ORG_CODE} <= names("정보제공-공통-001")
        # the left-out card is refused, and no well-formed call selects it
        unconsented = check_of(report, "카드-008", checks.UNCONSENTED_ASSET)
        assert unconsented.passed
        assert "40105" in unconsented.detail
        # 은행-004 holds more than one page at the small limit
        consistent = check_of(report, "은행-004", checks.PAGING_CONSISTENT)
        assert consistent.passed
        assert "pages at limit" in consistent.detail

        document = report.to_json()
        assert json.loads(json.dumps(document)) == document
        assert document["totals"]["passed"] == report.passed
        assert document["totals"]["failed"] == report.failed
        assert document["results"][1]["checks"][0].keys() == {"name", "kind", "passed", "detail", "calls"}
        json_path, html_path = write_report(report, tmp_path / "out")
        assert json.loads(json_path.read_text(encoding="utf-8")) == document
        html = html_path.read_text(encoding="utf-8")
        assert html == render_html(report)
        assert "은행-004" in html
        assert "<style>" in html
        assert "http://" not in html.replace(BASE_URL, "")
        assert "https://" not in html
        assert "<script" not in html


class Tamper:
    """An ASGI wrapper around the provider that lets a test rewrite requests and JSON responses."""

    def __init__(self, app: Any):
        self.app = app

    def request(self, path: str, headers: dict[str, str], body: bytes) -> tuple[bytes, dict[str, Any] | None]:
        """The body to forward, or a reply (JSON body, status 200) that short-circuits the provider."""
        return body, None

    def response(self, path: str, request_body: bytes, body: dict[str, Any]) -> dict[str, Any]:
        return body

    def response_headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return headers

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body, reply = self.request(scope["path"], headers, b"".join(chunks))
        if reply is not None:
            tran_id = headers.get("x-api-tran-id", "")
            await self._send(send, 200, [(b"x-api-tran-id", tran_id.encode())], reply)
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        forwarded = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]}
        forwarded["headers"].append((b"content-length", str(len(body)).encode()))
        await self.app(forwarded, replay, capture)
        raw = b"".join(parts)
        status = start["status"]
        response_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length",)]
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if isinstance(document, dict) and status == 200:
            document = self.response(scope["path"], body, document)
        await self._send(send, status, self.response_headers(response_headers), document, raw)

    async def _send(
        self, send: Any, status: int, headers: list[tuple[bytes, bytes]], document: Any, raw: bytes | None = None
    ) -> None:
        payload = json.dumps(document, ensure_ascii=False).encode() if document is not None else raw or b""
        headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class DropPaidAmount(Tamper):
    """통신-003 answers without the required paid_amt."""

    def response(self, path: str, request_body: bytes, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/telecom/telecoms/transactions":
            for entry in body.get("trans_list", []):
                entry.pop("paid_amt", None)
        return body


class ForgetTranId(Tamper):
    """Every response carries a fresh x-api-tran-id instead of the request's."""

    def response_headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        kept = [(k, v) for k, v in headers if k.lower() != b"x-api-tran-id"]
        return [*kept, (b"x-api-tran-id", b"PROVCONF01S00000000000000")]


class NoTokenNeeded(Tamper):
    """An information API call without a token gets 200 00000."""

    def request(self, path: str, headers: dict[str, str], body: bytes) -> tuple[bytes, dict[str, Any] | None]:
        if path.startswith("/v1/") and "authorization" not in headers:
            return body, {"rsp_code": "00000", "rsp_msg": "성공"}
        return body, None


class MiscountContracts(Tamper):
    """통신-001's telecom_cnt is one more than the list holds."""

    def response(self, path: str, request_body: bytes, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/telecom/telecoms" and "telecom_cnt" in body:
            body["telecom_cnt"] = str(int(body["telecom_cnt"]) + 1)
        return body


class PagingLoop(Tamper):
    """통신-004 pages never end: the last page names a cursor that leads back to the first page."""

    def request(self, path: str, headers: dict[str, str], body: bytes) -> tuple[bytes, dict[str, Any] | None]:
        if path == "/v1/telecom/telecoms/paid-transactions" and body:
            document = json.loads(body)
            if document.get("next_page") == "LOOP":
                del document["next_page"]
                return json.dumps(document).encode(), None
        return body, None

    def response(self, path: str, request_body: bytes, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/telecom/telecoms/paid-transactions" and body.get("trans_list") and "next_page" not in body:
            body["next_page"] = "LOOP"
        return body


class TestTheCheckerCatchesBreakage:
    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite+aiosqlite:///{tmp_path / 'provider.db'}"

    async def run_broken(
        self, tamper: type[Tamper], database_url: str, tmp_path: Path, ca: CertificateAuthority, sample: Sample
    ) -> ConformanceReport:
        # a context manager, not an async generator left suspended by `return`: the provider's teardown (its
        # database's dispose) runs here, on this test's loop, instead of whenever the generator is collected
        async with start_provider(database_url, tmp_path, ca, sample, wrap=tamper, sectors=("telecom",)) as provider:
            return await provider.check(("telecom",))

    async def test_an_untouched_run_of_one_sector_passes(
        self, database_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> None:
        report = await self.run_broken(Tamper, database_url, tmp_path, conformance_ca, sample)
        assert failures(report) == {finding for finding in KNOWN_FINDINGS if finding[1] == "telecom"}
        assert report.passed > 80
        assert [r.api_id for r in report.results] == [
            "정보제공-공통-001",
            "통신-001",
            "통신-002",
            "통신-003",
            "통신-004",
            "정보제공-공통-002",
        ]

    async def test_a_missing_required_field_is_named(
        self, database_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> None:
        report = await self.run_broken(DropPaidAmount, database_url, tmp_path, conformance_ca, sample)
        assert new_failures(report) == {("통신-003", "telecom", checks.RESPONSE_SCHEMA)}
        check = check_of(report, "통신-003", checks.RESPONSE_SCHEMA)
        assert "trans_list[0].paid_amt: required field missing" in check.detail

    async def test_a_tran_id_not_echoed(
        self, database_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> None:
        report = await self.run_broken(ForgetTranId, database_url, tmp_path, conformance_ca, sample)
        assert {name for _, _, name in new_failures(report)} == {checks.TRAN_ID_ECHOED, checks.ERROR_TRAN_ID_ECHOED}
        for result in report.results:
            assert not check_of(report, result.api_id, checks.TRAN_ID_ECHOED, result.sector).passed
            assert not check_of(report, result.api_id, checks.ERROR_TRAN_ID_ECHOED, result.sector).passed
        assert "got PROVCONF01S00000000000000" in check_of(report, "통신-001", checks.TRAN_ID_ECHOED).detail

    async def test_a_call_without_token_that_succeeds(
        self, database_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> None:
        report = await self.run_broken(NoTokenNeeded, database_url, tmp_path, conformance_ca, sample)
        telecom = [r.api_id for r in report.results if r.sector == "telecom"]
        assert new_failures(report) == {(api_id, "telecom", checks.NO_TOKEN) for api_id in telecom}
        detail = check_of(report, "통신-004", checks.NO_TOKEN).detail
        assert "expected HTTP 401 40101, got HTTP 200 00000" in detail

    async def test_a_wrong_count(
        self, database_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> None:
        report = await self.run_broken(MiscountContracts, database_url, tmp_path, conformance_ca, sample)
        assert new_failures(report) == {("통신-001", "telecom", checks.COUNT_MATCHES_LIST)}
        detail = check_of(report, "통신-001", checks.COUNT_MATCHES_LIST).detail
        assert "telecom_cnt is" in detail
        assert "but telecom_list holds" in detail

    async def test_a_paging_loop(
        self, database_url: str, tmp_path: Path, conformance_ca: CertificateAuthority, sample: Sample
    ) -> None:
        report = await self.run_broken(PagingLoop, database_url, tmp_path, conformance_ca, sample)
        assert new_failures(report) == {("통신-004", "telecom", checks.PAGING_TERMINATES)}
        detail = check_of(report, "통신-004", checks.PAGING_TERMINATES).detail
        assert "a cursor came back a second time (page 2)" in detail


class TestJudgingOneResponse:
    def test_schema_problems_name_the_exact_field(self) -> None:
        body = {
            "rsp_code": "00000",
            "rsp_msg": "성공",
            "account_cnt": "2",
            "account_list": [
                {"account_num": "1", "is_consent": "true", "prod_name": "예금", "account_type": "1001"},
                {"account_num": "2" * 21, "is_consent": "maybe", "prod_name": "적금", "account_type": "1001"},
            ],
        }
        problems = checks.schema_problems(CATALOGUE["은행-001"].response, body)
        assert "account_list[0].account_status: required field missing" in problems
        assert any(
            p.startswith("account_list[1].account_num: String should have at most 20 characters") for p in problems
        )
        assert any(p.startswith("account_list[1].is_consent: Value error, not a Boolean") for p in problems)
        assert checks.field_path(()) == "(body)"

    def test_empty_optional_values_and_nulls_at_any_depth(self) -> None:
        body = {
            "rsp_code": "00000",
            "rsp_msg": "",  # required: an empty message is not an omitted optional field
            "next_page": "",
            "trans_cnt": "1",
            "trans_list": [{"trans_dtime": "20250101", "trans_no": "", "trans_memo": None, "trans_type": ""}],
        }
        assert checks.empty_optional_values(CATALOGUE["은행-004"].response, body) == [
            'next_page is "" (an optional field without a value is omitted)',
            'trans_list[0].trans_no is "" (an optional field without a value is omitted)',
            "trans_list[0].trans_memo is null",
        ]

    def test_counts_are_compared_for_nested_pairs(self) -> None:
        body = {
            "trans_cnt": "1",
            "trans_list": [{"int_cnt": "2", "int_list": [{"int_rate": "1.5"}]}],
            "loan_cnt": "7",  # no loan_list: not a pair
        }
        assert checks.count_problems(CATALOGUE["은행-010"], body) == (
            2,
            ["trans_list[0].int_cnt is 2 but int_list holds 1"],
        )
        assert checks.count_problems(CATALOGUE["은행-010"], {"trans_list": []}) == (1, ["trans_cnt missing"])

    def test_values_must_travel_as_strings(self) -> None:
        body = {"a": "1", "b": 2, "c": [{"d": True}], "e": None}
        assert checks.non_string_values(body) == ["b is a number 2", "c[0].d is a Boolean true"]

    def test_content_types(self) -> None:
        assert checks.is_json_content_type("application/json")
        assert checks.is_json_content_type("application/json; charset=UTF-8")
        assert not checks.is_json_content_type("application/json; charset=euc-kr")
        assert not checks.is_json_content_type("text/html")
        assert not checks.is_json_content_type(None)

    def test_a_negative_case_wants_the_code_and_its_status(self) -> None:
        case = checks.NEGATIVE_CASES[checks.FOREIGN_ASSET]
        assert case.accepts(404, "40402")
        assert case.accepts(401, "40105")
        assert not case.accepts(400, "40402")
        assert not case.accepts(404, "40401")
        assert case.expected == "HTTP 404 40402 or HTTP 401 40105"
