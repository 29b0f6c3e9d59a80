"""개별인증 in a real browser: a person signs up at the operator, connects the bank with the bank's own login page
(개별인증-001), leaves one account out on the bank's asset-selection page, comes back through the operator's
callback (개별인증-002 over mutual TLS) and finds the bank's data on the dashboard: the chosen accounts' details,
none of the account left out.

Screenshots are saved under tests/browser/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from openmydata.demo import Ecosystem, ProviderHandle
from openmydata.kit.db import Database
from openmydata.provider.importer import export_customer_records
from openmydata.sandbox.institutions import is_customer
from openmydata.sandbox.population import Person
from tests.browser.conftest import EcosystemThread

pytestmark = pytest.mark.browser


def _bank(eco: Ecosystem) -> ProviderHandle:
    return next(provider for provider in eco.providers if provider.sector == "bank")


async def _accounts(provider: ProviderHandle, ci: str) -> list[dict[str, Any]]:
    db = Database(provider.database_url)
    try:
        return [record.payload for record in await export_customer_records(db, ci) if record.api_id == "은행-001"]
    finally:
        await db.dispose()


def _masked(number: str) -> str:
    return f"****{number[-4:]}"


@pytest.fixture
def customer(ecosystem: EcosystemThread) -> tuple[Person, list[dict[str, Any]]]:
    """A bank customer with at least two accounts whose labels on the bank's page are distinct."""
    eco = ecosystem.eco
    bank = _bank(eco)
    for person in eco.people:
        if not is_customer(person, "bank", bank.org_code, eco.seed):
            continue
        accounts = ecosystem.run(_accounts(bank, person.ci))
        labels = {(str(a.get("prod_name")), str(a["account_num"])[-4:]) for a in accounts}
        if len(accounts) >= 2 and len(labels) == len(accounts):
            return person, accounts
    pytest.fail("no seeded person holds two bank accounts")


def _sign_up(page: Page, eco: Ecosystem, person: Person, shot: Path) -> None:
    page.goto(eco.operator_url)
    page.get_by_label("이름").fill(person.name)
    page.get_by_label("생년월일").fill(person.birth_date)
    page.get_by_label("휴대폰 번호").fill(person.phone)
    page.get_by_role("button", name="인증서로 본인확인").click()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="인증서 앱에서 승인하기").click()
    approval = opened.value
    approval.wait_for_load_state()
    approval.get_by_label("인증서 PIN").fill(person.pin)
    approval.screenshot(path=shot, full_page=True)
    approval.get_by_role("button", name="승인", exact=True).click()
    expect(approval.get_by_role("alert")).to_have_text("본인확인이 완료되었습니다.")
    approval.close()
    page.get_by_role("button", name="승인 완료").click()
    expect(page).to_have_url(re.compile(r"/connect$"))


class TestIndividualAuthentication:
    def test_connect_the_bank_with_its_own_login_and_see_the_chosen_accounts(
        self,
        page: Page,
        ecosystem: EcosystemThread,
        customer: tuple[Person, list[dict[str, Any]]],
        artifacts: Path,
    ) -> None:
        eco = ecosystem.eco
        bank = _bank(eco)
        person, accounts = customer
        left_out, *chosen = accounts

        _sign_up(page, eco, person, artifacts / "ia-01-certauth-identity.png")

        # The operator's connect page offers each institution's own login; the person picks the bank.
        page.get_by_role("link", name=f"{bank.name} 로그인으로 연결").click()
        expect(page.get_by_role("heading", name=f"{bank.name} 로그인으로 연결")).to_be_visible()
        page.screenshot(path=artifacts / "ia-02-operator-individual.png", full_page=True)
        page.get_by_role("button", name=f"{bank.name} 로그인 화면으로 이동").click()

        # The bank's own page, on the bank's public listener: sign in with the bank's PIN.
        expect(page).to_have_url(re.compile("^" + re.escape(bank.public_url) + r"/oauth/2\.0/authorize\?"))
        expect(page.get_by_role("heading", name=f"{bank.name} 로그인")).to_be_visible()
        page.get_by_label("이름").fill(person.name)
        page.get_by_label("생년월일").fill(person.birth_date)
        page.get_by_label("휴대폰 번호").fill(person.phone)
        page.get_by_label("비밀번호").fill("000000" if person.pin != "000000" else "111111")
        page.get_by_role("button", name="로그인").click()
        expect(page.get_by_role("alert")).to_contain_text("입력하신 정보가 일치하지 않습니다")
        page.get_by_label("비밀번호").fill(person.pin)
        page.screenshot(path=artifacts / "ia-03-bank-login.png", full_page=True)
        page.get_by_role("button", name="로그인").click()

        # Asset selection: every account is offered and ticked; the person leaves one out.
        expect(page.get_by_role("heading", name="전송할 자산 선택")).to_be_visible()
        for account in accounts:
            box = page.get_by_label(f"{account['prod_name']} ({_masked(str(account['account_num']))})")
            expect(box).to_be_checked()
        page.get_by_label(f"{left_out['prod_name']} ({_masked(str(left_out['account_num']))})").uncheck()
        expect(page.get_by_label("1년")).to_be_checked()
        page.screenshot(path=artifacts / "ia-04-bank-assets.png", full_page=True)
        page.get_by_role("button", name="동의하고 전송요구").click()

        # Back at the operator: the code was exchanged, the bank's data collected, the dashboard shown.
        expect(page).to_have_url(f"{eco.operator_url}/dashboard")
        expect(page.get_by_role("heading", name=f"{person.name}님의 자산")).to_be_visible()
        expect(page.get_by_text("연결 기관 1곳")).to_be_visible()
        freshness = page.get_by_role("table", name="기관별 수집 현황")
        expect(freshness).to_contain_text(bank.name)
        expect(freshness.get_by_text("최신", exact=True)).to_have_count(1)
        table = page.get_by_role("table", name="계좌와 잔액")
        for account in chosen:
            expect(table).to_contain_text(str(account["prod_name"]))
            expect(table).to_contain_text(f"***-****-{str(account['account_num'])[-4:]}")
        page.screenshot(path=artifacts / "ia-05-dashboard.png", full_page=True)

        # What the operator collected: details of the chosen accounts only.
        held = page.request.get(f"{eco.operator_url}/api/me/records").json()["records"]
        detail_keys = {str(r["key"]).split("|", 1)[0] for r in held if r["api_id"] != "은행-001" and r["key"]}
        assert str(left_out["account_num"]) not in detail_keys
        assert detail_keys & {str(account["account_num"]) for account in chosen}

        # The consents page shows one valid consent for the bank.
        page.get_by_role("link", name="전송요구 관리").click()
        consents = page.get_by_role("table", name="전송요구 내역")
        expect(consents.get_by_text("유효", exact=True)).to_have_count(1)
        expect(consents).to_contain_text(bank.name)

    def test_cancelling_at_the_bank_is_reported_and_the_state_is_used_up(
        self,
        page: Page,
        ecosystem: EcosystemThread,
        customer: tuple[Person, list[dict[str, Any]]],
        artifacts: Path,
    ) -> None:
        eco = ecosystem.eco
        bank = _bank(eco)
        other = next(
            person
            for person in reversed(eco.people)
            if person.ci != customer[0].ci and is_customer(person, "bank", bank.org_code, eco.seed)
        )
        _sign_up(page, eco, other, artifacts / "ia-06-certauth-identity.png")
        page.get_by_role("link", name=f"{bank.name} 로그인으로 연결").click()
        page.get_by_role("button", name=f"{bank.name} 로그인 화면으로 이동").click()
        expect(page.get_by_role("heading", name=f"{bank.name} 로그인")).to_be_visible()
        page.get_by_role("button", name="취소").click()

        # The bank sends the browser back with error=access_denied and the state; the operator explains.
        expect(page).to_have_url(re.compile(re.escape(eco.operator_url) + r"/oauth/callback\?.*error=access_denied"))
        expect(page.get_by_role("alert")).to_have_text("기관 화면에서 연결을 취소했거나 본인 확인에 실패했습니다.")
        page.screenshot(path=artifacts / "ia-07-cancelled.png", full_page=True)

        # The same callback again (a replay): its state was used up.
        page.goto(page.url)
        expect(page.get_by_role("alert")).to_have_text(
            "연결 요청을 확인할 수 없습니다. 기관 연결을 처음부터 다시 시작해 주세요."
        )
        # A state this person never got is refused the same way, and nothing was connected.
        page.goto(f"{eco.operator_url}/oauth/callback?code=forged&state=forgedstate")
        expect(page.get_by_role("alert")).to_have_text(
            "연결 요청을 확인할 수 없습니다. 기관 연결을 처음부터 다시 시작해 주세요."
        )
        assert page.request.get(f"{eco.operator_url}/api/me/consents").json()["consents"] == []
