"""A deterministic synthetic Korean population.

Person `i` depends only on (seed, as_of, i): every random draw comes from a generator seeded by those values, so
generating 100 or 10,000 people yields the same first 100. Besides the identity the certification authority
enrols (CI, name, birth date, phone, PIN), each person carries latent variables that drive the institutions'
data: `risk` (standard normal; higher means more missed and late payments at every institution), income,
spending propensity and a thin-file flag (few or no loans and cards).

Distributions (documented in docs, kept here as data):
- age 19–80 by band weights `AGE_BANDS` (young adults over-represented relative to the census, as MyData users are);
- gender 50/50; names from Faker `ko_KR` matching the gender;
- phone `010` + 8 digits, digits only, unique for the first 9*10^7 indexes (an affine permutation of the index);
- income: a per-person standard normal `income_level`; annual income is log-normal around an age-band median
  (`INCOME_MEDIAN_BY_AGE`), with some students and retirees on a small allowance or pension instead of a salary;
- risk: standard normal, correlated -0.3 with income_level;
- spending propensity: share of monthly net income spent, about 0.55 ± 0.18, higher with risk, clipped to 0.2–1.3;
- thin file: 70% of people under 25, 20% over 70, 8% of everyone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal, TypeVar

from faker import Faker

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

_T = TypeVar("_T")

Gender = Literal["M", "F"]
Occupation = Literal["salaried", "self_employed", "student", "retired", "homemaker"]

# (lowest age, highest age, weight)
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (19, 24, 0.13),
    (25, 29, 0.14),
    (30, 34, 0.12),
    (35, 39, 0.11),
    (40, 49, 0.19),
    (50, 59, 0.16),
    (60, 69, 0.10),
    (70, 80, 0.05),
)

# (lowest age, median annual gross income in KRW for people with earnings)
INCOME_MEDIAN_BY_AGE: tuple[tuple[int, int], ...] = (
    (19, 24_000_000),
    (25, 34_000_000),
    (30, 42_000_000),
    (35, 48_000_000),
    (40, 54_000_000),
    (50, 50_000_000),
    (60, 30_000_000),
    (65, 18_000_000),
)

INCOME_SIGMA = 0.45  # log-normal spread of income around the age median
RISK_INCOME_CORRELATION = -0.3
_PHONE_SPACE = 9 * 10**7


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed derived from the master seed and a label path (stable across processes and versions)."""
    text = ":".join(str(part) for part in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


class SandboxRandom(random.Random):
    """`random.Random` with leaner `randint`, one-argument `randrange` and `choice` for the millions of draws
    the generators make: the same numbers from the same underlying draws (`getrandbits` calls exactly as
    `Random._randbelow` makes them), without the argument checks of the general methods. Anything else falls
    back to `random.Random`."""

    def randint(self, a: int, b: int) -> int:
        if type(a) is int and type(b) is int and a <= b:
            n = b - a + 1
            bits = n.bit_length()
            value = self.getrandbits(bits)
            while value >= n:
                value = self.getrandbits(bits)
            return a + value
        return super().randint(a, b)

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None and step == 1 and type(start) is int and start > 0:
            bits = start.bit_length()
            value = self.getrandbits(bits)
            while value >= start:
                value = self.getrandbits(bits)
            return value
        return super().randrange(start, stop, step)

    def choice(self, seq: SupportsLenAndGetItem[_T]) -> _T:
        n = len(seq)
        if not n:
            raise IndexError("Cannot choose from an empty sequence")
        bits = n.bit_length()
        value = self.getrandbits(bits)
        while value >= n:
            value = self.getrandbits(bits)
        return seq[value]


def derive_rng(seed: int, *parts: object) -> random.Random:
    return SandboxRandom(derive_seed(seed, *parts))


@cache
def _faker() -> Faker:
    return Faker("ko_KR")


def seeded_faker(seed: int, *label: object) -> Faker:
    """The shared ko_KR Faker, re-seeded for one purpose (cheap; one instance per process)."""
    fake = _faker()
    fake.seed_instance(derive_seed(seed, "faker", *label))
    return fake


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic resident: identity plus the latent variables that drive the institutions' data."""

    index: int
    ci: str  # 연계정보: Base64 of an HMAC-SHA512, 88 characters
    name: str
    birth_date: str  # YYYYMMDD
    gender: Gender
    phone: str  # 010XXXXXXXX, digits only
    pin: str  # 6 digits, the certificate PIN the CA enrols
    age: int
    occupation: Occupation
    employer: str  # company name for salaried people, "" otherwise
    payday: int  # day of month income arrives
    income_level: float  # standard normal
    annual_income: int  # KRW, gross
    risk: float  # standard normal latent credit risk
    spending: float  # share of monthly net income spent
    thin_file: bool

    @property
    def monthly_net_income(self) -> int:
        """Take-home pay per month (about 85% of gross)."""
        return int(self.annual_income * 0.85 / 12 / 1000) * 1000


def _age(rng: random.Random) -> int:
    low, high, _ = rng.choices(AGE_BANDS, weights=[band[2] for band in AGE_BANDS])[0]
    return rng.randint(low, high)


def _birth_date(rng: random.Random, age: int, as_of: date) -> date:
    # born between (as_of - (age+1) years, as_of - age years]; 29 February falls back to the 28th
    latest = _years_before(as_of, age)
    earliest = _years_before(as_of, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _occupation(rng: random.Random, age: int) -> Occupation:
    roll = rng.random()
    if age < 25:
        return "student" if roll < 0.45 else "salaried"
    if age >= 65:
        return "retired" if roll < 0.75 else "self_employed"
    if roll < 0.72:
        return "salaried"
    if roll < 0.88:
        return "self_employed"
    return "homemaker"


def _income_median(age: int) -> int:
    median = INCOME_MEDIAN_BY_AGE[0][1]
    for low, value in INCOME_MEDIAN_BY_AGE:
        if age >= low:
            median = value
    return median


def _annual_income(age: int, occupation: Occupation, income_level: float) -> int:
    median = _income_median(age)
    if occupation == "student":
        median = 6_000_000  # allowance and part-time work
    elif occupation == "homemaker":
        median = 9_000_000
    elif occupation == "retired":
        median = 14_000_000  # pensions
    elif occupation == "self_employed":
        median = int(median * 0.9)
    value = median * math.exp(INCOME_SIGMA * income_level)
    return max(3_000_000, int(value / 100_000) * 100_000)


def _thin_file(rng: random.Random, age: int) -> bool:
    if age < 25:
        return rng.random() < 0.70
    if age > 70:
        return rng.random() < 0.20
    return rng.random() < 0.08


def permute(index: int, space: int, seed: int, *label: object) -> int:
    """A bijection of 0 … space-1 chosen by (seed, label): unique numbers for unique indexes, scrambled.

    An affine map modulo `space` with a multiplier coprime to it; person i's number does not depend on how
    many people there are.
    """
    multiplier = derive_seed(seed, *label, "a") % space
    while math.gcd(multiplier, space) != 1:
        multiplier += 1
    return (multiplier * index + derive_seed(seed, *label, "b")) % space


def _phone(seed: int, index: int) -> str:
    # 010-1000-0000 … 010-9999-9999, one number per person
    return f"010{10**7 + permute(index, _PHONE_SPACE, seed, 'phone'):08d}"


def make_ci(seed: int, resident_number: str) -> str:
    """연계정보 (CI): Base64 of HMAC-SHA512 over a resident registration number, under a key from the seed."""
    key = hashlib.sha256(f"openmydata-sandbox-ci:{seed}".encode()).digest()
    digest = hmac.new(key, resident_number.encode("ascii"), hashlib.sha512).digest()
    return base64.b64encode(digest).decode("ascii")


def _resident_number(born: date, gender: Gender, index: int) -> str:
    # synthetic 주민등록번호: YYMMDD + gender/century digit + the index (unique by construction, never a real one)
    century_digit = (1 if gender == "M" else 2) if born.year < 2000 else (3 if gender == "M" else 4)
    return f"{born:%y%m%d}-{century_digit}{index:09d}"


def make_person(index: int, seed: int, as_of: date) -> Person:
    rng = derive_rng(seed, "person", index)
    age = _age(rng)
    born = _birth_date(rng, age, as_of)
    gender: Gender = "M" if rng.random() < 0.5 else "F"
    occupation = _occupation(rng, age)
    income_level = rng.gauss(0.0, 1.0)
    noise = rng.gauss(0.0, 1.0)
    risk = RISK_INCOME_CORRELATION * income_level + math.sqrt(1 - RISK_INCOME_CORRELATION**2) * noise
    spending = min(1.3, max(0.2, 0.55 + 0.18 * rng.gauss(0.0, 1.0) + 0.06 * risk))
    thin_file = _thin_file(rng, age)
    payday = rng.choice((10, 15, 17, 20, 21, 25, 25, 25))
    pin = f"{rng.randrange(10**6):06d}"

    fake = seeded_faker(seed, index)
    name = fake.name_male() if gender == "M" else fake.name_female()
    employer = fake.company() if occupation in ("salaried", "self_employed") else ""

    return Person(
        index=index,
        ci=make_ci(seed, _resident_number(born, gender, index)),
        name=name,
        birth_date=born.strftime("%Y%m%d"),
        gender=gender,
        phone=_phone(seed, index),
        pin=pin,
        age=age,
        occupation=occupation,
        employer=employer,
        payday=payday,
        income_level=income_level,
        annual_income=_annual_income(age, occupation, income_level),
        risk=risk,
        spending=spending,
        thin_file=thin_file,
    )


def generate_people(count: int, seed: int, as_of: date) -> list[Person]:
    """People 0 … count-1; person i is the same whatever `count` is."""
    if count < 0:
        raise ValueError("count must not be negative")
    return [make_person(index, seed, as_of) for index in range(count)]
