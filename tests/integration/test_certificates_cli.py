"""`openmydata certs status` and `openmydata certs rotate` against a running ecosystem (SQLite): the status
report compares every participant's certificate with the portal's registry, rotation issues and registers new
certificates that the participants pick up without a restart, and mismatches are explained in plain words."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from openmydata.cli import app
from openmydata.demo import CORE_INSTITUTIONS, Ecosystem, renew_due_certificates, start_ecosystem
from openmydata.kit import pki
from openmydata.kit.http import make_client
from openmydata.kit.tls import certificate_fingerprint

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def eco(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ecosystem]:
    ecosystem = await start_ecosystem(
        tmp_path_factory.mktemp("certs"), people=20, seed=7, pin_kdf_cost=2**4, institutions=CORE_INSTITUTIONS
    )
    try:
        yield ecosystem
    finally:
        await ecosystem.stop()


async def _cli(*args: str) -> tuple[int, str, str]:
    """Run the command in a thread of its own (it calls asyncio.run) while the ecosystem serves on this loop."""
    result = await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args)))
    return result.exit_code, result.stdout, result.stderr


def _status(stdout: str) -> dict[str, dict[str, object]]:
    return {entry["participant"]: entry for entry in json.loads(stdout)}


async def test_status_reports_every_participant_registered_and_valid(eco: Ecosystem) -> None:
    code, stdout, _ = await _cli("certs", "status", "--data-dir", str(eco.data_dir), "--json")
    assert code == 0
    status = _status(stdout)
    assert set(status) == {holder.name for holder in eco.holders}
    for holder in eco.holders:
        entry = status[holder.name]
        assert entry["ok"] is True, entry
        assert entry["serialnumber"] == holder.regno
        assert entry["org_code"] == holder.org_code
        assert isinstance(entry["days_left"], int)
        assert entry["days_left"] > 300


async def test_rotate_registers_and_the_participant_presents_the_new_certificate(eco: Ecosystem) -> None:
    assert eco.certificates is not None
    before = eco.certificates.certificate("provider-card")
    assert before is not None
    code, _, stderr = await _cli("certs", "rotate", "--data-dir", str(eco.data_dir), "--participant", "provider-card")
    assert code == 0, stderr
    after = eco.certificates.certificate("provider-card")
    assert after is not None
    assert certificate_fingerprint(after) != certificate_fingerprint(before)
    code, stdout, _ = await _cli("certs", "status", "--data-dir", str(eco.data_dir), "--json")
    assert code == 0
    assert _status(stdout)["provider-card"]["fingerprint"] == certificate_fingerprint(after)
    # The registry keeps the previous fingerprint too (rotation overlap), newest first.
    card = eco.holder("provider-card")
    async with make_client() as plain:
        view = (
            await plain.get(f"{eco.portal.url}/admin/orgs/{card.org_code}", headers={"x-admin-key": eco.admin_key})
        ).json()
    assert view["cert_fingerprints"][:2] == [certificate_fingerprint(after), certificate_fingerprint(before)]


async def test_renewal_rotates_only_certificates_inside_the_window(eco: Ecosystem) -> None:
    assert eco.certificates is not None
    soon = datetime.now(UTC) + timedelta(days=380)  # every demo certificate (397 days) is then within 30 days
    assert await renew_due_certificates(eco, datetime.now(UTC)) == []
    rotated = await renew_due_certificates(eco, soon)
    assert sorted(rotated) == sorted(holder.name for holder in eco.holders)


async def test_status_explains_a_certificate_with_the_wrong_serialnumber(eco: Ecosystem) -> None:
    assert eco.certificates is not None
    bank = eco.holder("provider-bank")
    key, wrong = eco.certificates.authority().issue_organisation(bank.org_code, "1234567890", hosts=("127.0.0.1",))
    files = eco.certificates.files("provider-bank")
    original = files.key_file.read_bytes(), files.cert_file.read_bytes()
    files.key_file.write_bytes(pki.key_to_pem(key))
    files.cert_file.write_bytes(pki.cert_to_pem(wrong))
    try:
        code, stdout, _ = await _cli("certs", "status", "--data-dir", str(eco.data_dir), "--json")
    finally:  # the other tests of the module (in any order) need the bank's real certificate back
        files.key_file.write_bytes(original[0])
        files.cert_file.write_bytes(original[1])
    assert code == 1
    problems = _status(stdout)["provider-bank"]["problems"]
    assert isinstance(problems, list)
    assert any("SERIALNUMBER is 1234567890" in problem for problem in problems)
    assert any("registered SERIALNUMBER 1018100001" in problem for problem in problems)
