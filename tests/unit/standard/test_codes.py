"""The response-code table (digest §2.7)."""

from __future__ import annotations

import pytest

from openmydata.kit.errors import ServiceError
from openmydata.standard.codes import CODES, RspCode, StandardError, success_envelope


class TestCodes:
    def test_every_code_has_an_entry(self) -> None:
        assert set(CODES) == set(RspCode)

    @pytest.mark.parametrize("code", list(RspCode))
    def test_http_status_matches_the_code_class(self, code: RspCode) -> None:
        status = CODES[code].http_status
        if code.value.startswith("0") or code is RspCode.REVOKE_INVALID_TOKEN:
            assert status == 200
        else:
            assert status == int(code.value[:3])
        assert CODES[code].message

    def test_success_envelope(self) -> None:
        assert success_envelope() == {"rsp_code": "00000", "rsp_msg": CODES[RspCode.OK].message}
        assert success_envelope(RspCode.UP_TO_DATE)["rsp_code"] == "00001"


class TestStandardError:
    @pytest.mark.parametrize("code", list(RspCode))
    def test_status_and_body_come_from_the_table(self, code: RspCode) -> None:
        error = StandardError(code)
        assert isinstance(error, ServiceError)
        assert error.status_code == CODES[code].http_status
        assert error.code is code
        assert error.body() == {"rsp_code": code.value, "rsp_msg": CODES[code].message}

    def test_detail_and_headers(self) -> None:
        error = StandardError(RspCode.BAD_PARAMETER, "limit", headers={"Retry-After": "1"})
        assert error.status_code == 400
        assert error.body()["rsp_msg"] == f"{CODES[RspCode.BAD_PARAMETER].message}: limit"
        assert error.headers == {"Retry-After": "1"}
