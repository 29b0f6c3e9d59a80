"""The migrations build exactly the ORM models, on both dialects; the range arithmetic is sound."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from openmydata.kit.clock import add_months
from openmydata.kit.db import Database, compare_models
from openmydata.provider.app import MIGRATIONS
from openmydata.provider.models import Base


class TestMigrations:
    async def test_upgrade_head_matches_the_models(self, db_url: str) -> None:
        db = Database(db_url)
        try:
            await db.upgrade(MIGRATIONS)
            await db.upgrade(MIGRATIONS)  # idempotent
            async with db.engine.connect() as connection:
                differences = await connection.run_sync(compare_models, Base.metadata)
            assert differences == []
        finally:
            await db.dispose()


class TestMonthsBack:
    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(min_value=0, max_value=120))
    def test_goes_back_whole_calendar_months(self, day: date, months: int) -> None:
        earlier = add_months(day, -months)
        assert (day.year * 12 + day.month) - (earlier.year * 12 + earlier.month) == months
        assert earlier.day <= day.day
        assert earlier <= day
        if earlier.day < day.day:  # clamped to the last day of a shorter month
            assert (earlier + timedelta(days=1)).day == 1
