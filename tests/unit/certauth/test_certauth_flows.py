from __future__ import annotations

import base64
from typing import Any

from openmydata.kit import cms, pki

from .conftest import PERSONS, World


async def start_identity(world: World, person: dict[str, str] = PERSONS[0]) -> dict[str, Any]:
    response = await world.post(
        "/v1/ca/identity_request",
        {
            "real_name": person["name"],
            "birth_date": person["birth_date"],
            "phone_num": person["phone"],
            "request_title": "오픈마이데이터 본인확인",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def approve(world: World, cert_tx_id: str, pin: str, decision: str = "approve") -> Any:
    return await world.ca.post(f"/v1/ca/approvals/{cert_tx_id}", json={"pin": pin, "decision": decision})


async def signed_flow(world: World, consents: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    body = world.sign_body(consents)
    response = await world.post("/v1/ca/sign_request", body)
    assert response.status_code == 200, response.text
    started = response.json()
    assert (await approve(world, started["cert_tx_id"], PERSONS[0]["pin"])).status_code == 200
    result = await world.post(
        "/v1/ca/sign_result", {"cert_tx_id": started["cert_tx_id"], "sign_tx_id": body["sign_tx_id"]}
    )
    return started, {"request": body, "result": result.json()}


def verification(item: dict[str, Any], cert_tx_id: str, signed: str | None = None) -> dict[str, Any]:
    text = signed or item["signed_consent"]
    return {
        "tx_id": item["tx_id"],
        "cert_tx_id": cert_tx_id,
        "signed_consent_len": str(len(text)),
        "signed_consent": text,
        "consent_type": "0",
    }


class TestIdentityFlow:
    async def test_full_flow(self, world: World) -> None:
        await world.enrol()
        started = await start_identity(world)
        assert started["rsp_code"] == "00000"
        assert len(started["cert_tx_id"]) == 40
        assert started["approval_url"] == f"http://ca.test/approve/{started['cert_tx_id']}"

        pending = await world.post("/v1/ca/identity_result", {"cert_tx_id": started["cert_tx_id"]})
        assert pending.json() == {"rsp_code": "00000", "rsp_msg": "성공", "sign_status": "01"}

        page = await world.ca.get(f"/approve/{started['cert_tx_id']}")
        assert page.status_code == 200
        assert "오픈마이데이터 본인확인" in page.text
        assert '<label for="pin">' in page.text
        assert 'value="approve"' in page.text
        assert 'value="reject"' in page.text

        decided = await approve(world, started["cert_tx_id"], PERSONS[0]["pin"])
        assert decided.json()["sign_status"] == "02"
        result = (await world.post("/v1/ca/identity_result", {"cert_tx_id": started["cert_tx_id"]})).json()
        assert result["sign_status"] == "02"
        assert result["user_ci"] == PERSONS[0]["ci"]
        assert result["real_name"] == PERSONS[0]["name"]
        assert result["birth_date"] == PERSONS[0]["birth_date"]
        assert result["phone_num"] == "01012345678"

    async def test_unknown_person_is_40403(self, world: World) -> None:
        await world.enrol()
        response = await world.post(
            "/v1/ca/identity_request",
            {"real_name": "홍길동", "birth_date": "19700101", "phone_num": "01000000000", "request_title": "본인확인"},
        )
        assert response.status_code == 404
        assert response.json()["rsp_code"] == "40403"

    async def test_other_org_cannot_read_the_result(self, world: World) -> None:
        await world.enrol()
        started = await start_identity(world)
        response = await world.post("/v1/ca/identity_result", {"cert_tx_id": started["cert_tx_id"]}, world.provider)
        assert response.status_code == 404
        assert response.json()["rsp_code"] == "40402"

    async def test_rejected_and_expired(self, world: World) -> None:
        await world.enrol()
        rejected = await start_identity(world)
        assert (await approve(world, rejected["cert_tx_id"], "", "reject")).json()["sign_status"] == "03"
        expired = await start_identity(world)
        world.clock.advance(seconds=301)
        result = await world.post("/v1/ca/identity_result", {"cert_tx_id": expired["cert_tx_id"]})
        assert result.json()["sign_status"] == "04"
        late = await approve(world, expired["cert_tx_id"], PERSONS[0]["pin"])
        assert late.status_code == 403
        assert late.json()["sign_status"] == "04"


class TestSignFlow:
    async def test_full_flow_with_cms_the_kit_verifies(self, world: World) -> None:
        await world.enrol()
        consents = [world.consent_text(), world.consent_text("가계부 서비스")]
        body = world.sign_body(consents)
        started = (await world.post("/v1/ca/sign_request", body)).json()
        assert started["rsp_code"] == "00000"

        pending = await world.post(
            "/v1/ca/sign_result", {"cert_tx_id": started["cert_tx_id"], "sign_tx_id": body["sign_tx_id"]}
        )
        assert pending.json()["sign_status"] == "01"
        assert "signed_consent_list" not in pending.json()

        page = await world.ca.get(f"/approve/{started['cert_tx_id']}")
        assert "오픈은행" in page.text  # the provider's name from the registry
        assert "자산관리 서비스 제공" in page.text
        assert "bank.deposit" in page.text
        assert "거래 적요" in page.text

        submitted = await world.ca.post(
            f"/approve/{started['cert_tx_id']}", data={"pin": PERSONS[0]["pin"], "decision": "approve"}
        )
        assert submitted.status_code == 200
        assert "전자서명이 완료되었습니다" in submitted.text

        result = (
            await world.post(
                "/v1/ca/sign_result", {"cert_tx_id": started["cert_tx_id"], "sign_tx_id": body["sign_tx_id"]}
            )
        ).json()
        assert result["sign_status"] == "02"
        assert result["signed_consent_cnt"] == "2"
        root = pki.cert_from_pem((await world.ca.get("/ca/root.pem")).content)
        for item, sent in zip(result["signed_consent_list"], body["consent_list"], strict=True):
            assert item["tx_id"] == sent["tx_id"]
            assert int(item["signed_consent_len"]) == len(item["signed_consent"])
            signed = cms.verify(base64.urlsafe_b64decode(item["signed_consent"]), [root])
            assert signed.content == sent["consent"].encode("utf-8")
            assert pki.subject_serial_number(signed.signer) == PERSONS[0]["ci"]
            assert cms.content_of(base64.urlsafe_b64decode(item["signed_consent"])) == sent["consent"].encode()

    async def test_sign_verification(self, world: World) -> None:
        await world.enrol()
        first, flow = await signed_flow(world, [world.consent_text()])
        item = flow["result"]["signed_consent_list"][0]

        genuine = await world.post("/v1/ca/sign_verification", verification(item, first["cert_tx_id"]), world.provider)
        assert genuine.status_code == 200
        assert genuine.json()["result"] == "true"
        assert genuine.json()["user_ci"] == PERSONS[0]["ci"]
        assert genuine.json()["tx_id"] == item["tx_id"]

        der = bytearray(base64.urlsafe_b64decode(item["signed_consent"]))
        index = bytes(der).index("자산관리".encode())
        der[index] ^= 0x01
        tampered = base64.urlsafe_b64encode(bytes(der)).decode()
        response = await world.post(
            "/v1/ca/sign_verification", verification(item, first["cert_tx_id"], tampered), world.provider
        )
        assert response.json()["result"] == "false"
        assert "user_ci" not in response.json()

        second, _other = await signed_flow(world, [world.consent_text()])
        crossed = verification(item, second["cert_tx_id"])
        assert (await world.post("/v1/ca/sign_verification", crossed, world.provider)).json()["result"] == "false"

        wrong_tx = {**verification(item, first["cert_tx_id"]), "tx_id": item["tx_id"][:-1] + "X"}
        assert (await world.post("/v1/ca/sign_verification", wrong_tx, world.provider)).json()["result"] == "false"

    async def test_revoked_certificate_no_longer_verifies(self, world: World) -> None:
        await world.enrol()
        started, flow = await signed_flow(world, [world.consent_text()])
        item = flow["result"]["signed_consent_list"][0]
        response = await world.ca.post(
            "/admin/persons/revoke", json={"ci": PERSONS[0]["ci"]}, headers={"x-admin-key": "ca-admin"}
        )
        assert response.json() == {"revoked": True}
        response = await world.post(
            "/v1/ca/sign_verification", verification(item, started["cert_tx_id"]), world.provider
        )
        assert response.json()["result"] == "false"

    async def test_verification_of_unknown_transaction_is_40402(self, world: World) -> None:
        item = {"tx_id": "MD_X", "signed_consent": "QUJD"}
        response = await world.post("/v1/ca/sign_verification", verification(item, "Z1NONE0000"), world.provider)
        assert response.status_code == 404
        assert response.json()["rsp_code"] == "40402"

    async def test_validation_errors_are_40001(self, world: World) -> None:
        await world.enrol()
        consents = [world.consent_text()]
        for body in (
            world.sign_body(consents, consent_cnt="2"),
            world.sign_body(consents, device_code="XX"),
            {
                **world.sign_body(consents),
                "consent_list": [{**world.sign_body(consents)["consent_list"][0], "consent_len": "1"}],
            },
        ):
            response = await world.post("/v1/ca/sign_request", body)
            assert response.status_code == 400
            assert response.json()["rsp_code"] == "40001"

    async def test_holder_mismatch_is_40403(self, world: World) -> None:
        await world.enrol()
        body = world.sign_body([world.consent_text()], real_name="다른사람")
        response = await world.post("/v1/ca/sign_request", body)
        assert response.json()["rsp_code"] == "40403"

    async def test_sign_result_needs_the_sign_tx_id(self, world: World) -> None:
        await world.enrol()
        started, flow = await signed_flow(world, [world.consent_text()])
        response = await world.post("/v1/ca/sign_result", {"cert_tx_id": started["cert_tx_id"], "sign_tx_id": "OTHER"})
        assert response.json()["rsp_code"] == "40402"
        assert flow["result"]["sign_status"] == "02"


class TestPinLimit:
    async def test_five_wrong_pins_reject_the_request(self, world: World) -> None:
        await world.enrol()
        body = world.sign_body([world.consent_text()])
        started = (await world.post("/v1/ca/sign_request", body)).json()
        for left in (4, 3, 2, 1):
            response = await approve(world, started["cert_tx_id"], "000000")
            assert response.status_code == 401
            assert response.json()["rsp_code"] == "40101"
            assert f"남은 시도 {left}회" in response.json()["rsp_msg"]
            assert response.json()["sign_status"] == "01"
        last = await approve(world, started["cert_tx_id"], "000000")
        assert last.status_code == 401
        assert last.json()["sign_status"] == "03"
        assert "5회" in last.json()["rsp_msg"]
        # Even the right PIN cannot revive it.
        again = await approve(world, started["cert_tx_id"], PERSONS[0]["pin"])
        assert again.status_code == 403
        assert again.json()["sign_status"] == "03"
        result = await world.post(
            "/v1/ca/sign_result", {"cert_tx_id": started["cert_tx_id"], "sign_tx_id": body["sign_tx_id"]}
        )
        assert result.json()["sign_status"] == "03"

    async def test_wrong_pin_on_the_page(self, world: World) -> None:
        await world.enrol()
        started = await start_identity(world)
        page = await world.ca.post(f"/approve/{started['cert_tx_id']}", data={"pin": "999999", "decision": "approve"})
        assert page.status_code == 401
        assert "PIN이 올바르지 않습니다" in page.text
        assert "남은 시도 4회" in page.text

    async def test_unknown_page_is_404(self, world: World) -> None:
        response = await world.ca.get("/approve/NOPE")
        assert response.status_code == 404
        assert "요청을 찾을 수 없습니다" in response.text
        response = await approve(world, "NOPE", "1234")
        assert response.json()["rsp_code"] == "40402"
