"""One guarantee-insurance customer's data: 보증보험-001…003 records.

Far fewer people hold guarantee insurance than ordinary insurance; who does depends on the person and the
household (`insu.household`, shared with the insurance generator):
- self-employed people take out performance bonds (이행보증: contract, defect or payment bonds for their
  clients, one to three a year) and now and then a licence bond (인허가보증);
- young salaried people give a fidelity bond to their employer (신원보증);
- jeonse and monthly-rent tenants insure their deposit (전세금보장신용보험);
- people who bought a car recently on instalments guarantee the instalments (할부판매보증).

The insured party (`insured_name`) is whom the guarantee protects: the tenant for a deposit, the employer, the
client, the instalment seller. Premiums are paid when the contract is made (일시납); deposit cover for two
years may be paid yearly (년납). Contracts that ended inside the window stay listed as expired (insu_status 02),
so their premium payments (보증보험-003) are listed with them; older ended contracts are not listed.

Code values the digest leaves unconfirmed are the sandbox's reading, listed in `CODES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour
from openmydata.sandbox.insu import household
from openmydata.sandbox.population import Person, derive_rng, permute, seeded_faker
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window

CODES: dict[str, dict[str, str]] = {
    "insu_type": {
        "01": "이행보증 (performance bond)",
        "02": "신원보증 (fidelity bond)",
        "03": "전세금보장 (jeonse deposit cover)",
        "04": "할부판매보증 (instalment sale bond)",
        "05": "인허가보증 (licence bond)",
    },
    "insu_status": {"01": "정상 (in force)", "02": "만료 (ended in the window)"},
    "pay_due": {"01": "년납 (yearly)", "04": "일시납 (single)"},
    "pay_method": {"01": "자동이체 (bank account)", "02": "카드 (card)", "03": "직접납부 (virtual account)"},
}

PERFORMANCE_BONDS = ("이행(계약)보증보험", "이행(하자)보증보험", "이행(지급)보증보험")
CLIENTS = ("서울특별시 강남구청", "경기도 수원시청", "한국토지주택공사", "한국전력공사", "부산광역시 해운대구청")


@dataclass
class Guarantee:
    insu_num: str
    insu_type: str
    prod_name: str
    issue: date
    exp: date
    face: int
    premium: int  # per payment
    pay_due: str
    pay_method: str
    insured: str
    transactions: list[dict[str, Any]] = field(default_factory=list)

    def status(self, as_of: date) -> str:
        return "01" if self.exp >= as_of else "02"


class GuaranteeCustomer:
    """Generates one person's guarantee insurance contracts at one guarantee insurer."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "ginsu", org_code, person.index)
        self.household = household(person, seed, as_of)
        self.fake = seeded_faker(seed, "ginsu", org_code, person.index)
        self._count = 0

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person = self.person
        drawn = self._guarantees()
        guarantees = [g for g in drawn if g.exp >= self.window.start]
        if not guarantees:  # everything ended before the window: the first cover was taken out again since
            guarantees = [self._maker(drawn[0].insu_type)(recent=True)]
        for guarantee in guarantees:
            source = sink.add(
                "보증보험-001",
                {
                    "insu_num": guarantee.insu_num,
                    "is_consent": False,
                    "prod_name": guarantee.prod_name,
                    "insu_type": guarantee.insu_type,
                    "insu_status": guarantee.status(self.as_of),
                },
            )
            sink.add(
                "보증보험-002",
                {
                    "issue_date": guarantee.issue.strftime("%Y%m%d"),
                    "exp_date": guarantee.exp.strftime("%Y%m%d"),
                    "face_amt": guarantee.face,
                    "pay_due": guarantee.pay_due,
                    "pay_amt": guarantee.premium,
                    "insured_cnt": 1,
                    "insured_list": [{"insured_name": guarantee.insured}],
                },
                source=source,
            )
            for transaction in guarantee.transactions:
                sink.add("보증보험-003", transaction, source=source)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(g.issue for g in guarantees).strftime("%Y%m%d"),
        }

    # which contracts -----------------------------------------------------------------------------------
    def _guarantees(self) -> list[Guarantee]:
        person, rng, home = self.person, self.rng, self.household
        result: list[Guarantee] = []
        if person.occupation == "self_employed":
            result.extend(self._performance() for _ in range(rng.choice((1, 1, 2, 3))))
            if rng.random() < 0.15:
                result.append(self._licence())
        if person.occupation == "salaried" and person.age <= 32 and rng.random() < 0.6:
            result.append(self._fidelity())
        if home.tenure in ("jeonse", "monthly") and rng.random() < 0.45:
            result.append(self._deposit())
        if home.car is not None and home.car.year >= self.as_of.year - 3 and rng.random() < 0.2:
            result.append(self._instalment())
        if not result:
            if home.tenure in ("jeonse", "monthly"):
                result.append(self._deposit())
            elif person.occupation == "salaried":
                result.append(self._fidelity())
            else:
                result.append(self._instalment())
        return sorted(result, key=lambda g: (g.issue, g.insu_num))

    def _insu_num(self) -> str:
        self._count += 1
        scrambled = permute(self.person.index, 10**10, self.seed, "ginsu", self.org_code)
        return f"{scrambled:010d}{self._count:02d}"

    def _issue(self, back_days: int, recent: bool) -> date:
        """A contract date up to `back_days` ago (up to 300 days ago for a `recent` one)."""
        return self.as_of - timedelta(days=self.rng.randint(1, 300 if recent else back_days))

    def _maker(self, insu_type: str) -> Callable[..., Guarantee]:
        return {
            "01": self._performance,
            "02": self._fidelity,
            "03": self._deposit,
            "04": self._instalment,
            "05": self._licence,
        }[insu_type]

    def _pay_method(self) -> str:
        rng = self.rng
        if rng.random() < behaviour.logistic(-1.6 + 0.6 * self.person.risk):
            return "03"
        return "02" if rng.random() < 0.6 else "01"

    def _make(
        self,
        insu_type: str,
        prod_name: str,
        issue: date,
        exp: date,
        face: int,
        rate: float,
        insured: str,
        yearly: bool = False,
    ) -> Guarantee:
        """A contract whose premium is `rate` of the face amount per year of cover (at least 10,000 won)."""
        years = max(1.0, (exp - issue).days / 365)
        total = max(10_000, int(face * rate * years / 10) * 10)
        payments = 2 if yearly else 1
        guarantee = Guarantee(
            insu_num=self._insu_num(),
            insu_type=insu_type,
            prod_name=prod_name,
            issue=issue,
            exp=exp,
            face=face,
            premium=total // payments,
            pay_due="01" if yearly else "04",
            pay_method=self._pay_method(),
            insured=insured,
        )
        for number in range(payments):
            day = issue if number == 0 else add_months(issue, 12)
            if day in self.window:
                guarantee.transactions.append(
                    {
                        "trans_date": day.strftime("%Y%m%d"),
                        "trans_no": str(number + 1),
                        "paid_amt": guarantee.premium,
                        "pay_method": guarantee.pay_method,
                    }
                )
        return guarantee

    def _performance(self, recent: bool = False) -> Guarantee:
        rng = self.rng
        issue = self._issue(540, recent)
        exp = issue + timedelta(days=rng.randint(90, 365))
        face = rng.randint(1, 20) * 5_000_000
        credit = 0.008 + 0.004 * max(self.person.risk, 0.0)
        client = rng.choice(CLIENTS) if rng.random() < 0.4 else self.fake.company()
        return self._make("01", rng.choice(PERFORMANCE_BONDS), issue, exp, face, credit, client)

    def _licence(self, recent: bool = False) -> Guarantee:
        rng = self.rng
        issue = self._issue(3 * 365, recent)
        exp = add_months(issue, 12 * rng.choice((1, 3, 5)))
        city = rng.choice(("서울특별시장", "경기도지사", "인천광역시장", "대전광역시장", "부산광역시장"))
        return self._make("05", "인허가보증보험", issue, exp, rng.randint(1, 6) * 5_000_000, 0.005, city)

    def _fidelity(self, recent: bool = False) -> Guarantee:
        rng = self.rng
        issue = self._issue(2 * 365, recent)
        exp = add_months(issue, 12 * rng.choice((1, 2, 3)))
        employer = self.person.employer or self.fake.company()
        face = rng.choice((20_000_000, 30_000_000, 50_000_000))
        return self._make("02", "신원보증보험", issue, exp, face, 0.0015, employer)

    def _deposit(self, recent: bool = False) -> Guarantee:
        person, rng = self.person, self.rng
        issue = self._issue(700, recent)
        exp = add_months(issue, 24) + timedelta(days=30)  # the lease and one month
        if self.household.tenure == "monthly":
            face = rng.randint(1, 10) * 10_000_000
        else:
            base = max(50_000_000, person.annual_income * rng.uniform(2.5, 6.0))
            face = min(700_000_000, int(base / 10_000_000) * 10_000_000)
        return self._make("03", "전세금보장신용보험", issue, exp, face, 0.00183, person.name, rng.random() < 0.3)

    def _instalment(self, recent: bool = False) -> Guarantee:
        rng = self.rng
        issue = self._issue(3 * 365, recent)
        exp = add_months(issue, rng.choice((36, 48, 60)))
        face = rng.randint(15, 45) * 1_000_000
        seller = rng.choice(("현대캐피탈", "KB캐피탈", "롯데캐피탈", "하나캐피탈", "BNK캐피탈"))
        return self._make("04", "할부판매보증보험", issue, exp, face, 0.004, seller)


def share(person: Person) -> float:
    """The probability that `person` holds a contract at one guarantee insurer: self-employed people most,
    young salaried people (fidelity bonds) and tenants of working age (deposit cover) some."""
    age = person.age
    if person.occupation == "self_employed":
        return 0.35
    value = 0.03
    if person.occupation == "salaried":
        value += 0.12 if age <= 32 else 0.02
    if 25 <= age <= 55:
        value += 0.07
    return value


def customer(person: Person, org_code: str, seed: int, as_of: date) -> GuaranteeCustomer:
    return GuaranteeCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "GuaranteeCustomer", "customer", "share"]
