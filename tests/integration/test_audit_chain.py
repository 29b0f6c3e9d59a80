"""Every participant keeps a verifiable audit chain through the whole flow: after the smoke run (sign-up,
consent at every provider, collection, withdrawal) `openmydata audit verify` finds portal, certauth and operator
intact with entries; one altered row of the operator's audit_log makes it fail and name the entry."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openmydata.cli import app
from openmydata.demo import CORE_INSTITUTIONS, run_smoke, start_ecosystem
from openmydata.kit.db import sqlite_url

pytestmark = [pytest.mark.integration]

PARTICIPANTS = ("portal", "certauth", "operator")


async def _smoke(data_dir: Path) -> dict[str, Any]:
    eco = await start_ecosystem(data_dir, people=30, seed=3, pin_kdf_cost=2**4, institutions=CORE_INSTITUTIONS)
    try:
        return await run_smoke(eco)
    finally:
        await eco.stop()


def _verify(data_dir: Path) -> tuple[int, list[tuple[str, str]], str]:
    arguments = ["audit", "verify"]
    for name in PARTICIPANTS:
        arguments += ["--database-url", sqlite_url(data_dir / f"{name}.db")]
    for provider_db in sorted(data_dir.glob("provider-*.db")):
        arguments += ["--database-url", sqlite_url(provider_db)]
    result = CliRunner().invoke(app, arguments)
    # (status, entry count or broken entry), one per database in the order given
    found = re.findall(r"(intact)\s+(\d+) entries|(BROKEN)\s+at entry (\d+)", result.output)
    statuses = [(intact or broken, count or seq) for intact, count, broken, seq in found]
    return result.exit_code, statuses, result.output


def _kinds(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as connection:
        return [kind for (kind,) in connection.execute("SELECT kind FROM audit_log ORDER BY seq")]


class TestAuditChainAcrossTheEcosystem:
    def test_chains_verify_after_the_flow_and_an_altered_row_is_named(self, tmp_path: Path) -> None:
        summary = asyncio.run(_smoke(tmp_path))
        assert summary["ok"] is True, summary

        code, results, _ = _verify(tmp_path)
        assert code == 0, results
        assert [status for status, _ in results] == ["intact"] * 6  # portal, certauth, operator, 3 providers
        assert all(int(count) > 0 for _, count in results)

        operator_db = tmp_path / "operator.db"
        kinds = _kinds(operator_db)
        for kind in ("signup", "integrated_auth", "consent", "collection", "withdrawal"):
            assert kind in kinds, kind
        assert {"sign_request", "sign_approved", "sign_verification"} <= set(_kinds(tmp_path / "certauth.db"))
        assert {"org_registered", "service_registered", "support_token_issued"} <= set(_kinds(tmp_path / "portal.db"))
        for provider_db in tmp_path.glob("provider-*.db"):
            assert {"consent_granted", "info_api", "consent_revoked"} <= set(_kinds(provider_db)), provider_db.name

        altered = kinds.index("collection") + 1
        with closing(sqlite3.connect(operator_db)) as connection, connection:
            (text,) = connection.execute("SELECT event FROM audit_log WHERE seq = ?", (altered,)).fetchone()
            event = json.loads(text)
            event["records"] = {api_id: count + 1 for api_id, count in event["records"].items()}
            event["org_code"] = "A1FAKE0000"
            connection.execute("UPDATE audit_log SET event = ? WHERE seq = ?", (json.dumps(event), altered))

        code, results, output = _verify(tmp_path)
        assert code == 1
        assert [status for status, _ in results] == ["intact", "intact", "BROKEN", "intact", "intact", "intact"]
        assert results[2] == ("BROKEN", str(altered))
        broken = output.split("BROKEN", 1)[1]
        assert "content was altered" in broken
        assert "operator.db" in broken
