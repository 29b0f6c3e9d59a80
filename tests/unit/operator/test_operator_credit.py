"""The credit view of the operator app: the score band and reasons from a person's collected records, and what
it says without a model. Runs on SQLite and PostgreSQL (`db_url`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from operator_fakes import BANK, FakeEcosystem, settings_for

from openmydata.operator.app import create_app
from openmydata.operator.insights.features import FEATURE_NAMES
from openmydata.operator.insights.model import CreditModel
from openmydata.sandbox.products import write_catalogue


def _model(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3000, len(FEATURE_NAMES)))
    balance = FEATURE_NAMES.index("fin_deposit_balance_log")
    y = (rng.random(3000) < 1 / (1 + np.exp(2.0 + 1.2 * x[:, balance]))).astype(int)
    CreditModel.train(x[:2000], y[:2000], x[2000:], y[2000:], FEATURE_NAMES).save(path)


@pytest.fixture
async def app_and_client(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Path]]:
    fake = FakeEcosystem()
    model_path = tmp_path / "insights" / "credit-model.json"
    settings = settings_for(db_url, tmp_path / "operator-keys.json").model_copy(
        # the test's own files, never the working directory's .openmydata/
        update={"credit_model_path": str(model_path), "product_catalogue_path": str(tmp_path / "products.json")}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as peers:
        app = create_app(settings, http_client=peers)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
        ):
            response = await client.post(
                "/api/signup", json={"name": "김철수", "birth_date": "19900101", "phone": "010-1234-5678"}
            )
            fake.identity_status = "02"
            response = await client.post("/api/signup/complete", json={"cert_tx_id": response.json()["cert_tx_id"]})
            token = response.json()["session_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            response = await client.post("/api/consents", json={"org_codes": [BANK]})
            fake.sign_status = "02"
            response = await client.post("/api/consents/complete", json={"cert_tx_id": response.json()["cert_tx_id"]})
            assert response.status_code == 200, response.text
            yield app, client, model_path


async def test_without_a_model_the_view_says_so(app_and_client: tuple[FastAPI, httpx.AsyncClient, Path]) -> None:
    _, client, _ = app_and_client
    body = (await client.get("/api/me/credit")).json()
    assert body == {"available": False, "has_telecom": False, "has_credit_history": True, "reason": "no model"}


async def test_the_band_and_its_reasons_come_from_the_collected_records(
    app_and_client: tuple[FastAPI, httpx.AsyncClient, Path],
) -> None:
    _, client, model_path = app_and_client
    _model(model_path, 1)
    body = (await client.get("/api/me/credit")).json()
    assert body["available"] is True
    assert body["band"] in {"A", "B", "C", "D", "E"}
    assert 0 <= body["probability"] <= 1
    assert body["reasons"]
    assert body["reasons"][0]["feature"] == "fin_deposit_balance_log"  # the bank's deposits are held
    assert body["has_telecom"] is False
    english = (await client.get("/api/me/credit", params={"lang": "en"})).json()
    assert english["reasons"][0]["label"] == "deposit balances"
    # a newly trained model takes effect without a restart
    first = body["probability"]
    _model(model_path, 7)
    assert (await client.get("/api/me/credit")).json()["probability"] != first


async def test_the_credit_page_shows_the_band(app_and_client: tuple[FastAPI, httpx.AsyncClient, Path]) -> None:
    _, client, model_path = app_and_client
    response = await client.get("/credit")
    assert response.status_code == 200
    assert "신용 보기를 아직 쓸 수 없습니다" in response.text
    _model(model_path, 1)
    page = (await client.get("/credit")).text
    assert 'data-testid="credit-band"' in page
    assert "등급에 가장 크게 작용한 이유" in page


async def test_the_credit_view_needs_a_session_and_a_known_language(
    app_and_client: tuple[FastAPI, httpx.AsyncClient, Path],
) -> None:
    _, client, _ = app_and_client
    response = await client.get("/api/me/credit", params={"lang": "fr"})
    assert response.status_code == 400
    assert response.json()["rsp_code"] == "40001"
    del client.headers["Authorization"]
    response = await client.get("/api/me/credit")
    assert response.status_code == 401
    assert response.json()["rsp_code"] == "40101"


async def test_spending_and_recommendations_of_a_bank_customer(
    app_and_client: tuple[FastAPI, httpx.AsyncClient, Path], tmp_path: Path
) -> None:
    app, client, _ = app_and_client
    spending = (await client.get("/api/me/spending")).json()
    # a bank alone: no card approvals or telecom bills to analyse
    assert spending["months"] == []
    assert spending["categories"] == []
    page = await client.get("/spending")
    assert page.status_code == 200
    assert "아직 분석할 지출이 없습니다" in page.text
    # without a catalogue there is nothing to recommend; with one, what the bank data supports (if anything)
    assert (await client.get("/api/me/recommendations")).json() == {"offers": []}
    app.state.settings.product_catalogue_path = str(write_catalogue(tmp_path / "products.json"))
    offers = (await client.get("/api/me/recommendations")).json()["offers"]
    assert all(offer["yearly_gain"] >= 10_000 and offer["reason"] for offer in offers)
    page = await client.get("/recommendations")
    assert page.status_code == 200
    assert "추천 상품" in page.text


async def test_the_insight_pages_need_a_session(app_and_client: tuple[FastAPI, httpx.AsyncClient, Path]) -> None:
    _, client, _ = app_and_client
    del client.headers["Authorization"]
    for path in ("/api/me/spending", "/api/me/recommendations"):
        response = await client.get(path)
        assert response.status_code == 401
        assert response.json()["rsp_code"] == "40101"
    for path in ("/spending", "/recommendations"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303)
