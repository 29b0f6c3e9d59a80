"""No personal data in logs: run the whole smoke flow with every log line captured (structlog at DEBUG, JSON,
and the standard library's loggers) and look for the person's CI, name, phone, birth date and every account,
card and line number the providers hold for them."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from openmydata.demo import CORE_INSTITUTIONS, personal_identifiers, run_smoke, start_ecosystem
from openmydata.kit import logging as log
from openmydata.kit.db import Database
from openmydata.provider.importer import export_customer_records
from openmydata.sandbox.population import Person
from openmydata.standard.dataset import StoredRecord

pytestmark = pytest.mark.integration


def _personal_values(person: Person, records: list[StoredRecord]) -> set[str]:
    values = {person.ci, person.name, person.phone, person.birth_date} | personal_identifiers(records)
    return {value for value in values if value}


class TestNoPersonalDataInLogs:
    async def test_smoke_flow_logs_carry_no_personal_data(self, tmp_path: Path) -> None:
        stream = io.StringIO()
        # The project's own logging set-up (what `openmydata serve …` and the demo use), at DEBUG.
        log.configure(json=True, level=logging.DEBUG, stream=stream)
        root = logging.getLogger()
        try:
            eco = await start_ecosystem(tmp_path, people=40, seed=5, pin_kdf_cost=2**4, institutions=CORE_INSTITUTIONS)
            try:
                person = eco.customers_of_all()[0]
                summary = await run_smoke(eco)
                records: list[StoredRecord] = []
                for provider in eco.providers:
                    db = Database(provider.database_url)
                    try:
                        records.extend(await export_customer_records(db, person.ci))
                    finally:
                        await db.dispose()
            finally:
                await eco.stop()
        finally:
            log.configure()
            root.setLevel(logging.WARNING)

        assert summary["ok"], summary
        text = stream.getvalue()
        lines = [line for line in text.splitlines() if line.strip()]
        assert len(lines) > 10, "the flow should have logged something to inspect"
        assert any("tran_id" in line for line in lines)
        # Logs of the portal, CA and providers are all in the capture (one process), including other people's
        # registration; the person driven through the flow must not appear anywhere.
        leaks = sorted(value for value in _personal_values(person, records) if value in text)
        assert leaks == [], (
            f"personal data in logs: {len(leaks)} values, e.g. field kinds {[len(v) for v in leaks][:5]}"
        )
        for line in lines:
            if line.startswith("{"):
                json.loads(line)
