"""How the latent risk turns into payment behaviour, shared by bank loans, card bills and telecom bills.

Every obligation is a month-by-month chain of states: `ON_TIME`, `LATE` (paid after the due date but within the
month) or `MISSED` (nothing paid; the arrears are paid with the next payment). The probabilities are logistic in
the person's `risk`, so a person who misses telecom payments is also likely to be late on a loan and on a card
bill, which is the signal a credit score built on collected data should find:

- P(missed | up to date)   = logistic(miss_base + MISS_SLOPE * risk)
- P(missed | already behind) = logistic(STAY_BEHIND_BASE + STAY_BEHIND_SLOPE * risk)  (arrears persist)
- P(late | not missed)     = logistic(late_base + LATE_SLOPE * risk)
- at most `MAX_MISSED_IN_A_ROW` months in a row are missed; the next month pays everything.
"""

from __future__ import annotations

import math
import random
from enum import Enum

MISS_SLOPE = 1.4
LATE_SLOPE = 1.2
STAY_BEHIND_BASE = -0.6
STAY_BEHIND_SLOPE = 0.8
MAX_MISSED_IN_A_ROW = 3

# (miss_base, late_base) per kind of obligation: loans are missed least, phone bills most.
BANK_LOAN = (-4.6, -3.4)
CARD_BILL = (-4.2, -3.0)
TELECOM_BILL = (-3.2, -2.6)


class PaymentState(Enum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"


def logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def payment_states(rng: random.Random, risk: float, months: int, bases: tuple[float, float]) -> list[PaymentState]:
    """The state of each of `months` consecutive due dates."""
    miss_base, late_base = bases
    states: list[PaymentState] = []
    behind = 0
    for _ in range(months):
        if behind >= MAX_MISSED_IN_A_ROW:
            p_miss = 0.0
        elif behind:
            p_miss = logistic(STAY_BEHIND_BASE + STAY_BEHIND_SLOPE * risk)
        else:
            p_miss = logistic(miss_base + MISS_SLOPE * risk)
        if rng.random() < p_miss:
            states.append(PaymentState.MISSED)
            behind += 1
            continue
        # paying arrears is always after the due date
        late = behind > 0 or rng.random() < logistic(late_base + LATE_SLOPE * risk)
        states.append(PaymentState.LATE if late else PaymentState.ON_TIME)
        behind = 0
    return states


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
