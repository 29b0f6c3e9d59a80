"""Schemathesis against the provider's OpenAPI document, in-process through its ASGI app: no input is a 500.

The generic information routes take their fields from the catalogue's request models, which the document does
not declare, so before generating the suite adds each route's query parameters or JSON body from the catalogue
(the provider's own contract). Calls carry a live access token for a consent of every scope, a valid
x-api-tran-id and x-api-type, so that generated values reach the enforcement point and the handlers rather than
stopping at the authentication check. The number of examples is bounded to keep the run short.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openmydata.kit.clock import to_date, today_kst
from openmydata.kit.ids import urlsafe_nonce
from openmydata.kit.pki import CertificateAuthority
from openmydata.provider.app import create_app
from openmydata.provider.endpoints import info_routes
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec
from tests.security.conftest import (
    A_CARD,
    A_DEPOSIT,
    A_INVEST,
    A_LOAN,
    A_MGMT,
    ALICE,
    B_CARD,
    B_DEPOSIT,
    B_MGMT,
    CA_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    OPERATOR,
    PROVIDER,
    SECTORS,
    Harness,
    all_scopes,
    consent_for,
    stranger,
    victim,
)
from tests.security.helpers import tran_id

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.python import asgi as schemathesis_asgi  # noqa: E402

EXAMPLES_PER_OPERATION = 12


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (an optional field) → X: a query parameter is absent, never null."""
    alternatives = [item for item in schema.get("anyOf", []) if item.get("type") != "null"]
    if len(alternatives) == 1:
        rest = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
        return {**alternatives[0], **rest}
    return schema


def _hints() -> dict[str, list[str]]:
    """Values that pass validation (this provider's org_code, real calendar dates, Alice's and Bob's assets), so
    that generated requests also get past the parameter checks to the authorisation and data paths."""
    today = today_kst()
    days = [today - timedelta(days=n) for n in (0, 1, 30, 200, 400, 2000)]
    months = sorted({day.strftime("%Y%m") for day in days})
    return {
        "org_code": [PROVIDER],
        "from_date": [to_date(day) for day in days],
        "to_date": [to_date(day) for day in days],
        "from_month": months,
        "to_month": months,
        "charge_month": months,
        "account_num": [A_DEPOSIT, A_INVEST, A_LOAN, B_DEPOSIT],
        "card_id": [A_CARD, B_CARD],
        "mgmt_id": [A_MGMT, B_MGMT],
        "limit": ["1", "10", "500"],
        "next_page": [""],
        "search_timestamp": ["0", "20200101000000"],
        "seqno": [""],
    }


def _hinted(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    values = _hints().get(name)
    if values is None:
        return schema
    if name == "org_code":
        return {"type": "string", "enum": values}
    return {"anyOf": [{"type": "string", "enum": values}, schema]}


def _describe(operation: dict[str, Any], spec: ApiSpec, method: str) -> None:
    model = spec.request.model_json_schema()
    properties: dict[str, Any] = {
        name: _hinted(name, _without_null(schema)) for name, schema in model.get("properties", {}).items()
    }
    required = set(model.get("required", []))
    parameters = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
    declared = {p["name"] for p in parameters}
    for name in spec.path_params:
        if name not in declared:
            schema = properties.get(name, {"type": "string"})
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if method == "get":
        for name, schema in properties.items():
            if name not in spec.path_params:
                query = {"name": name, "in": "query", "required": name in required, "schema": schema}
                parameters.append(query)
    else:
        body = {**model, "properties": {k: v for k, v in properties.items() if k not in spec.path_params}}
        body["required"] = sorted(required - set(spec.path_params))
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    operation["parameters"] = parameters


def enriched(document: dict[str, Any], provider_settings: ProviderSettings) -> dict[str, Any]:
    """The provider's OpenAPI document with each information route's request model declared."""
    result = copy.deepcopy(document)
    for route in info_routes(provider_settings, CATALOGUE):
        operation = result["paths"].get(route.path, {}).get(route.spec.method.lower())
        if operation is not None:
            _describe(operation, route.spec, route.spec.method.lower())
    return result


async def _seed(app: Any, ca: CertificateAuthority) -> str:
    """Register the operator, import Alice and Bob, and grant a consent of every scope; returns its token."""
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await import_customers(db, [victim(), stranger()])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            harness = Harness(app=app, http=http, db=db, ca=ca)
            body = await harness.grant(ALICE, consent_for(harness, all_scopes(SECTORS)), nonce=urlsafe_nonce())
            token: str = body["access_token"]
            return token


@pytest.mark.timeout(240)
def test_schemathesis_no_server_error(tmp_path: Path, security_ca: CertificateAuthority) -> None:
    trust = tmp_path / "trust.pem"
    trust.write_bytes(security_ca.certificate_pem())
    provider_settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=SECTORS,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'provider.db'}",
        ca_code=CA_CODE,
        token_secret="schemathesis-token-secret",
        cursor_secret="schemathesis-cursor-secret",
        consent_verifier="local",
        consent_trust_roots_file=trust,
    )
    app = create_app(provider_settings)
    token = asyncio.run(_seed(app, security_ca))
    try:
        loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
        schema = schemathesis.openapi.from_dict(enriched(loaded.raw_schema, provider_settings))
        schema.app = app
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        counted = {"examples": 0, "5xx": 0}

        @settings(
            max_examples=EXAMPLES_PER_OPERATION * len(operations),
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            operation = data.draw(st.sampled_from(operations))
            modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
            case = data.draw(st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes)))
            headers = {
                "x-api-tran-id": tran_id(),
                "x-api-type": "user-search",
                "Authorization": f"Bearer {token}",
            }
            counted["examples"] += 1
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        run()
        print(f"schemathesis: {counted['examples']} examples over {len(operations)} operations, no 5xx")
        assert counted["examples"] >= 5 * len(operations)
    finally:
        schemathesis_asgi.shutdown_lifespans()
