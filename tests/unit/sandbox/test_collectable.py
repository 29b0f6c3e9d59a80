"""Everything the sandbox generates lies inside the history a consent-time collection may ask for: ranged
date APIs within (as_of - 12 months, as_of], month-selected APIs within the 12 months up to as_of's month."""

from __future__ import annotations

from datetime import date

import pytest

from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE

AS_OF = date(2026, 11, 3)  # early in the month, where a day-based window touches 13 calendar months


class TestCollectableHistory:
    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_every_period_is_inside_the_consent_time_range(self, sector: str) -> None:
        window = Window.ending(AS_OF)
        months = {f"{y}{m:02d}" for y, m in window.charge_months()}
        first_day, last_day = window.start.strftime("%Y%m%d"), AS_OF.strftime("%Y%m%d")
        people = generate_people(150, 11, AS_OF)
        checked = 0
        for customer in generate_customers(people, sector=sector, org_code="A1TEST0000", seed=11, as_of=AS_OF):  # type: ignore[arg-type]
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                month_selected = spec.range_unit == "month" or (spec.period_field or "").endswith("month")
                if month_selected:
                    period = record.period or str(record.payload.get(spec.record_period_field or "", ""))[:6]
                    assert period in months, (spec.id, period)
                    checked += 1
                elif spec.range_unit == "date":
                    day = str(record.payload[spec.record_period_field or ""])[:8]
                    assert first_day <= day <= last_day, (spec.id, day)
                    checked += 1
        assert checked > 0
