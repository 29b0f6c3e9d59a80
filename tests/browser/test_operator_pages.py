"""The operator's web pages in a real browser, as a person uses them: sign up with the certificate app (certauth's
approval page), connect the bank, the card company and the telecom company in one signature, read the
dashboard, then withdraw everything.

Screenshots of every step are saved under tests/browser/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from openmydata.demo import Ecosystem
from openmydata.kit.db import Database
from openmydata.provider.importer import export_customer_records
from openmydata.sandbox.population import Person
from tests.browser.conftest import EcosystemThread

pytestmark = pytest.mark.browser

WON = re.compile(r"₩[0-9][0-9,]*")


def _won(value: Any) -> str:
    return f"₩{Decimal(str(value)).quantize(Decimal(1)):,}"


async def _held_by_providers(eco: Ecosystem, ci: str) -> dict[str, list[dict[str, Any]]]:
    """What the providers hold for the person, by API ID (read from their databases, as the smoke run does)."""
    held: dict[str, list[dict[str, Any]]] = {}
    for provider in eco.providers:
        db = Database(provider.database_url)
        try:
            for record in await export_customer_records(db, ci):
                held.setdefault(record.api_id, []).append(record.payload)
        finally:
            await db.dispose()
    return held


def _masked_account(number: str) -> str:
    """How the dashboard shows an account number: only the last four digits."""
    return f"***-****-{number[-4:]}"


def _latest(payloads: list[dict[str, Any]], month_field: str) -> dict[str, Any]:
    return max(payloads, key=lambda payload: str(payload.get(month_field, "")))


def _fill_signup(page: Page, person: Person) -> None:
    page.get_by_label("이름").fill(person.name)
    page.get_by_label("생년월일").fill(person.birth_date)
    page.get_by_label("휴대폰 번호").fill(person.phone)
    page.get_by_role("button", name="인증서로 본인확인").click()


def _approve_at_certauth(page: Page, pin: str, shot: Path, done: str) -> None:
    """Open certauth's approval page from the operator's link, enter the PIN and approve."""
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="인증서 앱에서 승인하기").click()
    approval = opened.value
    approval.wait_for_load_state()
    pin_box = approval.get_by_label("인증서 PIN")
    expect(pin_box).to_be_editable()
    expect(approval.get_by_role("button", name="승인", exact=True)).to_be_enabled()
    expect(approval.get_by_role("button", name="거절", exact=True)).to_be_enabled()
    approval.screenshot(path=shot, full_page=True)
    pin_box.fill(pin)
    approval.get_by_role("button", name="승인", exact=True).click()
    expect(approval.get_by_role("alert")).to_have_text(done)
    approval.close()


@pytest.fixture
def person(ecosystem: EcosystemThread) -> Person:
    """A customer of all three institutions who holds a credit card (so there are card bills to show); org codes
    are random per run, so which people qualify differs between runs."""
    for candidate in ecosystem.eco.customers_of_all():
        held = ecosystem.run(_held_by_providers(ecosystem.eco, candidate.ci))
        if held.get("카드-004") and held.get("은행-001") and held.get("통신-001"):
            return candidate
    pytest.fail("no seeded person has accounts, a credit card and a phone line at the demo institutions")


class TestSignUpForm:
    def test_inputs_have_labels_and_a_mistake_is_explained(
        self, page: Page, ecosystem: EcosystemThread, artifacts: Path
    ) -> None:
        page.goto(ecosystem.eco.operator_url)
        for label in ("이름", "생년월일", "휴대폰 번호"):
            expect(page.get_by_label(label)).to_be_editable()

        page.get_by_label("이름").fill("홍길동")
        page.get_by_label("생년월일").fill("19901341")  # eight digits, but no such day
        page.get_by_label("휴대폰 번호").fill("01012345678")
        page.get_by_role("button", name="인증서로 본인확인").click()

        expect(page.get_by_role("alert")).to_have_text("생년월일을 YYYYMMDD 형식으로 입력해 주세요.")
        expect(page.get_by_label("이름")).to_have_value("홍길동")
        expect(page.get_by_label("휴대폰 번호")).to_have_value("01012345678")
        page.screenshot(path=artifacts / "00-signup-mistake.png", full_page=True)


class TestPersonJourney:
    def test_connect_three_institutions_read_the_dashboard_and_withdraw(
        self, page: Page, ecosystem: EcosystemThread, person: Person, artifacts: Path
    ) -> None:
        eco = ecosystem.eco
        held = ecosystem.run(_held_by_providers(eco, person.ci))
        names = [provider.name for provider in eco.providers]

        # Sign up: the operator asks certauth for an identity verification, the person approves it there.
        page.goto(eco.operator_url)
        expect(page.get_by_role("heading", name="시작하기")).to_be_visible()
        page.screenshot(path=artifacts / "01-home.png", full_page=True)
        _fill_signup(page, person)
        expect(page.get_by_role("heading", name="인증서 앱에서 본인확인을 승인해 주세요")).to_be_visible()
        page.screenshot(path=artifacts / "02-signup-approval.png", full_page=True)
        _approve_at_certauth(page, person.pin, artifacts / "03-certauth-identity.png", "본인확인이 완료되었습니다.")
        page.get_by_role("button", name="승인 완료").click()

        # A new person lands on the connect page: tick all three institutions and sign once.
        expect(page).to_have_url(re.compile(r"/connect$"))
        expect(page.get_by_role("heading", name="기관 연결", level=1)).to_be_visible()
        for name in names:
            box = page.get_by_label(name)
            expect(box).not_to_be_checked()
            box.check()
        page.screenshot(path=artifacts / "04-connect.png", full_page=True)
        page.get_by_role("button", name="선택한 기관에 전송요구").click()
        expect(page.get_by_role("heading", name="인증서 앱에서 3개 기관의 전송요구에 서명해 주세요")).to_be_visible()
        page.screenshot(path=artifacts / "05-consent-approval.png", full_page=True)
        _approve_at_certauth(page, person.pin, artifacts / "06-certauth-consent.png", "전자서명이 완료되었습니다.")
        page.get_by_role("button", name="승인 완료").click()

        results = page.get_by_role("table", name="기관별 연결 결과")
        expect(results.get_by_text("연결 완료")).to_have_count(3)
        for name in names:
            expect(results).to_contain_text(name)
        page.screenshot(path=artifacts / "07-connected.png", full_page=True)
        page.get_by_role("link", name="내 자산 보기").click()

        # The dashboard shows what the providers hold.
        expect(page.get_by_role("heading", name=f"{person.name}님의 자산")).to_be_visible()
        expect(page.get_by_text("연결 기관 3곳")).to_be_visible()
        accounts = page.get_by_role("table", name="계좌와 잔액")
        for account in held["은행-001"]:
            expect(accounts).to_contain_text(str(account["prod_name"]))
            expect(accounts).to_contain_text(_masked_account(str(account["account_num"])))
            expect(page.get_by_role("main")).not_to_contain_text(str(account["account_num"]))
        expect(accounts.get_by_text(WON).first).to_be_visible()
        for card in held["카드-001"]:
            expect(page.get_by_text(str(card["card_name"])).first).to_be_visible()
        card_bills = page.get_by_role("table", name="월별 카드 청구")
        expect(card_bills).to_contain_text(_won(_latest(held["카드-004"], "charge_month")["charge_amt"]))
        expect(card_bills).to_contain_text(next(p.name for p in eco.providers if p.sector == "card"))
        telecom_bills = page.get_by_role("table", name="월별 통신 요금")
        expect(telecom_bills.get_by_text(WON).first).to_be_visible()
        for line in held["통신-001"]:
            expect(page.get_by_text(str(line["telecom_num"])).first).to_be_visible()
        freshness = page.get_by_role("table", name="기관별 수집 현황")
        for name in names:
            expect(freshness).to_contain_text(name)
        expect(freshness.get_by_text("최신", exact=True)).to_have_count(3)
        page.screenshot(path=artifacts / "08-dashboard.png", full_page=True)

        # Consents page: three valid consents; withdraw them all.
        page.get_by_role("link", name="전송요구 관리").click()
        consents = page.get_by_role("table", name="전송요구 내역")
        expect(consents.get_by_text("유효", exact=True)).to_have_count(3)
        page.screenshot(path=artifacts / "09-consents.png", full_page=True)
        page.get_by_role("button", name="전체 철회").click()
        expect(page.get_by_role("heading", name="철회가 완료되었습니다")).to_be_visible()
        expect(page.get_by_text("3개 기관에 접근토큰 폐기를 요청했고")).to_be_visible()
        page.screenshot(path=artifacts / "10-withdrawn.png", full_page=True)

        # Signed out: the dashboard sends the person back to the start.
        page.goto(f"{eco.operator_url}/dashboard")
        expect(page).to_have_url(f"{eco.operator_url}/")
        expect(page.get_by_role("heading", name="시작하기")).to_be_visible()

        # Signing in again finds nothing kept: no connection, no data.
        _fill_signup(page, person)
        _approve_at_certauth(
            page, person.pin, artifacts / "11-certauth-identity-again.png", "본인확인이 완료되었습니다."
        )
        page.get_by_role("button", name="승인 완료").click()
        expect(page).to_have_url(re.compile(r"/connect$"))
        expect(page.get_by_text("연결됨")).to_have_count(0)
        page.get_by_role("link", name="내 자산", exact=True).click()
        expect(page.get_by_role("heading", name="아직 연결된 기관이 없습니다")).to_be_visible()
        main = page.get_by_role("main")
        for account in held["은행-001"]:
            expect(main).not_to_contain_text(str(account["prod_name"]))
        for name in names:
            expect(main).not_to_contain_text(name)
        expect(page.get_by_role("table")).to_have_count(0)
        page.screenshot(path=artifacts / "12-dashboard-after-withdrawal.png", full_page=True)
