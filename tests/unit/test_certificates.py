from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from openmydata.certificates import (
    CA_NAME,
    STATE_FILE,
    CertificateStore,
    Holder,
    explain,
    holders_of,
    load_state,
    save_state,
)
from openmydata.kit import pki
from openmydata.kit.tls import certificate_fingerprint

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BANK = Holder(name="provider-bank", org_code="BANK000001", regno="1234567890", org_name="Demo Bank")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def authority() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("OpenMyData Certificates Test CA")


def issue(
    authority: pki.CertificateAuthority,
    *,
    regno: str = BANK.regno,
    not_before: datetime = NOW - timedelta(days=100),
    valid_for: timedelta = timedelta(days=397),
) -> x509.Certificate:
    return authority.issue_organisation(BANK.org_code, regno, not_before=not_before, valid_for=valid_for)[1]


@pytest.fixture(scope="module")
def good(authority: pki.CertificateAuthority) -> x509.Certificate:
    """Valid at NOW for another ~297 days, SERIALNUMBER = BANK.regno."""
    return issue(authority)


def registered(
    certificate: x509.Certificate | None = None,
    *,
    serial_num: str | None = BANK.regno,
    fingerprints: list[str] | None = None,
    active: bool = True,
) -> dict[str, Any]:
    """What the portal's admin API says about an organisation."""
    if fingerprints is None:
        fingerprints = [certificate_fingerprint(certificate)] if certificate is not None else []
    return {"org_code": BANK.org_code, "active": active, "serial_num": serial_num, "cert_fingerprints": fingerprints}


class TestCertificateStore:
    def test_ca_is_created_once_and_reused(self, tmp_path: Path) -> None:
        store = CertificateStore(tmp_path / "tls")
        first = store.authority()
        assert store.ca_file == tmp_path / "tls" / "ca.pem"
        assert store.ca_file.read_bytes() == first.certificate_pem()
        assert mode_of(tmp_path / "tls" / "ca-key.pem") == 0o600
        assert first.name == CA_NAME

        again = store.authority()
        assert again.certificate == first.certificate
        assert again.key.private_numbers() == first.key.private_numbers()
        # Another store over the same folder (another process) finds the same CA.
        assert CertificateStore(tmp_path / "tls").authority().certificate == first.certificate

    def test_issue_writes_the_certificate_and_a_private_key(self, tmp_path: Path) -> None:
        store = CertificateStore(tmp_path)
        certificate = store.issue(BANK)
        files = store.files(BANK.name)
        assert files.cert_file == tmp_path / "provider-bank" / "cert.pem"
        assert files.key_file == tmp_path / "provider-bank" / "key.pem"
        assert files.ca_file == store.ca_file

        assert pki.cert_from_pem(files.cert_file.read_bytes()) == certificate
        assert store.certificate(BANK.name) == certificate
        assert mode_of(files.key_file) == 0o600
        key = pki.key_from_pem(files.key_file.read_bytes())
        assert key.public_key() == certificate.public_key()
        # Atomic writes leave no temporary files behind.
        assert sorted(path.name for path in files.cert_file.parent.iterdir()) == ["cert.pem", "key.pem"]

    def test_issued_certificate_names_the_organisation(self, tmp_path: Path) -> None:
        store = CertificateStore(tmp_path)
        certificate = store.issue(BANK)
        assert pki.subject_serial_number(certificate) == BANK.regno
        assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == BANK.org_code
        assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == BANK.org_name
        assert pki.is_issued_by(certificate, store.authority().certificate)

    def test_rotation_issues_a_new_certificate_from_the_same_ca(self, tmp_path: Path) -> None:
        store = CertificateStore(tmp_path)
        first = store.issue(BANK)
        ca = store.ca_file.read_bytes()
        second = store.issue(BANK)
        assert second != first
        assert certificate_fingerprint(second) != certificate_fingerprint(first)
        assert store.ca_file.read_bytes() == ca
        assert store.certificate(BANK.name) == second
        assert pki.is_issued_by(second, store.authority().certificate)

    def test_missing_certificate_is_none_and_needs_renewal(self, tmp_path: Path) -> None:
        store = CertificateStore(tmp_path)
        assert store.certificate("nobody") is None
        assert store.needs_renewal("nobody", NOW) is True

    def test_needs_renewal_inside_the_30_day_window(self, tmp_path: Path) -> None:
        store = CertificateStore(tmp_path)
        certificate = store.issue(BANK, not_before=NOW, valid_for=timedelta(days=60))
        not_after = certificate.not_valid_after_utc
        assert store.needs_renewal(BANK.name, NOW) is False
        assert store.needs_renewal(BANK.name, not_after - timedelta(days=30, seconds=1)) is False
        assert store.needs_renewal(BANK.name, not_after - timedelta(days=30)) is True
        assert store.needs_renewal(BANK.name, NOW + timedelta(days=45)) is True
        assert store.needs_renewal(BANK.name, not_after + timedelta(days=1)) is True
        # A shorter window is honoured.
        assert store.needs_renewal(BANK.name, NOW + timedelta(days=45), renew_before=timedelta(days=7)) is False


class TestExplain:
    def test_everything_matching_is_ok(self, authority: pki.CertificateAuthority, good: x509.Certificate) -> None:
        for mode in ("serial", "fingerprint"):
            status = explain(BANK, good, registered(good), mode=mode, trusted_ca=authority.certificate, now=NOW)
            assert status.problems == ()
            assert status.ok is True
        assert status.as_json() == {
            "participant": "provider-bank",
            "org_code": "BANK000001",
            "serialnumber": BANK.regno,
            "fingerprint": certificate_fingerprint(good),
            "not_after": good.not_valid_after_utc.isoformat(),
            "days_left": (good.not_valid_after_utc - NOW).days,
            "registered": True,
            "ok": True,
            "problems": [],
        }

    def only_problem(self, *args: Any, **kwargs: Any) -> str:
        status = explain(*args, now=NOW, **kwargs)
        assert status.ok is False
        assert len(status.problems) == 1, status.problems
        return status.problems[0]

    def test_no_certificate(self) -> None:
        status = explain(BANK, None, registered(serial_num=BANK.regno), now=NOW)
        assert status.problems == ("no certificate file: run `openmydata certs rotate` to issue one",)
        assert status.registered is True
        assert (status.subject_serial, status.fingerprint, status.not_after, status.days_left) == (None,) * 4
        assert explain(BANK, None, None, now=NOW).registered is False

    def test_expired(self, authority: pki.CertificateAuthority) -> None:
        certificate = issue(authority, not_before=NOW - timedelta(days=400), valid_for=timedelta(days=365))
        problem = self.only_problem(BANK, certificate, registered(certificate))
        expiry = certificate.not_valid_after_utc
        assert problem == f"the certificate expired on {expiry:%Y-%m-%d}: every peer refuses the handshake"

    def test_inside_the_renewal_window(self, authority: pki.CertificateAuthority) -> None:
        # CertificateAuthority starts certificates 5 minutes early: this one ends exactly 10 days after NOW.
        certificate = issue(authority, not_before=NOW, valid_for=timedelta(days=10, minutes=5))
        problem = self.only_problem(BANK, certificate, registered(certificate))
        assert problem == "the certificate expires in 10 days, inside the 30-day renewal window: rotate it"
        assert explain(BANK, certificate, registered(certificate), now=NOW, renew_before=timedelta(days=7)).ok

    def test_serial_number_differs_from_the_registration_number(self, authority: pki.CertificateAuthority) -> None:
        certificate = issue(authority, regno="9999999999")
        problem = self.only_problem(BANK, certificate, registered(certificate, serial_num="9999999999"))
        assert problem == (
            "the certificate's SERIALNUMBER is 9999999999, but the organisation's registration number is 1234567890"
        )

    def test_not_issued_by_the_trusted_ca(self, good: x509.Certificate) -> None:
        other = pki.CertificateAuthority.create("Another CA")
        problem = self.only_problem(BANK, good, registered(good), trusted_ca=other.certificate)
        assert problem == "the certificate was not issued by the CA the other participants trust"

    def test_not_registered(self, good: x509.Certificate) -> None:
        status = explain(BANK, good, None, now=NOW)
        assert status.problems == ("BANK000001 is not registered at the portal",)
        assert status.registered is False

    def test_deregistered(self, good: x509.Certificate) -> None:
        problem = self.only_problem(BANK, good, registered(good, active=False))
        assert problem == "BANK000001 was deregistered at the portal: peers refuse it (40103)"

    def test_nothing_registered(self, good: x509.Certificate) -> None:
        problem = self.only_problem(BANK, good, registered(serial_num=None, fingerprints=[]))
        assert problem == "the portal has no certificate registered for this organisation: peers refuse it (40103)"

    def test_registered_serial_number_differs_in_serial_mode(self, good: x509.Certificate) -> None:
        record = registered(good, serial_num="5555555555")
        problem = self.only_problem(BANK, good, record, mode="serial")
        assert problem == (
            "the portal registered SERIALNUMBER 5555555555, the certificate has 1234567890: peers refuse it (40103)"
        )
        # Peers checking fingerprints do not compare the SERIALNUMBER.
        assert explain(BANK, good, record, mode="fingerprint", now=NOW).ok

    def test_fingerprint_not_registered_in_fingerprint_mode(
        self, good: x509.Certificate, authority: pki.CertificateAuthority
    ) -> None:
        record = registered(fingerprints=[certificate_fingerprint(issue(authority))])
        problem = self.only_problem(BANK, good, record, mode="fingerprint")
        assert problem.startswith("this certificate's fingerprint is not among the ones registered at the portal")
        assert "openmydata certs rotate" in problem
        # Peers checking SERIALNUMBERs accept the re-issued certificate.
        assert explain(BANK, good, record, mode="serial", now=NOW).ok


class TestState:
    def test_round_trip_in_a_private_file(self, tmp_path: Path) -> None:
        state = {
            "portal_admin_url": "http://127.0.0.1:8001",
            "admin_key": "secret-admin-key",
            "mode": "fingerprint",
            "holders": [
                {"name": "provider-bank", "org_code": "BANK000001", "regno": "1234567890", "org_name": "데모은행"}
            ],
        }
        save_state(tmp_path, state)
        path = tmp_path / STATE_FILE
        assert mode_of(path) == 0o600
        assert "데모은행" in path.read_text(encoding="utf-8")
        assert load_state(tmp_path) == state
        assert holders_of(load_state(tmp_path)) == [
            Holder(name="provider-bank", org_code="BANK000001", regno="1234567890", org_name="데모은행")
        ]

    def test_saving_again_replaces_the_state(self, tmp_path: Path) -> None:
        save_state(tmp_path, {"mode": "serial", "holders": []})
        save_state(tmp_path, {"mode": "fingerprint", "holders": []})
        assert load_state(tmp_path) == {"mode": "fingerprint", "holders": []}
        assert mode_of(tmp_path / STATE_FILE) == 0o600

    def test_missing_state_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="openmydata demo"):
            load_state(tmp_path / "nowhere")
