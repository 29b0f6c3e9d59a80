"""`openmydata provider import --profile`: a nationwide dataset goes into a nationwide-profile provider's database,
and a financial-profile import refuses its records (they are no API of the financial catalogue)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from openmydata.cli import app
from openmydata.kit.db import sqlite_url
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.standard.apis import NATIONWIDE_CATALOGUE
from openmydata.standard.dataset import dump_lines


def _dataset(tmp_path: Path) -> tuple[Path, int]:
    as_of = date(2025, 6, 30)
    customers = list(
        generate_customers(
            generate_people(20, 7, as_of),
            sector="telecom",
            org_code="F1TELE0000",
            seed=7,
            as_of=as_of,
            catalogue=NATIONWIDE_CATALOGUE,
        )
    )
    path = tmp_path / "telecom-nationwide.jsonl"
    path.write_text("".join(dump_lines(customers)), encoding="utf-8")
    return path, len(customers)


class TestProviderImportProfile:
    def test_nationwide_records_need_the_nationwide_profile(self, tmp_path: Path) -> None:
        dataset, count = _dataset(tmp_path)
        url = sqlite_url(tmp_path / "provider.db")
        runner = CliRunner()
        refused = runner.invoke(app, ["provider", "import", str(dataset), "--database-url", url])
        assert refused.exit_code != 0
        assert "unknown API 통신(전국)-001" in str(refused.exception)
        done = runner.invoke(
            app, ["provider", "import", str(dataset), "--database-url", url, "--profile", "nationwide"]
        )
        assert done.exit_code == 0, done.output
        assert f"imported {count} customers" in done.output
        wrong = runner.invoke(app, ["provider", "import", str(dataset), "--database-url", url, "--profile", "regional"])
        assert wrong.exit_code == 2
