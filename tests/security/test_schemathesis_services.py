"""Schemathesis against the portal's, the CA's and the operator's OpenAPI documents, in-process through their ASGI
apps (settings with `insecure_plain_http`, SQLite in tmp_path): no input is a 500.

Like the provider's test (test_schemathesis.py), calls carry live credentials and the generation is steered
towards real values, so that generated requests get past the first check and reach the handlers:

- The three token endpoints read a form their document does not describe: a form body (grant_type, client_id,
  client_secret, scope) is declared for them.
- Path parameters and body fields that name something (org_code, client_id, cert_tx_id, sign_tx_id, tx_id,
  user_ci, names, PINs, ...) get real values (registered organisations and services, pending and approved
  requests, enrolled persons) besides generated ones.
- Request models' lists are capped at MAX_ITEMS items for generation (negative cases go past the cap): the
  statistics reports nest four levels of lists, and unbounded ones take seconds to generate per example.
- Fields that only work together (a client_id and its secret; a person's name, birth date and phone; a report
  whose counts match its lists; a certificate and its organisation) are offered as whole valid requests, run as
  explicit examples before the generated (positive and negative) cases of each operation.
- Portal: `x-admin-key` on the admin API; on 지원-002…006 a 지원-001 token of the organisation type each API
  serves (operator, provider, CA). Its outbound 지원-101/103 calls (`POST /admin/consents`) go to a stand-in
  operator (httpx.MockTransport) that answers at every registered domain.
- CA: a real portal in-process as its peer (registry, 지원-006), enrolled persons, `x-admin-key` on the admin API,
  and a CA token of the operator (of the provider for sign_verification) on the identity and sign APIs.
- Operator: its peers are the unit tests' stand-ins (tests/unit/operator/operator_fakes.py), which make sign-up
  cheap, so the person APIs get a session of a signed-up person holding a bank consent (signed up again when a
  generated withdrawal ends it); 지원-103 gets a 지원-101 token issued with the portal's pair.

Not exercised, since they are not in the documents (`include_in_schema=False`): the CA's approval page
(`/approve/{cert_tx_id}`) and the operator's HTML pages; nor the operator's `/static` files (a mounted
directory). Nothing else is excluded. Each operation gets its offered requests and up to EXAMPLES_PER_OPERATION
generated ones.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openmydata.certauth.app import create_app as create_certauth
from openmydata.kit.pki import CertificateAuthority, cert_to_pem
from openmydata.operator.app import create_app as create_operator
from openmydata.portal.app import create_app as create_portal
from openmydata.portal.settings import PortalSettings
from openmydata.standard.apis.support import MemberConsentsResponse
from openmydata.standard.codes import success_envelope
from tests.security.helpers import tran_id
from tests.unit.certauth.conftest import CA_ADMIN, PERSONS, PORTAL_ADMIN, PORTAL_URL, FakeClock, World, ca_settings
from tests.unit.operator.operator_fakes import BANK, BANK2, CI, OK, OPERATOR, FakeEcosystem, settings_for
from tests.unit.portal.test_portal_support import weekly

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.python import asgi as schemathesis_asgi  # noqa: E402

EXAMPLES_PER_OPERATION = 10
MAX_ITEMS = 3
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

Headers = dict[str, str]
# Whole valid requests per operation ("POST /admin/orgs"): keyword arguments of `APIOperation.Case`.
Offers = dict[str, list[dict[str, Any]]]


# --- steering the generation -----------------------------------------------------------------------------------


def _with_real(values: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """Real values besides whatever the original schema allows. The two branches are disjoint: an `anyOf` whose
    enum branch the other one contains is simplified to the other one by the generator, losing the values."""
    known = list(dict.fromkeys(values))
    return {"oneOf": [{"enum": known}, {**schema, "not": {"enum": known}}]}


def _hint_fields(document: dict[str, Any], hints: dict[str, list[str]]) -> None:
    """Real values for the request models' fields of these names."""
    for model in document.get("components", {}).get("schemas", {}).values():
        for name, schema in model.get("properties", {}).items():
            if name in hints:
                model["properties"][name] = _with_real(hints[name], schema)


def _hint_path(document: dict[str, Any], method: str, path: str, name: str, values: list[str]) -> None:
    operation = document["paths"][path][method]
    for parameter in operation["parameters"]:
        if parameter["name"] == name:
            parameter["schema"] = _with_real(values, parameter["schema"])
            return
    raise AssertionError(f"{method.upper()} {path} has no parameter {name}")


def _offer(
    offers: Offers,
    label: str,
    bodies: list[dict[str, Any]] | None,
    *,
    path_parameters: list[dict[str, str]] | None = None,
    media_type: str = JSON,
) -> None:
    """Each body (none: a request without one) with each set of path parameters as a whole valid request of the
    operation `label`."""
    for parameters in path_parameters or [{}]:
        for body in [None] if bodies is None else bodies:
            case: dict[str, Any] = {"path_parameters": parameters or None}
            if body is not None:
                case.update(body=body, media_type=media_type)
            offers.setdefault(label, []).append(case)


def _token_form(document: dict[str, Any], offers: Offers, path: str, pairs: list[tuple[str, str]], scope: str) -> None:
    """The token endpoint's form (RFC 6749 client_credentials), which the document leaves out, and the registered
    pairs' requests."""
    operation = document["paths"][path]["post"]
    assert "requestBody" not in operation
    fields = ("grant_type", "client_id", "client_secret", "scope")
    form = {"type": "object", "properties": {name: {"type": "string"} for name in fields}, "required": list(fields)}
    operation["requestBody"] = {"required": True, "content": {FORM: {"schema": form}}}
    valid = [
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": scope}
        for client_id, secret in pairs
    ]
    _offer(offers, f"POST {path}", valid, media_type=FORM)


# --- running ---------------------------------------------------------------------------------------------------


def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def _client(app: FastAPI) -> Iterator[Any]:
    """A client on schemathesis' own ASGI event loop, with the app's lifespan started there and left running until
    `shutdown_lifespans`: the seeding calls and the generated ones reach the same started app."""
    application: Any = app
    with schemathesis_asgi.get_client(application) as client:
        yield client


def _exercise(
    operation: Any,
    offered: list[dict[str, Any]],
    headers_for: Callable[[str, str], Headers],
    after: Callable[[str, str, int], None],
) -> Counter[int]:
    """The offered requests (explicit examples, first), then up to EXAMPLES_PER_OPERATION generated ones."""
    seen: Counter[int] = Counter()
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]

    def run(case: Any) -> None:
        headers = {"x-api-tran-id": tran_id(), **headers_for(operation.method, operation.path)}
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
        seen[response.status_code] += 1
        after(operation.method, operation.path, response.status_code)

    for kwargs in reversed(offered):  # applied inside out: run in the order offered
        run = example(case=operation.Case(**kwargs))(run)
    test = settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )(given(case=st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes)))(run))
    test()
    return seen


def _run(
    name: str,
    app: FastAPI,
    document: dict[str, Any],
    offers: Offers,
    headers_for: Callable[[str, str], Headers],
    after: Callable[[str, str, int], None] = lambda _method, _path, _status: None,
) -> dict[str, Counter[int]]:
    """Each operation of `document` in turn: the offered requests, then generated cases (positive and negative), each
    call carrying `headers_for(method, path)`; fails on any 5xx. Returns the count of each status per operation."""
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    operations = {f"{op.method.upper()} {op.path}": op for op in (item.ok() for item in schema.get_all_operations())}
    assert set(offers) <= set(operations), set(offers) - set(operations)
    statuses = {
        label: _exercise(operation, offers.get(label, []), headers_for, after)
        for label, operation in operations.items()
    }
    examples = sum(sum(seen.values()) for seen in statuses.values())
    total = sum(statuses.values(), Counter[int]())
    never_ok = [label for label, seen in statuses.items() if not any(200 <= code < 300 for code in seen)]
    print(
        f"schemathesis {name}: {examples} examples over {len(operations)} operations, no 5xx; "
        f"statuses {dict(sorted(total.items()))}; never 2xx: {never_ok}"
    )
    assert all(statuses.values()), "an operation got no example"
    assert examples >= 5 * len(operations)
    return statuses


def _reached(statuses: dict[str, Counter[int]], labels: list[str]) -> None:
    """These operations answered 2xx at least once: the credentials and real values do get past the checks."""
    for label in labels:
        assert any(200 <= code < 300 for code in statuses[label]), f"{label} never answered 2xx: {statuses[label]}"


def _document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, with the request models' lists capped at MAX_ITEMS items for generation: the
    statistics reports nest four levels of lists, and unbounded ones take seconds to generate per example (negative
    cases still go past the cap)."""
    document: dict[str, Any] = copy.deepcopy(app.openapi())
    for model in document.get("components", {}).get("schemas", {}).values():
        for schema in model.get("properties", {}).values():
            for variant in [schema, *schema.get("anyOf", [])]:
                if variant.get("type") == "array":
                    variant["maxItems"] = max(
                        min(variant.get("maxItems", MAX_ITEMS), MAX_ITEMS), variant.get("minItems", 0)
                    )
    return document


# --- portal ----------------------------------------------------------------------------------------------------

REGNO = "1234567890"


def _org(client: Any, org_type: str, industries: list[str], name: str, domain: str) -> dict[str, Any]:
    body = {"org_name": name, "org_type": org_type, "industries": industries, "domain": domain, "org_regno": REGNO}
    return _ok(client.post("/admin/orgs", json=body, headers={"x-admin-key": PORTAL_ADMIN}))


def _service(org_code: str) -> dict[str, str]:
    return {
        "org_code": org_code,
        "service_name": "자산관리",
        "redirect_uri": "https://op.test/cb",
        "app_scheme": "op://cb",
    }


def _support_token(client: Any, org: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": org["support_client_id"],
        "client_secret": org["support_client_secret"],
        "scope": "manage",
    }
    token: str = _ok(client.post("/mgmts/oauth/2.0/token", data=form))["access_token"]
    return token


def _organisation_pem(authority: CertificateAuthority, org_code: str) -> str:
    """A TLS certificate for `org_code` whose SERIALNUMBER is the registration number `_org` registers."""
    _, certificate = authority.issue_organisation(org_code, REGNO)
    return cert_to_pem(certificate).decode("ascii")


def fake_operator(request: httpx.Request) -> httpx.Response:
    """Any registered operator's 지원-101 and 지원-103, as the portal's outbound calls see them."""
    if request.url.path == "/mgmts/oauth/2.0/token":
        token = {"token_type": "Bearer", "access_token": "op", "expires_in": 3600, "scope": "manage"}
        return httpx.Response(200, json=token)
    if request.url.path == "/v1/mgmts/consents":
        consent = {
            "org_code": BANK,
            "scope": "bank.list",
            "consent_date": "20261120090000",
            "consent_end_date": "20271120090000",
        }
        answer = MemberConsentsResponse(
            **success_envelope(),
            is_member=True,
            service_cnt=1,
            service_list=[{"client_id": "service", "consent_cnt": 1, "consent_list": [consent]}],
        )
        return httpx.Response(200, json=answer.to_wire())
    return httpx.Response(404, json={"rsp_code": "40401", "rsp_msg": "not found"})


@pytest.mark.timeout(240)
def test_portal_no_server_error(tmp_path: Path) -> None:
    portal_settings = PortalSettings(
        insecure_plain_http=True,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal",
        admin_key=PORTAL_ADMIN,
    )
    outbound = httpx.AsyncClient(transport=httpx.MockTransport(fake_operator))
    app = create_portal(portal_settings, http_client=outbound)
    admin = {"x-admin-key": PORTAL_ADMIN}
    try:
        with _client(app) as client:
            ca = _org(client, "06", [], "오픈인증", "https://ca.test")
            operator = _org(client, "03", [], "오픈마이데이터", "https://operator.test")
            provider = _org(client, "01", ["bank"], "오픈은행", "https://bank.test")
            # Spares for the generated updates and certificates, and others for the deregistrations, so that the
            # callers above stay usable and each kind of change has a registered target whatever ran before it.
            spare_operator = _org(client, "03", [], "다른마이데이터", "http://operator2.test")
            spare_provider = _org(client, "01", ["card"], "오픈카드", "https://card.test")
            doomed_operator = _org(client, "03", [], "닫을마이데이터", "http://operator3.test")
            doomed_provider = _org(client, "01", ["telecom"], "닫을통신", "https://telecom.test")
            service, spare_service, doomed_service = (
                _ok(client.post("/admin/services", json=_service(owner["org_code"]), headers=admin))
                for owner in (operator, spare_operator, spare_operator)
            )
            tokens = {
                "ca": _support_token(client, ca),
                "operator": _support_token(client, operator),
                "provider": _support_token(client, provider),
            }
            lookup = _ok(client.post("/admin/consents", json={"user_ci": CI}, headers=admin))
            assert any(answer.get("is_member") for answer in lookup["operators"]), lookup

            document, offers = _document(app), Offers()
            orgs = [ca, operator, provider, spare_operator, spare_provider, doomed_operator, doomed_provider]
            every_code = [org["org_code"] for org in orgs]
            spares = [{"org_code": spare_operator["org_code"]}, {"org_code": spare_provider["org_code"]}]
            doomed = [{"org_code": doomed_operator["org_code"]}, {"org_code": doomed_provider["org_code"]}]
            spare_services = [{"client_id": spare_service["client_id"]}]
            doomed_services = [{"client_id": doomed_service["client_id"]}]
            pairs = [(org["support_client_id"], org["support_client_secret"]) for org in orgs]
            _token_form(document, offers, "/mgmts/oauth/2.0/token", pairs, "manage")
            _hint_path(document, "get", "/admin/orgs/{org_code}", "org_code", every_code)
            targets = {
                "/admin/orgs/{org_code}": spares,
                "/admin/orgs/{org_code}/certificates": spares,
                "/admin/orgs/{org_code}/deregister": doomed,
                "/admin/services/{client_id}": spare_services,
                "/admin/services/{client_id}/deregister": doomed_services,
            }
            for path, names in targets.items():
                [(parameter, _)] = names[0].items()
                _hint_path(document, "post", path, parameter, [name[parameter] for name in names])
            _hint_fields(
                document,
                {
                    "org_code": every_code,
                    "relay_org_code": every_code,
                    "client_id": [service["client_id"], spare_service["client_id"], doomed_service["client_id"]],
                    "user_ci": [CI],
                    "search_timestamp": ["0", "20200101000000", "20991231235959"],
                },
            )
            registrations: list[dict[str, Any]] = [
                {"org_name": "새마이데이터", "org_type": "03", "domain": "https://new.test", "org_regno": REGNO},
                {
                    "org_name": "새은행",
                    "org_type": "01",
                    "industries": ["bank", "card"],
                    "domain": "http://newbank.test",
                    "org_regno": "9876543210",
                    "auth_type": "01",
                },
                # Domains no client can call: refused at registration (once they made /admin/consents a 500).
                {"org_name": "x", "org_type": "03", "domain": "http://[zz]", "org_regno": REGNO},
                {"org_name": "x", "org_type": "03", "domain": "http://256.0.0.1", "org_regno": REGNO},
                {"org_name": "x", "org_type": "03", "domain": "http://127.0.0.1:99999", "org_regno": REGNO},
            ]
            _offer(offers, "GET /admin/orgs/{org_code}", None, path_parameters=[{"org_code": c} for c in every_code])
            _offer(offers, "POST /admin/orgs", registrations)
            updates = [
                {"org_name": "바뀐이름"},
                {"domain": "https://moved.test", "auth_type": "01"},
                {"domain": "http://[zz]"},
            ]
            _offer(offers, "POST /admin/orgs/{org_code}", updates, path_parameters=spares)
            _offer(offers, "POST /admin/orgs/{org_code}/deregister", None, path_parameters=doomed)
            authority = CertificateAuthority.create("schemathesis portal CA")
            for spare in spares:
                pem = {"certificate_pem": _organisation_pem(authority, spare["org_code"])}
                _offer(offers, "POST /admin/orgs/{org_code}/certificates", [pem], path_parameters=[spare])
            _offer(offers, "POST /admin/services", [_service(operator["org_code"]), _service(provider["org_code"])])
            service_updates = [
                {"service_name": "새이름"},
                {"redirect_uri": "https://b.test/cb", "app_scheme": "b://cb"},
            ]
            _offer(offers, "POST /admin/services/{client_id}", service_updates, path_parameters=spare_services)
            _offer(offers, "POST /admin/services/{client_id}/deregister", None, path_parameters=doomed_services)
            _offer(offers, "POST /admin/consents", [{"user_ci": CI}])
            report = weekly(service["client_id"], provider["org_code"], mydata_org_code=operator["org_code"])
            _offer(offers, "POST /v1/mgmts/statistics/mydata", [report])
            provider_report = weekly(
                service["client_id"],
                operator["org_code"],
                org_code=provider["org_code"],
                mydata_org_code=operator["org_code"],
            )
            _offer(offers, "POST /v1/mgmts/statistics/provider", [provider_report])
            resend = [{"org_code": org["org_code"], "inquiry_date": "20261122"} for org in (operator, provider)]
            _offer(offers, "POST /admin/statistics/request", resend)

            def headers_for(_method: str, path: str) -> Headers:
                if path.startswith("/admin/"):
                    return dict(admin)
                if path.endswith("/statistics/provider"):
                    return _bearer(tokens["provider"])
                if path.endswith("/orgs_for_ca"):
                    return _bearer(tokens["ca"])
                return _bearer(tokens["operator"])

            statuses = _run("portal", app, document, offers, headers_for)
            _reached(statuses, list(statuses))  # every operation of the portal answered 2xx at least once
    finally:
        schemathesis_asgi.shutdown_lifespans()
        asyncio.run(outbound.aclose())


# --- certification authority ----------------------------------------------------------------------------------


def _ca_token(client: Any, org: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": org["ca_client_id"],
        "client_secret": org["ca_client_secret"],
        "scope": "ca",
    }
    token: str = _ok(client.post("/oauth/2.0/token", data=form))["access_token"]
    return token


@pytest.mark.timeout(240)
def test_certauth_no_server_error(tmp_path: Path) -> None:
    portal_app = create_portal(
        PortalSettings(
            insecure_plain_http=True,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
            data_dir=tmp_path / "portal",
            admin_key=PORTAL_ADMIN,
        )
    )
    to_portal = httpx.AsyncClient(transport=httpx.ASGITransport(app=portal_app), base_url=PORTAL_URL)
    try:
        with _client(portal_app) as portal:
            ca_org = _org(portal, "06", [], "오픈인증", "https://ca.test")
            operator = _org(portal, "03", [], "오픈마이데이터", "https://operator.test")
            provider = _org(portal, "01", ["bank"], "오픈은행", "https://bank.test")
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'certauth.db'}"
        app = create_certauth(ca_settings(database_url, tmp_path / "certauth", ca_org), http_client=to_portal)
        with _client(app) as client:
            admin = {"x-admin-key": CA_ADMIN}
            assert _ok(client.post("/admin/persons", json={"persons": PERSONS}, headers=admin))["enrolled"] == 2
            op_auth, provider_auth = _bearer(_ca_token(client, operator)), _bearer(_ca_token(client, provider))
            clock = FakeClock()
            clock.now = datetime.now(UTC)
            # Only World's body builders (sign_body, consent_text) are used here, not its clients.
            world = World(to_portal, to_portal, app, clock, ca_org, operator, provider)
            identities_of = [
                {
                    "real_name": person["name"],
                    "birth_date": person["birth_date"],
                    "phone_num": person["phone"],
                    "request_title": "본인확인",
                }
                for person in PERSONS
            ]
            identities = [
                _ok(client.post("/v1/ca/identity_request", json=identities_of[0], headers=op_auth)) for _ in range(2)
            ]
            sign_body = world.sign_body([world.consent_text(), world.consent_text("통합조회")])
            signs = [_ok(client.post("/v1/ca/sign_request", json=sign_body, headers=op_auth)) for _ in range(2)]
            approve = {"pin": PERSONS[0]["pin"], "decision": "approve"}
            for done in (identities[0], signs[0]):
                assert _ok(client.post(f"/v1/ca/approvals/{done['cert_tx_id']}", json=approve))["sign_status"] == "02"
            result = {"cert_tx_id": signs[0]["cert_tx_id"], "sign_tx_id": sign_body["sign_tx_id"]}
            signed = _ok(client.post("/v1/ca/sign_result", json=result, headers=op_auth))["signed_consent_list"]
            verification = {"cert_tx_id": signs[0]["cert_tx_id"], **signed[0]}
            verified = _ok(client.post("/v1/ca/sign_verification", json=verification, headers=provider_auth))
            assert verified["result"] == "true"

            document, offers = _document(app), Offers()
            cert_tx_ids = [item["cert_tx_id"] for item in (*identities, *signs)]
            pairs = [(org["ca_client_id"], org["ca_client_secret"]) for org in (operator, provider, ca_org)]
            _token_form(document, offers, "/oauth/2.0/token", pairs, "ca")
            _hint_path(document, "post", "/v1/ca/approvals/{cert_tx_id}", "cert_tx_id", cert_tx_ids)
            _hint_fields(
                document,
                {
                    "cert_tx_id": cert_tx_ids,
                    "sign_tx_id": [sign_body["sign_tx_id"]],
                    "tx_id": [item["tx_id"] for item in sign_body["consent_list"]],
                    "signed_consent": [item["signed_consent"] for item in signed],
                    "user_ci": [person["ci"] for person in PERSONS],
                    "ci": [PERSONS[1]["ci"]],  # revocation: the second person, so the first one keeps signing
                    "real_name": [person["name"] for person in PERSONS],
                    "birth_date": [person["birth_date"] for person in PERSONS],
                    "phone_num": [person["phone"] for person in PERSONS],
                    "pin": [person["pin"] for person in PERSONS],
                },
            )
            newcomer = {"ci": "N" * 86 + "==", "name": "박하늘", "birth_date": "20000229", "phone": "010-5555-0000"}
            _offer(offers, "POST /admin/persons", [{"persons": [{**newcomer, "pin": "4321"}]}])
            _offer(offers, "POST /admin/persons/revoke", [{"ci": PERSONS[1]["ci"]}])
            _offer(offers, "POST /v1/ca/identity_request", identities_of)
            _offer(offers, "POST /v1/ca/identity_result", [{"cert_tx_id": item["cert_tx_id"]} for item in identities])
            _offer(offers, "POST /v1/ca/sign_request", [sign_body, {**sign_body, "sign_tx_id": "OTHER_SIGN"}])
            results = [{"cert_tx_id": item["cert_tx_id"], "sign_tx_id": sign_body["sign_tx_id"]} for item in signs]
            _offer(offers, "POST /v1/ca/sign_result", results)
            _offer(offers, "POST /v1/ca/sign_verification", [verification])
            decisions = [approve, {"decision": "reject"}, {"pin": "000000", "decision": "approve"}]
            pending = [{"cert_tx_id": identities[1]["cert_tx_id"]}, {"cert_tx_id": signs[1]["cert_tx_id"]}]
            _offer(offers, "POST /v1/ca/approvals/{cert_tx_id}", decisions, path_parameters=pending)

            def headers_for(_method: str, path: str) -> Headers:
                if path.startswith("/admin/"):
                    return dict(admin)
                if path == "/v1/ca/sign_verification":
                    return provider_auth
                if path.startswith("/v1/ca/") and not path.startswith("/v1/ca/approvals/"):
                    return op_auth
                return {}

            statuses = _run("certauth", app, document, offers, headers_for)
            _reached(statuses, list(statuses))  # every operation of the CA answered 2xx at least once
    finally:
        schemathesis_asgi.shutdown_lifespans()
        asyncio.run(to_portal.aclose())


# --- operator --------------------------------------------------------------------------------------------------

PORTAL_ID = "portalcaller"
PORTAL_SECRET = "portalcallersecret"
SIGNUP = {"name": "김철수", "birth_date": "19900101", "phone": "010-1234-5678"}


class StandIns(FakeEcosystem):
    """The unit tests' stand-ins, with the CA answering each sign request with a cert_tx_id of its own and each sign
    result with that request's consents, as a real CA does (the stand-in repeats one cert_tx_id and answers with the
    latest request's consents, which a test making one consent at a time never notices)."""

    def __init__(self) -> None:
        super().__init__()
        self.signs: dict[str, dict[str, Any]] = {}

    def _certauth(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/ca/sign_request":
            super()._certauth(request)
            cert_tx_id = f"SIGNTX{len(self.signs) + 1:04d}"
            self.signs[cert_tx_id] = self.sign_requests[-1]
            approval = {"cert_tx_id": cert_tx_id, "approval_url": f"http://ca.test/approve/{cert_tx_id}"}
            return httpx.Response(200, json={**OK, **approval})
        if path == "/v1/ca/sign_result" and self.sign_status == "02":
            cert_tx_id = json.loads(request.content)["cert_tx_id"]
            if cert_tx_id not in self.signs:
                return httpx.Response(404, json={"rsp_code": "40402", "rsp_msg": "unknown cert_tx_id"})
            self.sign_requests.append(self.signs[cert_tx_id])  # what the stand-in answers with
        return super()._certauth(request)

    def _portal(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/mgmts/statistics/mydata":  # 지원-004, which 지원-104 makes the operator send
            return httpx.Response(200, json=OK)
        return super()._portal(request)


def _sign_up(client: Any, fake: FakeEcosystem) -> str:
    """A session of a signed-up person holding a consent to BANK (with its records collected)."""
    cert_tx_id = _ok(client.post("/api/signup", json=SIGNUP))["cert_tx_id"]
    fake.identity_status = "02"
    token: str = _ok(client.post("/api/signup/complete", json={"cert_tx_id": cert_tx_id}))["session_token"]
    started = _ok(client.post("/api/consents", json={"org_codes": [BANK]}, headers=_bearer(token)))
    fake.sign_status = "02"
    complete = {"cert_tx_id": started["cert_tx_id"]}
    done = _ok(client.post("/api/consents/complete", json=complete, headers=_bearer(token)))
    assert done["collected"].get(BANK, 0) > 0, done
    return token


@pytest.mark.timeout(240)
def test_operator_no_server_error(tmp_path: Path) -> None:
    fake = StandIns()
    peers = httpx.AsyncClient(transport=httpx.MockTransport(fake.handle))
    operator_settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'operator.db'}", tmp_path / "keys.json")
    operator_settings = operator_settings.model_copy(
        update={"portal_client_id": PORTAL_ID, "portal_client_secret": PORTAL_SECRET, "housekeeping_interval_s": 0}
    )
    app = create_operator(operator_settings, http_client=peers)
    try:
        with _client(app) as client:
            session = {"token": _sign_up(client, fake)}
            form = {
                "grant_type": "client_credentials",
                "client_id": PORTAL_ID,
                "client_secret": PORTAL_SECRET,
                "scope": "manage",
            }
            portal_token: str = _ok(client.post("/mgmts/oauth/2.0/token", data=form))["access_token"]
            member = {"org_code": OPERATOR, "user_ci": CI}
            answer = _ok(client.post("/v1/mgmts/consents", json=member, headers=_bearer(portal_token)))
            assert answer["is_member"] == "true"

            document, offers = _document(app), Offers()
            _token_form(document, offers, "/mgmts/oauth/2.0/token", [(PORTAL_ID, PORTAL_SECRET)], "manage")
            # The stand-in CA numbers its requests: the identity ones so far and to come, the sign ones likewise.
            identity_ids = [f"IDTX{n:04d}" for n in range(1, 6)]
            sign_ids = [f"SIGNTX{n:04d}" for n in range(1, 6)]
            _hint_fields(
                document,
                {
                    "org_code": [OPERATOR, BANK],
                    "user_ci": [CI],
                    "cert_tx_id": identity_ids + sign_ids,
                    "name": [SIGNUP["name"]],
                    "birth_date": [SIGNUP["birth_date"], "1990-01-01"],
                    "phone": [SIGNUP["phone"], "01012345678"],
                },
            )
            org_codes = document["components"]["schemas"]["ConsentRequest"]["properties"]["org_codes"]
            org_codes["items"] = _with_real([BANK, BANK2], org_codes["items"])
            _offer(offers, "POST /v1/mgmts/consents", [member, {"org_code": OPERATOR, "user_ci": "T" * 88}])
            resend = {"org_code": OPERATOR, "org_type": "01", "type": "0", "inquiry_date": "20261122"}
            offers.setdefault("GET /v1/mgmts/req-statistics", []).append({"query": resend})
            _offer(offers, "POST /api/signup", [SIGNUP])
            _offer(offers, "POST /api/signup/complete", [{"cert_tx_id": item} for item in identity_ids])
            consents: list[dict[str, Any]] = [
                {"org_codes": [BANK]},
                {"org_codes": [BANK, BANK2], "is_consent_trans_memo": True},
            ]
            _offer(offers, "POST /api/consents", consents)
            _offer(offers, "POST /api/consents/complete", [{"cert_tx_id": item} for item in sign_ids])

            def headers_for(_method: str, path: str) -> Headers:
                if path in ("/v1/mgmts/consents", "/v1/mgmts/req-statistics"):
                    return _bearer(portal_token)
                if path.startswith("/api/"):
                    return _bearer(session["token"])
                return {}

            def after(_method: str, path: str, status: int) -> None:
                if path == "/api/withdraw" and status == 200:  # the person is gone: sign up again
                    session["token"] = _sign_up(client, fake)

            statuses = _run("operator", app, document, offers, headers_for, after)
            _reached(statuses, list(statuses))  # every operation of the operator answered 2xx at least once
    finally:
        schemathesis_asgi.shutdown_lifespans()
        asyncio.run(peers.aclose())
