"""The fast wire form must equal the validated one, record for record and byte for byte."""

from __future__ import annotations

from datetime import date

import pytest

from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people

AS_OF = date(2026, 11, 22)


class TestFastWirePayload:
    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_fast_output_equals_validated_output(self, sector: str) -> None:
        people = generate_people(60, 7, AS_OF)
        kwargs = {"sector": sector, "org_code": "A1TEST0000", "seed": 7, "as_of": AS_OF}
        fast = [c.model_dump_json() for c in generate_customers(people, **kwargs)]  # type: ignore[arg-type]
        strict = [c.model_dump_json() for c in generate_customers(people, validate=True, **kwargs)]  # type: ignore[arg-type]
        assert fast
        assert fast == strict
