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
from sqlalchemy import select

from openmydata.demo import Ecosystem
from openmydata.kit.db import Database
from openmydata.provider import repository as provider_repository
from openmydata.provider.importer import export_customer_records
from openmydata.provider.models import Consent as ProviderConsent
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


async def _provider_consents(eco: Ecosystem, ci: str) -> dict[str, list[str]]:
    """Each provider's own record of the person's consents (their statuses), read from its database."""
    statuses: dict[str, list[str]] = {}
    for provider in eco.providers:
        db = Database(provider.database_url)
        try:
            async with db.transaction() as session:
                customer = await provider_repository.customer_by_ci(session, ci)
                assert customer is not None
                rows = await session.execute(
                    select(ProviderConsent.status).where(ProviderConsent.customer_id == customer.id)
                )
                statuses[provider.org_code] = [str(status) for (status,) in rows]
        finally:
            await db.dispose()
    return statuses


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


def _connect_all(page: Page, eco: Ecosystem, person: Person, artifacts: Path, prefix: str) -> None:
    """Sign up and connect every institution in one signature (as the flow above, without its checks)."""
    page.goto(eco.operator_url)
    _fill_signup(page, person)
    _approve_at_certauth(page, person.pin, artifacts / f"{prefix}-certauth-identity.png", "본인확인이 완료되었습니다.")
    page.get_by_role("button", name="승인 완료").click()
    expect(page).to_have_url(re.compile(r"/connect$"))
    for provider in eco.providers:
        page.get_by_label(provider.name).check()
    # merchant names and purchase categories are sensitive: sent only with consent, which spending analysis needs
    page.get_by_label("가맹점명·사업자등록번호").check()
    page.get_by_label("주문내역·카테고리").check()
    page.get_by_role("button", name="선택한 기관에 전송요구").click()
    _approve_at_certauth(page, person.pin, artifacts / f"{prefix}-certauth-consent.png", "전자서명이 완료되었습니다.")
    page.get_by_role("button", name="승인 완료").click()
    expect(page.get_by_role("table", name="기관별 연결 결과").get_by_text("연결 완료")).to_have_count(
        len(eco.providers)
    )
    # the dashboard reloads itself once every collection has finished: wait until each institution is fresh
    page.get_by_role("link", name="내 자산 보기").click()
    freshness = page.get_by_role("table", name="기관별 수집 현황")
    expect(freshness.get_by_text("최신", exact=True)).to_have_count(len(eco.providers), timeout=60_000)


@pytest.fixture
def another_person(ecosystem: EcosystemThread, person: Person) -> Person:
    """A second customer of all three institutions with a credit card, other than `person` (whom the flow above
    withdraws)."""
    for candidate in reversed(ecosystem.eco.customers_of_all()):
        if candidate.ci == person.ci:
            continue
        held = ecosystem.run(_held_by_providers(ecosystem.eco, candidate.ci))
        if held.get("카드-008") and held.get("통신-002"):
            return candidate
    pytest.fail("no second seeded person has card approvals and telecom bills")


class TestInsightPages:
    def test_spending_credit_and_recommendations(
        self, page: Page, ecosystem: EcosystemThread, another_person: Person, artifacts: Path
    ) -> None:
        eco = ecosystem.eco
        _connect_all(page, eco, another_person, artifacts, "20")
        nav = page.get_by_role("navigation", name="주 메뉴")

        # Spending: two labelled charts (months, categories) and the merchants they come from.
        nav.get_by_role("link", name="소비 분석").click()
        expect(page.get_by_role("heading", name="소비 분석", level=1)).to_be_visible()
        monthly = page.get_by_role("img", name=re.compile(r"^월별 지출"))
        expect(monthly).to_be_visible()
        expect(monthly.locator("rect.chart-bar")).not_to_have_count(0)
        categories = page.get_by_role("img", name="분류별 지출")
        expect(categories).to_be_visible()
        expect(categories.locator("text.chart-label").first).not_to_be_empty()
        expect(page.get_by_test_id("spending-average")).to_have_text(WON)
        expect(categories.locator("text.chart-label", has_text="카페")).to_have_count(1)  # merchants are classified
        expect(page.get_by_test_id("unnamed-note")).to_have_count(0)
        expect(page.get_by_role("table", name="가맹점별 지출 (많은 순)").get_by_role("row")).not_to_have_count(0)
        page.screenshot(path=artifacts / "21-spending.png", full_page=True)

        # Credit view: a band from the model, and the reasons behind it.
        nav.get_by_role("link", name="신용 보기").click()
        expect(page.get_by_role("heading", name=f"{another_person.name}님의 신용 보기")).to_be_visible()
        expect(page.get_by_test_id("credit-band")).to_have_text(re.compile(r"^[A-E] · 위험 "))
        expect(page.locator(".reason-list li")).not_to_have_count(0)
        page.screenshot(path=artifacts / "22-credit.png", full_page=True)

        # Recommendations: each with what it is worth and why.
        nav.get_by_role("link", name="추천 상품").click()
        offers = page.get_by_role("list", name="추천 상품 목록").get_by_role("listitem")
        expect(offers).not_to_have_count(0)
        expect(offers.first).to_contain_text("1년에 약 ₩")
        page.screenshot(path=artifacts / "23-recommendations.png", full_page=True)

        # Withdraw the telecom consent alone from the consents page: it reaches that provider only.
        telecom = next(provider for provider in eco.providers if provider.sector == "telecom")
        nav.get_by_role("link", name="전송요구 관리").click()
        consents = page.get_by_role("table", name="전송요구 내역")
        expect(consents.get_by_text("유효", exact=True)).to_have_count(len(eco.providers))
        page.screenshot(path=artifacts / "26-consents-manage.png", full_page=True)
        consents.get_by_role("button", name=f"{telecom.name} 전송요구 철회").click()
        expect(page.get_by_test_id("withdrawn-notice")).to_contain_text(telecom.name)
        expect(consents.get_by_text("유효", exact=True)).to_have_count(len(eco.providers) - 1)
        page.screenshot(path=artifacts / "27-consent-withdrawn.png", full_page=True)
        statuses = ecosystem.run(_provider_consents(eco, another_person.ci))
        assert statuses[telecom.org_code] == ["revoked"]
        assert all(states == ["active"] for org, states in statuses.items() if org != telecom.org_code), statuses
        nav.get_by_role("link", name="내 자산").click()
        expect(page.get_by_role("table", name="기관별 수집 현황")).not_to_contain_text(telecom.name)

    def test_keyboard_reaches_the_content_and_the_menu(
        self, page: Page, ecosystem: EcosystemThread, artifacts: Path
    ) -> None:
        page.goto(ecosystem.eco.operator_url)
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="본문 바로가기")
        expect(skip).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"#main$"))
        # every form field of the sign-up form is reachable by Tab and has a label
        for label in ("이름", "생년월일", "휴대폰 번호"):
            field = page.get_by_label(label)
            field.focus()
            expect(field).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="인증서로 본인확인")).to_be_focused()
        page.screenshot(path=artifacts / "24-keyboard.png", full_page=True)

    def test_the_language_switch(self, page: Page, ecosystem: EcosystemThread, artifacts: Path) -> None:
        page.goto(ecosystem.eco.operator_url)
        switch = page.get_by_role("navigation", name="언어")
        expect(switch.get_by_role("link", name="한국어")).to_have_attribute("aria-current", "true")
        switch.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Get started")).to_be_visible()
        expect(page.get_by_label("Name")).to_be_editable()
        expect(page.get_by_role("button", name="Verify with a certificate")).to_be_visible()
        page.screenshot(path=artifacts / "25-home-english.png", full_page=True)
        # the choice is kept (a cookie) until switched back
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("link", name="한국어").click()
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.get_by_role("heading", name="시작하기")).to_be_visible()
