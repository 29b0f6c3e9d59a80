from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from openmydata.kit.clock import add_months
from openmydata.sandbox.behaviour import PaymentState, payment_states
from openmydata.sandbox.card import instalment_slice
from openmydata.sandbox.timeline import Window, dtime

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


class TestAddMonths:
    @given(days, st.integers(min_value=-240, max_value=240))
    def test_moves_by_whole_months_and_clamps_the_day(self, day: date, months: int) -> None:
        moved = add_months(day, months)
        assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
        assert moved.day == day.day or (moved.day < day.day and (moved + timedelta(days=1)).day == 1)


class TestWindow:
    @given(days)
    def test_covers_twelve_months_up_to_as_of(self, as_of: date) -> None:
        window = Window.ending(as_of)
        assert window.end == as_of
        assert add_months(window.start - timedelta(days=1), 12) == as_of or as_of.day > 28
        assert 365 <= (as_of - window.start).days + 1 <= 366
        assert window.months()[-1] == (as_of.year, as_of.month)
        assert len(window.months()) in (12, 13)


class TestDtime:
    @given(days, st.integers(min_value=0, max_value=86_399))
    def test_formats_as_yyyymmddhhmmss(self, day: date, seconds: int) -> None:
        text = dtime(day, seconds)
        assert text[:8] == day.strftime("%Y%m%d")
        assert int(text[8:10]) * 3600 + int(text[10:12]) * 60 + int(text[12:]) == seconds


class TestInstalmentSlice:
    @given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=36))
    def test_slices_add_up_to_the_amount(self, amount: int, count: int) -> None:
        slices = [instalment_slice(amount, count, number) for number in range(1, count + 1)]
        assert sum(principal for principal, _, _ in slices) == amount
        assert slices[-1][2] == 0
        assert all(fee >= 0 for _, fee, _ in slices)


class TestPaymentStates:
    def test_never_more_than_three_missed_in_a_row(self) -> None:
        states = payment_states(random.Random(1), 4.0, 500, (-3.0, -2.0))
        run = longest = 0
        for state in states:
            run = run + 1 if state is PaymentState.MISSED else 0
            longest = max(longest, run)
        assert longest == 3

    def test_payment_after_a_miss_is_late(self) -> None:
        states = payment_states(random.Random(2), 2.0, 400, (-3.0, -2.0))
        for before, after in itertools.pairwise(states):
            if before is PaymentState.MISSED:
                assert after is not PaymentState.ON_TIME
