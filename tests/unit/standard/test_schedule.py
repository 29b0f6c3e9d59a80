"""Scheduled-transmission rules (digest §4, §10.4): consent cycles per calendar period and the providers' windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openmydata.kit.clock import KST
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import CycleClass
from openmydata.standard.consent import TransmissionCycle
from openmydata.standard.schedule import SCHEDULED_LONG_RANGE_APIS, Cycle, TimeWindow, Windows, cycle_for

# Aware moments in any fixed offset from −12 h to +14 h: the rules must not depend on the caller's zone.
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)),
    offsets,
)
cycles = st.builds(Cycle, st.integers(min_value=1, max_value=999), st.sampled_from(["d", "w", "m"]))
window_texts = st.builds(
    lambda start, end: f"{start // 60:02d}{start % 60:02d}:{end // 60:02d}{end % 60:02d}",
    st.integers(min_value=0, max_value=1439),
    st.integers(min_value=0, max_value=1440),
).filter(lambda text: text[:4] != text[5:] and not (text[:4] == "0000" and text[5:] == "0000"))


def kst(day: str, hhmm: str = "0000", second: int = 0) -> datetime:
    return datetime(int(day[:4]), int(day[4:6]), int(day[6:]), int(hhmm[:2]), int(hhmm[2:]), second, tzinfo=KST)


class TestCycle:
    @pytest.mark.parametrize(("text", "count", "unit"), [("1/w", 1, "w"), ("2/d", 2, "d"), ("999/m", 999, "m")])
    def test_parse(self, text: str, count: int, unit: str) -> None:
        cycle = Cycle.parse(text)
        assert (cycle.count, cycle.unit) == (count, unit)
        assert cycle.to_wire() == text

    @pytest.mark.parametrize("text", ["", "0/w", "1/y", "1w", "1/W", " 1/w", "1/w\n", "1000/d", "-1/d", "01/w", "1/ w"])
    def test_anything_else_is_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="cycle"):
            Cycle.parse(text)

    def test_a_naive_moment_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            Cycle.parse("1/w").period_start(datetime(2026, 11, 22))

    @given(cycles, moments)
    def test_the_period_contains_the_moment(self, cycle: Cycle, moment: datetime) -> None:
        start, following = cycle.period_start(moment), cycle.next_period_start(moment)
        assert start <= moment < following
        assert start.utcoffset() == following.utcoffset() == timedelta(hours=9)
        local = start.astimezone(KST)
        assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
        assert 1 <= cycle.seconds_until_next_period(moment) <= 31 * 86_400

    @given(cycles, moments)
    def test_period_start_is_idempotent_and_periods_tile(self, cycle: Cycle, moment: datetime) -> None:
        start = cycle.period_start(moment)
        assert cycle.period_start(start) == start
        following = cycle.next_period_start(moment)
        assert cycle.period_start(following) == following
        assert cycle.period_start(following - timedelta(microseconds=1)) == start

    @given(moments)
    def test_a_week_starts_on_sunday_in_seoul(self, moment: datetime) -> None:
        start = Cycle.parse("1/w").period_start(moment)
        assert start.astimezone(KST).weekday() == 6
        assert timedelta(0) <= moment - start < timedelta(days=7)

    @given(moments)
    def test_months_and_days(self, moment: datetime) -> None:
        local = moment.astimezone(KST)
        assert Cycle.parse("1/m").period_start(moment) == datetime(local.year, local.month, 1, tzinfo=KST)
        assert Cycle.parse("1/d").period_start(moment) == datetime(local.year, local.month, local.day, tzinfo=KST)

    def test_sunday_in_seoul_while_still_saturday_in_utc(self) -> None:
        # 2026-11-21 (Saturday) 15:30 UTC is Sunday 2026-11-22 00:30 in Seoul: a new week has begun there.
        moment = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
        weekly = Cycle.parse("1/w")
        assert weekly.period_start(moment) == kst("20261122")
        assert weekly.next_period_start(moment) == kst("20261129")
        # one second before Seoul's midnight it is still the week that began on the 15th
        assert weekly.period_start(datetime(2026, 11, 21, 14, 59, 59, tzinfo=UTC)) == kst("20261115")

    def test_month_end_and_year_end(self) -> None:
        monthly = Cycle.parse("1/m")
        assert monthly.next_period_start(kst("20261231", "2359")) == kst("20270101")
        assert monthly.next_period_start(kst("20280229", "1200")) == kst("20280301")
        assert monthly.seconds_until_next_period(kst("20261130", "2359", 59)) == 1

    def test_retry_after_is_rounded_up(self) -> None:
        daily = Cycle.parse("1/d")
        almost = kst("20261122", "2359", 59) + timedelta(microseconds=1)
        assert daily.seconds_until_next_period(almost) == 1
        assert daily.seconds_until_next_period(kst("20261122", "1200")) == 12 * 3600


class TestCycleFor:
    def test_basic_and_additional_apis(self) -> None:
        cycle = TransmissionCycle(fnd_cycle="1/w", add_cycle="3/d")
        basic = next(spec for spec in CATALOGUE if spec.cycle is CycleClass.BASIC)
        additional = next(spec for spec in CATALOGUE if spec.cycle is CycleClass.ADDITIONAL)
        assert cycle_for(basic, cycle) == Cycle(1, "w")
        assert cycle_for(additional, cycle) == Cycle(3, "d")

    def test_an_api_without_a_class_follows_fnd_cycle(self) -> None:
        unclassed = next(spec for spec in CATALOGUE if spec.is_info_api and spec.cycle is None)
        assert cycle_for(unclassed, TransmissionCycle(fnd_cycle="2/m", add_cycle="1/d")) == Cycle(2, "m")


class TestLongRangeApis:
    def test_every_listed_api_is_a_date_ranged_information_api(self) -> None:
        # §10.4: these take from_date/to_date and may span 3 months per scheduled call instead of 31 days
        assert len(set(SCHEDULED_LONG_RANGE_APIS)) == 9
        for api_id in SCHEDULED_LONG_RANGE_APIS:
            assert CATALOGUE[api_id].is_info_api
            assert CATALOGUE[api_id].range_unit == "date", api_id


class TestTimeWindow:
    @given(window_texts)
    def test_round_trip(self, text: str) -> None:
        window = TimeWindow.parse(text)
        assert window.to_wire() == text
        assert TimeWindow.parse(window.to_wire()) == window
        assert 1 <= window.minutes() <= 1440

    @pytest.mark.parametrize(
        ("text", "minutes", "wraps"),
        [("0030:0530", 300, False), ("2300:0100", 120, True), ("1800:2400", 360, False), ("0000:2400", 1440, False)],
    )
    def test_length(self, text: str, minutes: int, wraps: bool) -> None:
        window = TimeWindow.parse(text)
        assert (window.minutes(), window.wraps) == (minutes, wraps)

    @pytest.mark.parametrize(
        "text",
        ["", "0030-0530", "030:0530", "0030:0530 ", "2400:0100", "0060:0200", "0100:2401", "2500:0100", "0100:0100"],
    )
    def test_bad_windows_are_refused(self, text: str) -> None:
        with pytest.raises(ValueError):
            TimeWindow.parse(text)

    def test_containment_start_included_end_excluded(self) -> None:
        window = TimeWindow.parse("2300:0100")
        assert window.contains(kst("20261122", "2300"))
        assert window.contains(kst("20261122", "2359", 59))
        assert window.contains(kst("20261123", "0000"))
        assert window.contains(kst("20261123", "0059", 59))
        assert not window.contains(kst("20261123", "0100"))
        assert not window.contains(kst("20261122", "2259", 59))
        # 14:30 UTC is 23:30 in Seoul
        assert window.contains(datetime(2026, 11, 22, 14, 30, tzinfo=UTC))


class TestWindows:
    @given(st.lists(window_texts, max_size=4), moments)
    def test_next_open_is_consistent_with_containment(self, texts: list[str], moment: datetime) -> None:
        windows = Windows.parse(texts)
        opens = windows.next_open(moment)
        assert windows.contains(opens)
        if windows.contains(moment):
            assert opens == moment
        else:
            assert moment < opens <= moment + timedelta(days=1)
            # nothing opens in between: the minute before the opening is still closed
            assert not windows.contains(opens - timedelta(microseconds=1))
            assert windows.seconds_until_open(moment) >= 1

    @given(st.lists(window_texts, max_size=4))
    def test_round_trip(self, texts: list[str]) -> None:
        windows = Windows.parse(texts)
        assert windows.to_wire() == texts
        assert Windows.parse(windows.to_wire()) == windows

    @given(moments)
    def test_none_published_allows_every_moment(self, moment: datetime) -> None:
        windows = Windows.parse([])
        assert not windows.published
        assert windows.contains(moment)
        assert windows.next_open(moment) == moment

    def test_next_open_after_midnight_and_retry_after(self) -> None:
        windows = Windows.parse(["0030:0530", "2200:2330"])
        assert windows.next_open(kst("20261122", "1200")) == kst("20261122", "2200")
        assert windows.next_open(kst("20261122", "2345")) == kst("20261123", "0030")
        assert windows.seconds_until_open(kst("20261122", "2145", 30)) == 870
        assert windows.next_open(kst("20261122", "0100")) == kst("20261122", "0100")

    def test_a_string_is_not_a_list_of_windows(self) -> None:
        with pytest.raises(ValueError, match="list"):
            Windows.parse("0030:0530")


class TestRegistration:
    @pytest.mark.parametrize(
        "texts",
        [
            ["0000:0600"],
            ["0030:0530", "2300:0000"],
            ["2200:0400"],
            ["0100:0300", "1200:1400", "2200:2400"],
            ["0000:2400"],
            ["1800:2400", "0000:0100"],
        ],
    )
    def test_what_the_standard_allows(self, texts: list[str]) -> None:
        Windows.parse(texts).check_registration()

    @pytest.mark.parametrize(
        ("texts", "message"),
        [
            ([], "1 to 3 windows"),
            (["0000:0200", "0300:0500", "0600:0800", "0900:1100"], "1 to 3 windows"),
            (["0000:0545"], "30-minute boundary"),
            (["0015:0645"], "30-minute boundary"),
            (["0000:0530"], "at least 6 hours"),
            (["0000:0400", "0300:0700"], "overlap"),
            (["2200:0400", "0300:0600"], "overlap"),
            (["0000:0600", "0000:0600"], "overlap"),
        ],
    )
    def test_what_it_refuses(self, texts: list[str], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            Windows.parse(texts).check_registration()

    @given(st.lists(window_texts, min_size=1, max_size=3))
    def test_accepted_windows_cover_six_hours_without_overlap(self, texts: list[str]) -> None:
        windows = Windows.parse(texts)
        try:
            windows.check_registration()
        except ValueError:
            return
        assert windows.daily_minutes() == sum(window.minutes() for window in windows.windows) >= 360
        assert all(window.start_min % 30 == window.end_min % 30 == 0 for window in windows.windows)
