"""Scheduled-transmission windows registered at the portal and published through 지원-002 (digest §10.4)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ADMIN_KEY, Portal

PROVIDER = {
    "org_name": "정기은행",
    "org_type": "01",
    "industries": ["bank", "card"],
    "domain": "https://bank.test",
    "org_regno": "1234567890",
}


async def _orgs(portal: Portal, headers: dict[str, str], since: str | None = None) -> dict[str, Any]:
    params = {"search_timestamp": since} if since else {}
    response = await portal.http.get("/v1/mgmts/orgs", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _entries(body: dict[str, Any], org_code: str) -> list[dict[str, Any]]:
    return [entry for entry in body.get("org_list", []) if entry["org_code"] == org_code]


class TestRegistration:
    async def test_windows_are_registered_and_published(self, portal: Portal) -> None:
        bank = await portal.admin("/admin/orgs", {**PROVIDER, "np_time_list": ["0030:0530", "2300:0000"]})
        view = (await portal.http.get(f"/admin/orgs/{bank['org_code']}", headers={"x-admin-key": ADMIN_KEY})).json()
        assert view["np_time_list"] == ["0030:0530", "2300:0000"]

        entries = _entries(await _orgs(portal, await portal.bearer(bank)), bank["org_code"])
        assert [entry["industry"] for entry in entries] == ["bank", "card"]
        for entry in entries:
            # the standard's form: np_time_cnt + np_time_list[{np_time}], values as JSON strings (§10.3)
            assert entry["np_time_cnt"] == "2"
            assert entry["np_time_list"] == [{"np_time": "0030:0530"}, {"np_time": "2300:0000"}]

    async def test_an_org_without_windows_publishes_no_np_time_fields(self, portal: Portal) -> None:
        bank = await portal.admin("/admin/orgs", PROVIDER)
        operator = await portal.register("03", [])
        body = await _orgs(portal, await portal.bearer(bank))
        for org_code in (bank["org_code"], operator["org_code"]):
            for entry in _entries(body, org_code):
                assert "np_time_cnt" not in entry
                assert "np_time_list" not in entry
        view = (await portal.http.get(f"/admin/orgs/{bank['org_code']}", headers={"x-admin-key": ADMIN_KEY})).json()
        assert view["np_time_list"] == []

    @pytest.mark.parametrize(
        ("windows", "reason"),
        [
            (["0000:0530"], "at least 6 hours"),
            (["0000:0345", "1200:1500"], "30-minute boundary"),
            (["0000:0200", "0300:0500", "0600:0800", "0900:1100"], "1 to 3 windows"),
            (["0000:0400", "0330:0700"], "overlap"),
            (["00:00-06:00"], "hhmm:hhmm"),
            (["2400:0600"], "time of day"),
        ],
    )
    async def test_windows_the_standard_does_not_allow_are_40001(
        self, portal: Portal, windows: list[str], reason: str
    ) -> None:
        response = await portal.http.post(
            "/admin/orgs", json={**PROVIDER, "np_time_list": windows}, headers={"x-admin-key": ADMIN_KEY}
        )
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        assert reason in response.json()["rsp_msg"]
        # nothing was registered
        operator = await portal.register("03", [])
        assert [entry["org_code"] for entry in (await _orgs(portal, await portal.bearer(operator)))["org_list"]] == [
            operator["org_code"]
        ]

    @pytest.mark.parametrize("windows", ["0000:0600", [{"np_time": "0000:0600"}], ["0" * 17]])
    async def test_other_shapes_are_40001(self, portal: Portal, windows: Any) -> None:
        response = await portal.http.post(
            "/admin/orgs", json={**PROVIDER, "np_time_list": windows}, headers={"x-admin-key": ADMIN_KEY}
        )
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")

    async def test_only_providers_publish_windows(self, portal: Portal) -> None:
        body = {**PROVIDER, "org_type": "03", "industries": [], "np_time_list": ["0000:0600"]}
        response = await portal.http.post("/admin/orgs", json=body, headers={"x-admin-key": ADMIN_KEY})
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        assert "providers" in response.json()["rsp_msg"]


class TestChange:
    async def test_a_change_reaches_the_delta(self, portal: Portal) -> None:
        bank = await portal.admin("/admin/orgs", {**PROVIDER, "np_time_list": ["0000:0600"]})
        other = await portal.admin("/admin/orgs", {**PROVIDER, "industries": ["insu"]})
        headers = await portal.bearer(bank)
        portal.clock.advance(seconds=1)  # a change in the stamp's own second would be sent again (§2.5)
        stamp = (await _orgs(portal, headers))["search_timestamp"]
        portal.clock.advance(seconds=1)
        assert (await _orgs(portal, headers, stamp))["rsp_code"] == "00001"

        portal.clock.advance(seconds=1)
        view = await portal.admin(f"/admin/orgs/{bank['org_code']}", {"np_time_list": ["1200:1500", "1600:1900"]})
        assert view["np_time_list"] == ["1200:1500", "1600:1900"]
        portal.clock.advance(seconds=1)
        body = await _orgs(portal, headers, stamp)
        assert {(entry["org_code"], entry["industry"], entry["op_type"]) for entry in body["org_list"]} == {
            (bank["org_code"], "bank", "M"),
            (bank["org_code"], "card", "M"),
        }
        assert all(entry["np_time_cnt"] == "2" for entry in body["org_list"])
        assert other["org_code"] not in {entry["org_code"] for entry in body["org_list"]}

        # withdrawn: the modified entries carry no windows any more
        stamp = body["search_timestamp"]
        portal.clock.advance(seconds=1)
        await portal.admin(f"/admin/orgs/{bank['org_code']}", {"np_time_list": []})
        portal.clock.advance(seconds=1)
        body = await _orgs(portal, headers, stamp)
        assert [(entry["op_type"], "np_time_list" in entry) for entry in body["org_list"]] == [("M", False)] * 2

    async def test_a_bad_change_is_40001_and_leaves_the_windows(self, portal: Portal) -> None:
        bank = await portal.admin("/admin/orgs", {**PROVIDER, "np_time_list": ["0000:0600"]})
        response = await portal.http.post(
            f"/admin/orgs/{bank['org_code']}",
            json={"np_time_list": ["0000:0200"], "org_name": "바뀐이름"},
            headers={"x-admin-key": ADMIN_KEY},
        )
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        view = (await portal.http.get(f"/admin/orgs/{bank['org_code']}", headers={"x-admin-key": ADMIN_KEY})).json()
        assert (view["np_time_list"], view["org_name"]) == (["0000:0600"], "정기은행")
