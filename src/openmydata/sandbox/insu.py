"""One insurance customer's data: 보험-001…012 records, and for a few an 개인형 IRP (IRP-001…004, by `irp`).

Who holds what (at one insurer; every sandbox insurer sells every line):
- indemnity medical (실손) and health/cancer cover for most adult customers; accident cover for some;
- life cover (종신, 정기) for people of working age, more with income; pension, savings and variable contracts
  for people from 30, more with age and income;
- car insurance and driver cover for car owners; child insurance for parents (the child is the insured);
  home fire cover now and then.
Household facts (car, spouse, child, housing) are drawn per person, not per institution (`household`), so a
person's car has the same plate and model at every insurer that covers it.

Premiums are monthly (자동이체 from a bank account, card, or direct payment) from the contract date for the
payment period; each month in the window has one 보험-006 record per premium paid. Payments follow
`behaviour.payment_states` with `INSURANCE_PREMIUM`: a missed month is paid with the next premium (pay_method
03), and a contract with two premiums unpaid in a row lapses (insu_status 02, 실효) and is charged nothing more.
Car insurance runs for a year from its start in the window and is paid at the start or in four quarterly
instalments (보험-007). People with riskier profiles borrow against contracts with a surrender value
(보험계약대출, account_type 3400): interest is paid monthly (보험-011), missed months are paid later with
overdue interest, and some months also repay principal.

Code values the digest leaves unconfirmed are the sandbox's reading, listed in `CODES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour, irp
from openmydata.sandbox.card import BANK_CODES  # pay_org_code: the bank a 자동이체 premium is drawn from
from openmydata.sandbox.population import Person, derive_rng, permute, seeded_faker
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, business_day_after, dtime, month_day, seconds_between

CODES: dict[str, dict[str, str]] = {
    "insu_type": {
        "01": "종신 (whole life)",
        "02": "정기 (term life)",
        "03": "건강 (health)",
        "04": "암 (cancer)",
        "05": "실손의료 (indemnity medical)",
        "06": "상해 (accident)",
        "07": "연금 (pension)",
        "08": "저축 (savings)",
        "09": "변액 (variable)",
        "10": "어린이 (child)",
        "11": "운전자 (driver)",
        "12": "화재 (home fire)",
        "20": "자동차 (car)",
    },
    "insu_status": {"01": "정상 (in force)", "02": "실효 (lapsed: two premiums unpaid)"},
    "contract_status": {"01": "정상 (in force)", "02": "효력상실 (lapsed with the contract)"},
    "coverage_status": {"01": "정상 (in force)", "02": "효력상실 (lapsed with the contract)"},
    "car_insu_type": {"01": "개인용 (private)", "02": "업무용 (business)"},
    "self_pay_rate": {"01": "정률 20% (자기부담금 20%, capped at self_pay_amt)"},
    "pay_due": {"01": "년납 (for a number of years)", "03": "전기납 (for the whole term)", "04": "일시납 (single)"},
    "pay_cycle": {"01": "월납 (monthly)", "02": "3개월납 (quarterly)", "05": "일시납 (single)"},
    "pay_method": {
        "01": "자동이체 (bank account)",
        "02": "카드 (card)",
        "03": "직접납부 (virtual account, giro; also every late payment)",
    },
    "pension_rcv_cycle": {"01": "매월 (monthly)"},
    "account_type": {"3400": "보험계약대출 (policy loan)"},
    "account_status": {"01": "활동 (active)"},
    "repay_method": {"01": "만기일시상환 (bullet; interest monthly)"},
    "int_type": {"01": "정상이자 (normal interest)", "02": "연체이자 (overdue interest)"},
}

KRW = "KRW"
WHOLE_LIFE = date(9999, 12, 31)  # the exp_date insurers send for contracts without a maturity
# (miss_base, late_base): automatic premium debits are missed about as rarely as loan repayments.
INSURANCE_PREMIUM = (-4.4, -3.2)
LAPSE_AFTER_MISSED = 2
OVERDUE_SPREAD = 3.0  # percentage points over the loan rate on late interest
PLATE_LETTERS = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"
CAR_MODELS = (
    "아반떼",
    "쏘나타",
    "그랜저",
    "K3",
    "K5",
    "K8",
    "모닝",
    "레이",
    "캐스퍼",
    "투싼",
    "싼타페",
    "스포티지",
    "쏘렌토",
    "카니발",
    "코나",
    "티볼리",
    "QM6",
    "G80",
)
AGE_BRACKETS = (48, 43, 35, 30, 26, 24, 21)

Coverage = tuple[str, int]  # (coverage name, amount in KRW for plan factor 1)


@dataclass(frozen=True)
class Rider:
    """One 특약 (or the 기본계약) of a product line, with the coverages it pays."""

    name: str
    required: bool
    coverages: tuple[Coverage, ...]


@dataclass(frozen=True)
class Line:
    """A product line: its insu_type, names, typical premium and riders."""

    code: str
    names: tuple[str, ...]
    premium: int  # monthly premium in KRW at age 40 for plan factor 1
    age_slope: float  # relative premium change per year of age at issue
    pay_years: tuple[int, ...]  # payment periods in years (0: the whole term)
    renewable: bool
    loanable: bool
    riders: tuple[Rider, ...]


def _rider(name: str, required: bool, *coverages: Coverage) -> Rider:
    return Rider(name, required, coverages)


# Line(code, names, premium, age_slope, pay_years, renewable, loanable, riders)
LINES: dict[str, Line] = {
    line.code: line
    for line in (
        Line(
            "01",
            ("무배당 평생든든 종신보험", "(무)행복한 가족 종신보험", "무배당 유니버셜 종신보험"),
            140_000,
            0.03,
            (10, 20),
            False,
            True,
            (
                _rider("기본계약(사망)", True, ("일반사망보험금", 100_000_000)),
                _rider("재해사망특약", False, ("재해사망보험금", 50_000_000)),
                _rider("암진단특약", False, ("일반암진단비", 20_000_000), ("유사암진단비", 4_000_000)),
            ),
        ),
        Line(
            "02",
            ("(무)스마트 정기보험", "무배당 가족사랑 정기보험"),
            32_000,
            0.05,
            (0,),
            False,
            False,
            (_rider("기본계약(사망)", True, ("사망보험금", 200_000_000)),),
        ),
        Line(
            "03",
            ("(무)튼튼 건강보험", "무배당 3대질병 건강보험", "(무)간편심사 건강보험"),
            58_000,
            0.025,
            (20, 30),
            False,
            True,
            (
                _rider("기본계약(질병사망)", True, ("질병사망보험금", 10_000_000)),
                _rider(
                    "3대질병진단특약",
                    False,
                    ("뇌졸중진단비", 20_000_000),
                    ("급성심근경색증진단비", 20_000_000),
                ),
                _rider("질병입원일당특약", False, ("질병입원일당(1일이상)", 30_000)),
                _rider("질병수술비특약", False, ("질병수술비", 300_000)),
            ),
        ),
        Line(
            "04",
            ("(무)든든 암보험(갱신형)", "무배당 암케어 보험"),
            34_000,
            0.035,
            (20,),
            False,
            False,
            (
                _rider("기본계약(암진단)", True, ("일반암진단비", 30_000_000), ("유사암진단비", 6_000_000)),
                _rider("암수술특약", False, ("암수술비", 2_000_000)),
                _rider("암입원특약", False, ("암입원일당", 100_000)),
            ),
        ),
        Line(
            "05",
            ("(무)실손의료비보험(갱신형)", "무배당 4세대 실손의료보험"),
            21_000,
            0.04,
            (0,),
            True,
            False,
            (
                _rider("상해급여", True, ("상해입원의료비", 50_000_000), ("상해통원의료비", 200_000)),
                _rider("질병급여", True, ("질병입원의료비", 50_000_000), ("질병통원의료비", 200_000)),
                _rider(
                    "3대비급여특약",
                    False,
                    ("비급여 도수·체외충격파·증식치료", 3_500_000),
                    ("비급여 주사료", 2_500_000),
                    ("비급여 MRI·MRA", 3_000_000),
                ),
            ),
        ),
        Line(
            "06",
            ("(무)상해보험", "무배당 안심 상해보험"),
            19_000,
            0.01,
            (20,),
            False,
            False,
            (
                _rider("기본계약(상해사망)", True, ("상해사망보험금", 100_000_000)),
                _rider("상해후유장해특약", False, ("상해후유장해보험금", 100_000_000)),
                _rider("골절진단특약", False, ("골절진단비", 300_000)),
            ),
        ),
        Line(
            "07",
            ("(무)노후행복 연금보험", "무배당 든든 연금저축보험"),
            250_000,
            0.0,
            (10,),
            False,
            True,
            (_rider("기본계약(연금)", True, ("연금적립액", 0)),),
        ),
        Line(
            "08",
            ("무배당 목돈 저축보험", "(무)스마트 저축보험"),
            300_000,
            0.0,
            (5, 10),
            False,
            True,
            (
                _rider("기본계약(만기)", True, ("만기보험금", 0)),
                _rider("재해사망특약", False, ("재해사망보험금", 10_000_000)),
            ),
        ),
        Line(
            "09",
            ("(무)변액유니버셜 적립보험", "무배당 글로벌 변액연금보험"),
            320_000,
            0.0,
            (10, 12),
            False,
            True,
            (_rider("기본계약(사망)", True, ("사망보험금", 50_000_000)),),
        ),
        Line(
            "10",
            ("(무)우리아이 어린이보험", "무배당 꿈나무 자녀보험"),
            52_000,
            0.0,
            (20, 30),
            False,
            True,
            (
                _rider("기본계약(상해후유장해)", True, ("상해후유장해보험금", 100_000_000)),
                _rider("소아암진단특약", False, ("소아암진단비", 30_000_000)),
                _rider("질병입원일당특약", False, ("질병입원일당(1일이상)", 30_000)),
                _rider("골절진단특약", False, ("골절진단비", 300_000)),
            ),
        ),
        Line(
            "11",
            ("(무)안심 운전자보험", "무배당 다이렉트 운전자보험"),
            14_000,
            0.0,
            (20,),
            False,
            False,
            (
                _rider("기본계약(교통상해사망)", True, ("교통상해사망보험금", 50_000_000)),
                _rider("교통사고처리지원금특약", False, ("교통사고처리지원금", 200_000_000)),
                _rider("변호사선임비용특약", False, ("변호사선임비용", 5_000_000)),
                _rider("벌금특약", False, ("벌금", 20_000_000)),
            ),
        ),
        Line(
            "12",
            ("(무)가정종합 화재보험", "무배당 우리집 화재보험"),
            16_000,
            0.0,
            (15,),
            False,
            False,
            (
                _rider("화재손해(건물)", True, ("화재손해(건물)", 100_000_000)),
                _rider("화재배상책임특약", False, ("화재배상책임", 100_000_000)),
            ),
        ),
        Line(
            "20",
            ("개인용 자동차보험", "다이렉트 개인용 자동차보험"),
            0,
            0.0,
            (1,),
            True,
            False,
            (
                _rider("대인배상Ⅰ", True, ("대인배상Ⅰ", 150_000_000)),
                _rider("대인배상Ⅱ", False, ("대인배상Ⅱ(무한)", 0)),
                _rider("대물배상", True, ("대물배상", 200_000_000)),
                _rider("자기신체사고", False, ("자기신체사고(사망·후유장해)", 15_000_000)),
                _rider("무보험차상해", False, ("무보험차상해", 200_000_000)),
            ),
        ),
    )
}

Tenure = Literal["own", "jeonse", "monthly", "family"]


@dataclass(frozen=True)
class Car:
    number: str  # 123가4567
    model: str
    year: int  # model year


@dataclass(frozen=True)
class Household:
    """Facts about a person's household that do not depend on the institution (drawn once per person)."""

    car: Car | None
    spouse: str | None
    child: tuple[str, date] | None  # (name, birth date) of the youngest child under 19
    tenure: Tenure  # housing: owner, jeonse tenant, monthly-rent tenant, living with family


@lru_cache(maxsize=4096)
def household(person: Person, seed: int, as_of: date) -> Household:
    """The person's household (deterministic in seed, person and as_of; the same for every institution)."""
    rng = derive_rng(seed, "household", person.index)
    age = person.age
    car: Car | None = None
    if age >= 21:
        owns = 0.12 if age < 25 else 0.3 if age >= 75 else 0.55 + 0.12 * person.income_level
        if rng.random() < min(0.9, max(0.05, owns)):
            number = f"{rng.randint(10, 399)}{rng.choice(PLATE_LETTERS)}{rng.randint(1000, 9999)}"
            car = Car(number, rng.choice(CAR_MODELS), as_of.year - rng.randint(0, 12))
    married = age >= 28 and rng.random() < (0.25 if age < 33 else 0.7)
    fake = seeded_faker(seed, "household", person.index)
    spouse = (fake.name_female() if person.gender == "M" else fake.name_male()) if married else None
    child: tuple[str, date] | None = None
    if married and age <= 58 and rng.random() < 0.75:
        youngest = rng.randint(0, 18)
        if age - youngest >= 26:
            born = as_of - timedelta(days=youngest * 365 + rng.randint(0, 364))
            child = (person.name[0] + fake.first_name(), born)
    roll = rng.random()
    if age < 27:
        tenure: Tenure = "family" if roll < 0.55 else "monthly" if roll < 0.85 else "jeonse"
    else:
        own = min(0.85, max(0.1, 0.2 + 0.012 * (age - 27) + 0.1 * person.income_level))
        tenure = "own" if roll < own else "jeonse" if roll < own + (1 - own) * 0.55 else "monthly"
    return Household(car, spouse, child, tenure)


@dataclass
class Policy:
    insu_num: str
    line: Line
    prod_name: str
    issue: date
    exp: date
    plan: float  # coverage amounts scale with the plan
    premium: int  # per payment
    pay_due: str
    pay_cycle: str
    pay_end: date
    pay_day: int
    pay_method: str
    pay_org_code: str | None
    insured: list[tuple[str, str]]  # (insured_no, name)
    status: str = "01"
    pay_cnt: int = 0
    transactions: list[dict[str, Any]] = field(default_factory=list)
    car: dict[str, Any] | None = None
    car_transactions: list[dict[str, Any]] = field(default_factory=list)
    paid_total: int = 0  # premiums paid since the contract date (for the surrender value)

    @property
    def in_force(self) -> bool:
        return self.status == "01"


@dataclass
class PolicyLoan:
    account_num: str
    policy: Policy
    start: date
    exp: date
    principal: int
    rate: float
    balance: int = 0
    next_repay_date: date | None = None
    transactions: list[dict[str, Any]] = field(default_factory=list)


def _rate(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _years_after(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def _text(day: date) -> str:
    return day.strftime("%Y%m%d")


def _nth_month(start: date, months: int, day: int) -> date:
    """Day `day` of the month `months` after `start`'s month (a monthly due date)."""
    shifted = add_months(start, months)
    return month_day(shifted.year, shifted.month, day)


class InsuranceCustomer:
    """Generates one person's contracts and policy loans at one insurer."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "insu", org_code, person.index)
        self.household = household(person, seed, as_of)
        birth = person.birth_date
        self.birth = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person = self.person
        policies = [self._policy(number, code) for number, code in enumerate(self._lines(), start=1)]
        loans = self._loans(policies)
        listed = {
            policy.insu_num: sink.add(
                "보험-001",
                {
                    "insu_num": policy.insu_num,
                    "is_consent": False,
                    "prod_name": policy.prod_name,
                    "insu_type": policy.line.code,
                    "insu_status": policy.status,
                },
            )
            for policy in policies
        }
        for policy in policies:
            self._policy_records(sink, policy, listed[policy.insu_num])
        for loan in loans:
            self._loan_records(sink, loan)
        first = min(policy.issue for policy in policies)
        irp.add_irp(sink, person, "insu", self.org_code, self.seed, self.as_of, earliest=first)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": _text(first),
        }

    # which lines --------------------------------------------------------------------------------------
    def _lines(self) -> list[str]:
        person, rng, home = self.person, self.rng, self.household
        age, level = person.age, person.income_level
        thin = 0.5 if person.thin_file else 1.0

        def band(low: int, high: int, share: float) -> float:
            return share if low <= age <= high else 0.0

        shares = {
            "05": 0.5 if age < 70 else 0.15,
            "03": 0.28 + band(40, 65, 0.1),
            "04": 0.22 + band(35, 65, 0.08),
            "06": 0.1,
            "01": band(28, 60, min(0.3, max(0.03, 0.12 + 0.06 * level))),
            "02": band(28, 55, 0.07),
            "07": band(30, 64, min(0.35, max(0.02, 0.1 + 0.07 * level + (0.05 if age >= 40 else 0.0)))),
            "08": band(25, 70, min(0.25, max(0.02, 0.06 + 0.05 * level))),
            "09": band(30, 60, min(0.15, max(0.01, 0.04 + 0.04 * level))),
            "10": 0.35 if home.child is not None else 0.0,
            "11": 0.25 if home.car is not None else 0.0,
            "12": 0.08 if home.tenure == "own" else 0.0,
            "20": 0.45 if home.car is not None else 0.0,
        }
        wanted = [code for code, share in shares.items() if rng.random() < share * thin]
        if not wanted:
            wanted = ["05" if age < 70 else "03"]
        return sorted(wanted)

    # one contract -------------------------------------------------------------------------------------
    def _insu_num(self, number: int) -> str:
        scrambled = permute(self.person.index, 10**10, self.seed, "insu", self.org_code)
        return f"{scrambled:010d}{number:02d}"

    def _issue(self, line: Line) -> date:
        """The contract date: after the 19th birthday (and the insured child's birth), at most 20 years ago."""
        rng, as_of = self.rng, self.as_of
        earliest = max(_years_after(self.birth, 19), _years_after(as_of, -20))
        if line.code == "10" and self.household.child is not None:
            earliest = max(earliest, self.household.child[1] + timedelta(days=30))
        if line.code in ("08", "12"):
            earliest = max(earliest, _years_after(as_of, -4 if line.code == "08" else -14))
        latest = as_of - timedelta(days=20)
        if latest <= earliest:
            return latest
        return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))

    def _exp(self, line: Line, issue: date, prod_name: str) -> date:
        code, birth = line.code, self.birth
        if code == "01" or (code == "09" and "유니버셜" in prod_name):
            return WHOLE_LIFE
        if code == "02":
            return max(_years_after(birth, 65), _years_after(issue, 10))
        if code == "05" or "갱신형" in prod_name:
            cycle = 15 if code == "05" else 20  # re-joining (실손) or renewal cycle
            exp = _years_after(issue, cycle)
            while exp <= self.as_of:
                exp = _years_after(exp, cycle)
            return exp
        if code == "08":
            return _years_after(issue, 5)
        if code == "12":
            return _years_after(issue, 15)
        if code == "11":
            return _years_after(issue, 20)
        if code == "10" and self.household.child is not None:
            return _years_after(self.household.child[1], 100)
        return _years_after(birth, 100)

    def _pay_method(self) -> tuple[str, str | None]:
        rng = self.rng
        if rng.random() < behaviour.logistic(-2.4 + 0.8 * self.person.risk):
            return "03", None
        if rng.random() < 0.75:
            return "01", rng.choice(BANK_CODES)
        return "02", None

    def _policy(self, number: int, code: str) -> Policy:
        if code == "20":
            return self._car_policy(number)
        person, rng, line = self.person, self.rng, LINES[code]
        prod_name = rng.choice(line.names)
        issue = self._issue(line)
        exp = self._exp(line, issue, prod_name)
        age_at_issue = (issue - self.birth).days // 365
        plan = rng.choice((1.0, 1.0, 1.5, 2.0)) if code not in ("05", "12") else 1.0
        if code in ("07", "08", "09"):
            scale = min(3.0, max(0.3, person.annual_income / 50_000_000))
            premium = int(line.premium * scale * rng.uniform(0.6, 1.4) / 10_000) * 10_000
        else:
            factor = math.exp(line.age_slope * (age_at_issue - 40)) * plan * rng.uniform(0.8, 1.25)
            premium = int(line.premium * factor / 10) * 10
        years = rng.choice(line.pay_years)
        single = code in ("07", "08") and rng.random() < 0.1
        if single:
            pay_due, pay_cycle, pay_end = "04", "05", issue
            premium *= 60
        elif years == 0:
            pay_due, pay_cycle, pay_end = "03", "01", add_months(exp, -1)
        else:
            pay_due, pay_cycle = "01", "01"
            pay_end = min(add_months(issue, 12 * years - 1), add_months(exp, -1))
        insured = [("1", person.name)]
        if code == "10" and self.household.child is not None:
            insured = [("1", self.household.child[0])]
        elif code == "01" and self.household.spouse is not None and rng.random() < 0.15:
            insured.append(("2", self.household.spouse))
        method, bank = self._pay_method()
        policy = Policy(
            insu_num=self._insu_num(number),
            line=line,
            prod_name=prod_name,
            issue=issue,
            exp=exp,
            plan=plan,
            premium=premium,
            pay_due=pay_due,
            pay_cycle=pay_cycle,
            pay_end=pay_end,
            pay_day=min(28, issue.day),
            pay_method=method,
            pay_org_code=bank,
            insured=insured,
        )
        self._premiums(policy)
        return policy

    def _premiums(self, policy: Policy) -> None:
        """Monthly premiums from the contract date to the end of the payment period (or a single premium).

        Dues before the window were paid on time; dues in the window follow the payment states."""
        rng = self.rng
        dues: list[date] = []
        months = 1 if policy.pay_cycle == "05" else None
        number = 0
        while months is None or number < months:
            due = policy.issue if number == 0 else _nth_month(policy.issue, number, policy.pay_day)
            if due > self.as_of or (due > policy.pay_end and number > 0):
                break
            dues.append(due)
            number += 1
        before = [due for due in dues if due < self.window.start]
        policy.pay_cnt = len(before)
        policy.paid_total = policy.premium * len(before)
        in_window = dues[len(before) :]
        states = behaviour.payment_states(rng, self.person.risk, len(in_window), INSURANCE_PREMIUM)
        arrears: list[tuple[int, date]] = []  # (instalment number, due)
        for offset, (due, state) in enumerate(zip(in_window, states, strict=True)):
            number = len(before) + offset + 1
            if number == 1:
                state = behaviour.PaymentState.ON_TIME  # the first premium is paid when the contract is made
            if state is behaviour.PaymentState.MISSED:
                arrears.append((number, due))
                if len(arrears) >= LAPSE_AFTER_MISSED:
                    policy.status = "02"
                    return
                continue
            late = state is behaviour.PaymentState.LATE
            if number == 1:
                paid_on = due
            elif late:
                paid_on = due + timedelta(days=rng.randint(1, 20))
            else:
                paid_on = business_day_after(due)
            if paid_on > self.as_of:
                arrears.append((number, due))
                if len(arrears) >= LAPSE_AFTER_MISSED:
                    policy.status = "02"
                    return
                continue
            method = "03" if late or arrears else policy.pay_method
            for paid_number, paid_due in [*arrears, (number, due)]:
                policy.transactions.append(
                    {
                        "trans_date": _text(paid_on),
                        "trans_applied_month": paid_due.strftime("%Y%m"),
                        "trans_no": str(paid_number),
                        "paid_amt": policy.premium,
                        "currency_code": KRW,
                        "pay_method": method,
                    }
                )
                policy.pay_cnt += 1
                policy.paid_total += policy.premium
            arrears = []

    def _car_policy(self, number: int) -> Policy:
        person, rng, line = self.person, self.rng, LINES["20"]
        car = self.household.car
        assert car is not None
        start = self.as_of - timedelta(days=rng.randint(0, 360))
        end = _years_after(start, 1)
        own_damage = rng.random() < (0.85 if car.year >= self.as_of.year - 5 else 0.45)
        age = person.age
        factor = 2.2 if age < 26 else 1.5 if age < 30 else 1.0 if age < 60 else 1.25
        annual = 780_000 * factor * (1.35 if own_damage else 1.0) * math.exp(0.2 * rng.gauss(0.0, 1.0))
        annual = int(annual / 10) * 10
        quarterly = rng.random() < 0.2
        method, bank = self._pay_method()
        if method == "03":
            method = "02"  # car insurance is paid when the contract is made: by card when not by transfer
        policy = Policy(
            insu_num=self._insu_num(number),
            line=line,
            prod_name=rng.choice(line.names),
            issue=start,
            exp=end,
            plan=rng.choice((1.0, 1.5, 2.5, 5.0)),  # 대물배상 2억 … 10억
            premium=annual // 4 if quarterly else annual,
            pay_due="03" if quarterly else "04",
            pay_cycle="02" if quarterly else "05",
            pay_end=add_months(start, 9) if quarterly else start,
            pay_day=min(28, start.day),
            pay_method=method,
            pay_org_code=bank,
            insured=[("1", person.name)],
        )
        bracket = next((f"만 {low}세 이상" for low in AGE_BRACKETS if age >= low), "전연령")
        if self.household.spouse is not None:
            driver = rng.choice(("부부 한정", "부부 한정", "가족 한정", "누구나"))
        else:
            driver = rng.choice(("1인 한정", "1인 한정", "가족 한정", "누구나"))
        policy.car = {
            "insu_num": policy.insu_num,
            "car_number": car.number,
            "car_insu_type": "02" if person.occupation == "self_employed" and rng.random() < 0.15 else "01",
            "car_name": f"{car.model} ({car.year}년식)",
            "start_date": _text(start),
            "end_date": _text(end),
            "contract_age": bracket,
            "contract_driver": driver,
            "is_own_dmg_coverage": own_damage,
            "self_pay_rate": "01",
            "self_pay_amt": rng.choice((200_000, 300_000, 500_000)),
        }
        instalments = 4 if quarterly else 1
        seconds = seconds_between(rng, 9, 21)
        for instalment in range(instalments):
            day = start if instalment == 0 else business_day_after(add_months(start, 3 * instalment))
            if day > self.as_of:
                break
            policy.car_transactions.append(
                {
                    "trans_dtime": dtime(day, seconds),
                    "trans_no": str(instalment + 1),
                    "face_amt": policy.premium,
                    "paid_amt": policy.premium,
                    "pay_method": policy.pay_method,
                }
            )
            policy.pay_cnt += 1
            policy.paid_total += policy.premium
        return policy

    # records -------------------------------------------------------------------------------------------
    def _contracts(self, policy: Policy) -> list[tuple[str, Rider, int, date]]:
        """(insured_no, rider, amount, end) of the riders on each insured person; optional riders are chosen.

        Optional riders of contracts that are not renewed run for at most 20 years."""
        rng, line = self.rng, policy.line
        chosen = [rider for rider in line.riders if rider.required or rng.random() < 0.65]
        result = []
        for insured_no, _ in policy.insured:
            for rider in chosen:
                amount = self._amount(policy, *rider.coverages[0])
                end = policy.exp
                if not rider.required and not line.renewable:
                    end = min(policy.exp, _years_after(policy.issue, 20))
                result.append((insured_no, rider, amount, end))
        return result

    def _amount(self, policy: Policy, name: str, amount: int) -> int:
        """A coverage amount under the contract's plan: lump sums scale with the plan, daily amounts do not;
        pension and savings contracts cover their planned payments; car cover scales 대물배상 only."""
        if amount == 0 and policy.line.code in ("07", "08"):
            return self._accumulated(policy)
        if policy.line.code == "20":
            return int(amount * policy.plan) if name == "대물배상" else amount
        return int(amount * policy.plan) if amount >= 1_000_000 else amount

    def _accumulated(self, policy: Policy) -> int:
        """The contract's planned payments (the face amount of pension and savings contracts)."""
        if policy.pay_cycle == "05":
            return policy.premium
        months = (policy.pay_end.year - policy.issue.year) * 12 + policy.pay_end.month - policy.issue.month + 1
        return policy.premium * months

    def _policy_records(self, sink: RecordSink, policy: Policy, source: dict[str, Any]) -> None:
        rng, line = self.rng, policy.line
        contracts = self._contracts(policy)
        face_rider = "대물배상" if line.code == "20" else next(rider.name for rider in line.riders if rider.required)
        face = next(amount for _, rider, amount, _ in contracts if rider.name == face_rider)
        universal = "유니버셜" in policy.prod_name
        basic: dict[str, Any] = {
            "is_renewable": line.renewable or "갱신형" in policy.prod_name,
            "issue_date": _text(policy.issue),
            "exp_date": _text(policy.exp),
            "face_amt": face,
            "currency_code": KRW,
            "is_variable": line.code == "09",
            "is_universal": universal,
            "is_loanable": line.loanable,
            "insured_cnt": len(policy.insured),
            "insured_list": [{"insured_no": number, "insured_name": name} for number, name in policy.insured],
        }
        if line.code == "07":
            basic["pension_rcv_start_date"] = _text(_years_after(self.birth, rng.choice((60, 65))))
            basic["pension_rcv_cycle"] = "01"
        sink.add("보험-002", basic, source=source)
        status = "01" if policy.in_force else "02"
        for insured_no, rider, amount, end in contracts:
            sink.add(
                "보험-003",
                {
                    "insured_no": insured_no,
                    "contract_name": rider.name,
                    "contract_status": status,
                    "contract_exp_date": _text(end),
                    "contract_face_amt": amount,
                    "currency_code": KRW,
                    "is_required": rider.required,
                },
                source=source,
            )
        car_source = None
        if policy.car is not None:
            car_source = sink.add("보험-004", policy.car, source=source)
        payment: dict[str, Any] = {
            "pay_due": policy.pay_due,
            "pay_cycle": policy.pay_cycle,
            "pay_cnt": policy.pay_cnt,
            "pay_end_date": _text(policy.pay_end),
            "pay_amt": policy.premium,
            "currency_code": KRW,
            "is_auto_pay": policy.pay_method in ("01", "02"),
        }
        if policy.pay_method == "01":
            payment["pay_org_code"] = policy.pay_org_code
        if policy.pay_cycle != "05":
            payment["pay_date"] = f"{policy.pay_day:02d}"
        sink.add("보험-005", payment, source=source)
        for transaction in policy.transactions:
            sink.add("보험-006", transaction, source=source)
        for rider_number, (insured_no, rider, _, end) in enumerate(contracts, start=1):
            for coverage_number, (name, amount) in enumerate(rider.coverages, start=1):
                sink.add(
                    "보험-012",
                    {
                        "insured_no": insured_no,
                        "coverage_num": f"{rider_number:03d}{coverage_number:02d}",
                        "coverage_name": name,
                        "coverage_status": status,
                        "coverage_amt": self._amount(policy, name, amount),
                        "currency_code": KRW,
                        "coverage_start_date": _text(policy.issue),
                        "coverage_exp_date": _text(end),
                    },
                    source=source,
                )
        if car_source is not None:
            for transaction in policy.car_transactions:
                sink.add("보험-007", transaction, source=car_source)

    # policy loans --------------------------------------------------------------------------------------
    def _loans(self, policies: list[Policy]) -> list[PolicyLoan]:
        person, rng = self.person, self.rng
        candidates = [
            policy
            for policy in policies
            if policy.line.loanable and policy.in_force and policy.issue <= _years_after(self.as_of, -1)
        ]
        if not candidates:
            return []
        if rng.random() >= behaviour.logistic(-1.9 + 0.9 * person.risk - 0.3 * person.income_level):
            return []
        policy = max(candidates, key=lambda p: p.paid_total)
        surrender = policy.paid_total * rng.uniform(0.55, 0.85)
        principal = int(surrender * rng.uniform(0.3, 0.9) / 10_000) * 10_000
        if principal < 500_000:
            return []
        earliest = _years_after(policy.issue, 1)
        start = earliest + timedelta(days=rng.randint(0, max(0, (self.as_of - timedelta(days=15) - earliest).days)))
        exp = _years_after(start, 1)
        while exp <= self.as_of:  # extended a year at a time
            exp = _years_after(exp, 1)
        scrambled = permute(person.index, 10**9, self.seed, "insu-loan", self.org_code)
        rate = 4.3 + rng.uniform(0.0, 3.5) + 0.4 * max(person.risk, 0.0)
        loan = PolicyLoan(f"L{scrambled:09d}01", policy, start, exp, principal, round(rate, 2), balance=principal)
        self._interest(loan)
        return [loan]

    def _interest(self, loan: PolicyLoan) -> None:
        """Monthly interest from the month after the loan; dues before the window were paid on time."""
        rng = self.rng
        dues: list[date] = []
        number = 1
        while True:
            due = _nth_month(loan.start, number, min(28, loan.start.day))
            if due > self.as_of:
                loan.next_repay_date = due
                break
            dues.append(due)
            number += 1
        balance = loan.principal
        in_window = [due for due in dues if due >= self.window.start]
        states = iter(behaviour.payment_states(rng, self.person.risk, len(in_window), behaviour.BANK_LOAN))
        arrears: list[tuple[date, date]] = []
        previous = loan.start
        for due in dues:
            period = (previous, due)
            previous = due
            if due < self.window.start:
                continue
            state = next(states)
            if state is behaviour.PaymentState.MISSED:
                arrears.append(period)
                continue
            late_days = 0 if state is behaviour.PaymentState.ON_TIME else rng.randint(1, 20)
            paid_on = due + timedelta(days=late_days)
            if paid_on > self.as_of:
                arrears.append(period)
                continue
            balance = self._pay_interest(loan, [*arrears, period], paid_on, late_days > 0, balance)
            arrears = []
        loan.balance = balance

    def _pay_interest(
        self, loan: PolicyLoan, periods: list[tuple[date, date]], paid_on: date, late: bool, balance: int
    ) -> int:
        rng = self.rng
        interest = sum(round(balance * loan.rate / 100 * (end - start).days / 365) for start, end in periods)
        int_list: list[dict[str, Any]] = [
            {
                "int_start_date": _text(start),
                "int_end_date": _text(end - timedelta(days=1)),
                "int_rate": _rate(loan.rate),
                "int_type": "01",
            }
            for start, end in periods
        ]
        if late:
            overdue_rate = loan.rate + OVERDUE_SPREAD
            days = (paid_on - periods[0][1]).days
            interest += round(interest * overdue_rate / 100 * days / 365)  # on the interest paid late
            int_list.append(
                {
                    "int_start_date": _text(periods[0][1]),
                    "int_end_date": _text(paid_on - timedelta(days=1)),
                    "int_rate": _rate(overdue_rate),
                    "int_type": "02",
                }
            )
        repaid = 0
        if not late and balance > 0 and rng.random() < 0.08:
            repaid = min(balance, max(100_000, int(balance * rng.uniform(0.1, 0.5) / 10_000) * 10_000))
        loan.transactions.append(
            {
                "trans_no": f"{len(loan.transactions) + 1:06d}",
                "trans_dtime": dtime(paid_on, seconds_between(rng, 9, 20) if late else seconds_between(rng, 6, 7)),
                "currency_code": KRW,
                "loan_paid_amt": repaid,
                "int_paid_amt": interest,
                "int_cnt": len(int_list),
                "int_list": int_list,
            }
        )
        return balance - repaid

    def _loan_records(self, sink: RecordSink, loan: PolicyLoan) -> None:
        source = sink.add(
            "보험-008",
            {
                "prod_name": "보험계약대출(약관대출)",
                "account_num": loan.account_num,
                "is_consent": False,
                "account_type": "3400",
                "account_status": "01",
            },
        )
        sink.add(
            "보험-009",
            {
                "loan_start_date": _text(loan.start),
                "loan_exp_date": _text(loan.exp),
                "repay_method": "01",
                "insu_num": loan.policy.insu_num,
            },
            source=source,
        )
        detail: dict[str, Any] = {
            "currency_code": KRW,
            "balance_amt": loan.balance,
            "loan_principal": loan.principal,
        }
        if loan.next_repay_date is not None:
            detail["next_repay_date"] = _text(loan.next_repay_date)
        sink.add("보험-010", detail, source=source)
        for transaction in loan.transactions:
            sink.add("보험-011", transaction, source=source)


def share(person: Person) -> float:
    """The probability that `person` holds a contract at one insurer: most adults, fewer young and old people."""
    age = person.age
    base = 0.2 if age < 25 else 0.35 if age < 30 else 0.5 if age < 60 else 0.45 if age < 70 else 0.3
    base += 0.05 * person.income_level - (0.1 if person.thin_file else 0.0)
    return min(0.8, max(0.05, base))


def customer(person: Person, org_code: str, seed: int, as_of: date) -> InsuranceCustomer:
    return InsuranceCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "LINES", "Household", "InsuranceCustomer", "customer", "household", "share"]
