"""The relay (중계기관) in process: which institution a call goes to, what travels with it, and the relay's own
answers (40303, 50005, 50006, 50007). The institutions are httpx mock transports here, so that each answer a
real institution might give (or fail to give) can be produced on purpose; tests/integration/test_relay.py runs
the relay between real providers and a real operator over mutual TLS."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography import x509
from starlette.types import ASGIApp, Receive, Scope, Send

from openmydata.kit import pki
from openmydata.provider.relay import RelaySettings, create_relay_app
from openmydata.standard.peers import PeerRegistry, RegisteredOrg

CARD = "D1AAAA0000"
TELECOM = "K1AAAA0000"
BANK = "A1AAAA0000"
OPERATOR = "M1AAAA0000"
OPERATOR_REGNO = "2208162517"


@dataclass
class Institutions:
    """Records what reached each fronted institution and answers as told."""

    seen: list[httpx.Request] = field(default_factory=list)
    answer: Callable[[httpx.Request], httpx.Response] | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.answer is not None:
            return self.answer(request)
        return httpx.Response(
            200,
            json={"rsp_code": "00000", "rsp_msg": "성공", "host": request.url.host, "path": request.url.path},
            headers={"x-api-tran-id": request.headers.get("x-api-tran-id", ""), "set-cookie": "internal=1"},
        )


def with_client_certificate(app: ASGIApp, certificate: x509.Certificate | None) -> ASGIApp:
    """What `kit.tls` hands the app for a mutual-TLS connection: the client's certificate chain."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if certificate is not None and scope["type"] == "http":
            chain = [pki.cert_to_pem(certificate).decode("ascii")]
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": {"client_cert_chain": chain}}}
        await app(scope, receive, send)

    return wrapped


@dataclass
class World:
    http: httpx.AsyncClient
    institutions: Institutions
    operator: x509.Certificate


@pytest.fixture(scope="module")
def operator_certificate() -> x509.Certificate:
    return pki.CertificateAuthority.create("relay test CA").issue_organisation(OPERATOR, OPERATOR_REGNO)[1]


async def _world(
    operator_certificate: x509.Certificate, *, closed: list[str], closed_clients: list[str]
) -> AsyncIterator[World]:
    institutions = Institutions()
    settings = RelaySettings(
        org_code="Y1RELAY000",
        insecure_plain_http=True,
        fronted={CARD: "https://card.internal:8443", TELECOM: "https://telecom.internal:8443/base"},
        closed=closed,
        closed_clients=closed_clients,
    )
    backend = httpx.AsyncClient(transport=httpx.MockTransport(institutions.handle))
    app = create_relay_app(settings, http_client=backend)
    async with app.router.lifespan_context(app):
        app.state.peers = PeerRegistry(
            None, fixed=[RegisteredOrg(org_code=OPERATOR, org_type="03", serial_num=OPERATOR_REGNO)]
        )
        transport = httpx.ASGITransport(app=with_client_certificate(app, operator_certificate))
        async with httpx.AsyncClient(transport=transport, base_url="https://relay.test") as http:
            yield World(http, institutions, operator_certificate)
    await backend.aclose()


@pytest.fixture
async def world(operator_certificate: x509.Certificate) -> AsyncIterator[World]:
    async for item in _world(operator_certificate, closed=[TELECOM], closed_clients=[]):
        yield item


HEADERS = {"Authorization": "Bearer t", "x-api-tran-id": "M1AAAA0000M20261122000001", "x-api-type": "user-search"}


def code_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json()["rsp_code"])


class TestForwarding:
    async def test_a_get_goes_to_the_institution_its_org_code_names(self, world: World) -> None:
        response = await world.http.get(
            "/v1/card/cards", params={"org_code": CARD, "limit": "5"}, headers={**HEADERS, "cookie": "a=b"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["host"] == "card.internal"
        assert response.headers["x-api-tran-id"] == HEADERS["x-api-tran-id"]
        assert "set-cookie" not in response.headers  # only the standard's response headers come back
        [sent] = world.institutions.seen
        assert str(sent.url) == f"https://card.internal:8443/v1/card/cards?org_code={CARD}&limit=5"
        assert sent.headers["authorization"] == "Bearer t"
        assert sent.headers["x-api-type"] == "user-search"
        assert "cookie" not in sent.headers
        # the operator's certificate travels along (RFC 9440), DER in a structured-field byte sequence
        forwarded = sent.headers["client-cert"]
        assert forwarded.startswith(":")
        assert forwarded.endswith(":")
        assert x509.load_der_x509_certificate(base64.b64decode(forwarded[1:-1])) == world.operator

    async def test_a_json_body_and_a_form_name_the_institution_too(self, world: World) -> None:
        body = {"org_code": CARD, "card_id": "1"}
        response = await world.http.post("/v1/card/cards/bills", json=body, headers=HEADERS)
        assert response.json()["host"] == "card.internal"
        assert json.loads(world.institutions.seen[-1].content) == body
        form = {"grant_type": "refresh_token", "org_code": CARD, "refresh_token": "r"}
        response = await world.http.post("/oauth/2.0/token", data=form)
        assert response.json()["path"] == "/oauth/2.0/token"
        assert world.institutions.seen[-1].headers["content-type"] == "application/x-www-form-urlencoded"

    async def test_the_institution_s_own_errors_pass_unchanged(self, world: World) -> None:
        world.institutions.answer = lambda _request: httpx.Response(
            401, json={"rsp_code": "40101", "rsp_msg": "접근토큰 오류"}, headers={"retry-after": "5"}
        )
        response = await world.http.get("/v1/card/cards", params={"org_code": CARD}, headers=HEADERS)
        assert code_of(response) == (401, "40101")
        assert response.headers["retry-after"] == "5"


class TestRelayAnswers:
    @pytest.mark.parametrize("params", [{"org_code": BANK}, {}, {"org_code": ""}])
    async def test_an_org_code_the_relay_does_not_front_is_40303(self, world: World, params: dict[str, str]) -> None:
        response = await world.http.get("/v1/bank/accounts", params=params, headers=HEADERS)
        assert code_of(response) == (403, "40303")
        assert response.headers["x-api-tran-id"] == HEADERS["x-api-tran-id"]
        assert world.institutions.seen == []

    async def test_a_body_that_is_not_json_names_no_institution(self, world: World) -> None:
        response = await world.http.post(
            "/v1/card/cards/bills", content=b"{not json", headers={**HEADERS, "content-type": "application/json"}
        )
        assert code_of(response) == (403, "40303")

    async def test_a_closed_link_is_50005_without_a_call(self, world: World) -> None:
        response = await world.http.get("/v1/telecom/telecoms", params={"org_code": TELECOM}, headers=HEADERS)
        assert code_of(response) == (500, "50005")
        assert world.institutions.seen == []

    @pytest.mark.parametrize(
        "failure",
        [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")],
        ids=["refused", "timeout", "reset"],
    )
    async def test_an_institution_that_does_not_answer_is_50005(self, world: World, failure: Exception) -> None:
        def fail(_request: httpx.Request) -> httpx.Response:
            raise failure

        world.institutions.answer = fail
        response = await world.http.get("/v1/card/cards", params={"org_code": CARD}, headers=HEADERS)
        assert code_of(response) == (500, "50005")
        assert CARD in response.json()["rsp_msg"]

    async def test_a_5xx_without_a_standard_answer_is_50005(self, world: World) -> None:
        world.institutions.answer = lambda _request: httpx.Response(503, text="<html>maintenance</html>")
        response = await world.http.get("/v1/card/cards", params={"org_code": CARD}, headers=HEADERS)
        assert code_of(response) == (500, "50005")

    @pytest.mark.parametrize(
        "answer",
        [
            httpx.Response(200, text="<html>login</html>"),
            httpx.Response(200, json=["not", "an", "object"]),
            httpx.Response(200, content=b"\xff\xfe{"),
        ],
        ids=["html", "json-array", "bad-bytes"],
    )
    async def test_an_answer_that_cannot_be_relayed_is_50007(self, world: World, answer: httpx.Response) -> None:
        world.institutions.answer = lambda _request: answer
        response = await world.http.get("/v1/card/cards", params={"org_code": CARD}, headers=HEADERS)
        assert code_of(response) == (500, "50007")

    async def test_a_suspended_operator_is_50006(self, operator_certificate: x509.Certificate) -> None:
        async for world in _world(operator_certificate, closed=[], closed_clients=[OPERATOR]):
            response = await world.http.get("/v1/card/cards", params={"org_code": CARD}, headers=HEADERS)
            assert code_of(response) == (500, "50006")
            assert world.institutions.seen == []

    async def test_participant_paths_need_a_registered_certificate(self) -> None:
        settings = RelaySettings(org_code="Y1RELAY000", insecure_plain_http=True, fronted={CARD: "https://c.internal"})
        app = create_relay_app(settings, http_client=httpx.AsyncClient())
        stranger = pki.CertificateAuthority.create("other CA").issue_organisation("STRANGER01", "5555555555")[1]
        async with app.router.lifespan_context(app):
            app.state.peers = PeerRegistry(None)
            transport = httpx.ASGITransport(app=with_client_certificate(app, stranger))
            async with httpx.AsyncClient(transport=transport, base_url="https://relay.test") as http:
                response = await http.get("/v1/card/cards", params={"org_code": CARD}, headers=HEADERS)
                health = await http.get("/health")
        assert code_of(response) == (401, "40103")
        assert health.json() == {"status": "ok", "fronted": 1}

    def test_fronted_urls_are_checked(self) -> None:
        with pytest.raises(ValueError, match="not an http"):
            RelaySettings(fronted={CARD: "card.internal"})
