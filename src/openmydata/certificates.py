"""Organisation TLS certificates for a local ecosystem: a test CA, one certificate per participant (SERIALNUMBER =
business registration number), rotation, and a status report that compares each certificate with the portal's
registry and explains any mismatch in plain words.

Files live under `<data_dir>/tls/`: `ca.pem` and `ca-key.pem` (the test CA, key mode 0600) and one folder per
participant with `cert.pem` and `key.pem`. Participants read them through their `tls_*_file` settings and pick up a
rotated certificate within `tls_reload_interval_s`. A real deployment gets its certificates from a public CA instead
and registers them at the portal the same way (`POST /admin/orgs/{org_code}/certificates`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from openmydata.kit import pki
from openmydata.kit.tls import TlsFiles, certificate_fingerprint, subject_serial_number

CA_NAME = "OpenMyData Demo TLS CA"
DEFAULT_LIFETIME = timedelta(days=397)  # the CA/Browser Forum's maximum for public TLS certificates
RENEW_BEFORE = timedelta(days=30)  # renew at least 30 days before expiry (nationwide standard, digest §8)
HOSTS = ("127.0.0.1", "localhost")
STATE_FILE = "ecosystem.json"


@dataclass(frozen=True)
class Holder:
    """A participant that holds an organisation certificate."""

    name: str  # folder name: portal, certauth, provider-bank, operator, ...
    org_code: str
    regno: str
    org_name: str


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write atomically (a reader never sees half a file); private files are created with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class CertificateStore:
    """The test CA and the participants' certificate files under `root`."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.pem"

    def authority(self) -> pki.CertificateAuthority:
        """The test CA, created on first use."""
        key_file = self.root / "ca-key.pem"
        if self.ca_file.exists() and key_file.exists():
            return pki.CertificateAuthority.from_pem(key_file.read_bytes(), self.ca_file.read_bytes())
        authority = pki.CertificateAuthority.create(CA_NAME)
        _write(key_file, authority.key_pem(), private=True)
        _write(self.ca_file, authority.certificate_pem())
        return authority

    def files(self, name: str) -> TlsFiles:
        folder = self.root / name
        return TlsFiles(cert_file=folder / "cert.pem", key_file=folder / "key.pem", ca_file=self.ca_file)

    def certificate(self, name: str) -> x509.Certificate | None:
        path = self.files(name).cert_file
        return pki.cert_from_pem(path.read_bytes()) if path.exists() else None

    def issue(
        self, holder: Holder, *, valid_for: timedelta = DEFAULT_LIFETIME, not_before: datetime | None = None
    ) -> x509.Certificate:
        """A new key and certificate for `holder` (written key first: a participant reloading in between fails to
        load the pair and retries on its next round)."""
        authority = self.authority()
        key, certificate = authority.issue_organisation(
            holder.org_code,
            holder.regno,
            org_name=holder.org_name,
            hosts=HOSTS,
            valid_for=valid_for,
            not_before=not_before,
        )
        files = self.files(holder.name)
        _write(files.key_file, pki.key_to_pem(key), private=True)
        _write(files.cert_file, pki.cert_to_pem(certificate))
        return certificate

    def needs_renewal(self, name: str, now: datetime | None = None, renew_before: timedelta = RENEW_BEFORE) -> bool:
        certificate = self.certificate(name)
        if certificate is None:
            return True
        return certificate.not_valid_after_utc - (now or datetime.now(UTC)) <= renew_before


async def register_certificate(
    http: httpx.AsyncClient, portal_admin_url: str, admin_key: str, org_code: str, certificate: x509.Certificate
) -> dict[str, Any]:
    """Register `certificate` for `org_code` at the portal (its admin API)."""
    response = await http.post(
        f"{portal_admin_url}/admin/orgs/{org_code}/certificates",
        json={"certificate_pem": pki.cert_to_pem(certificate).decode("ascii")},
        headers={"x-admin-key": admin_key},
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class CertificateStatus:
    name: str
    org_code: str
    subject_serial: str | None
    fingerprint: str | None
    not_after: datetime | None
    days_left: int | None
    registered: bool
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "participant": self.name,
            "org_code": self.org_code,
            "serialnumber": self.subject_serial,
            "fingerprint": self.fingerprint,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "days_left": self.days_left,
            "registered": self.registered,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def explain(
    holder: Holder,
    certificate: x509.Certificate | None,
    registered: dict[str, Any] | None,
    *,
    mode: str = "serial",
    trusted_ca: x509.Certificate | None = None,
    now: datetime | None = None,
    renew_before: timedelta = RENEW_BEFORE,
) -> CertificateStatus:
    """Compare a participant's certificate with what the portal registered, in plain words."""
    now = now or datetime.now(UTC)
    problems: list[str] = []
    if certificate is None:
        problems.append("no certificate file: run `openmydata certs rotate` to issue one")
        return CertificateStatus(
            holder.name, holder.org_code, None, None, None, None, registered is not None, tuple(problems)
        )
    serial = subject_serial_number(certificate)
    fingerprint = certificate_fingerprint(certificate)
    not_after = certificate.not_valid_after_utc
    left = not_after - now
    if left <= timedelta(0):
        problems.append(f"the certificate expired on {not_after:%Y-%m-%d}: every peer refuses the handshake")
    elif left <= renew_before:
        problems.append(
            f"the certificate expires in {left.days} days, inside the {renew_before.days}-day renewal window: rotate it"
        )
    if serial != holder.regno:
        problems.append(
            f"the certificate's SERIALNUMBER is {serial or 'missing'}, but the organisation's registration number is "
            f"{holder.regno}"
        )
    if trusted_ca is not None and not pki.is_issued_by(certificate, trusted_ca):
        problems.append("the certificate was not issued by the CA the other participants trust")
    if registered is None:
        problems.append(f"{holder.org_code} is not registered at the portal")
    else:
        if not registered.get("active", True):
            problems.append(f"{holder.org_code} was deregistered at the portal: peers refuse it (40103)")
        registered_serial = registered.get("serial_num")
        fingerprints = list(registered.get("cert_fingerprints") or [])
        if registered_serial is None and not fingerprints:
            problems.append("the portal has no certificate registered for this organisation: peers refuse it (40103)")
        elif registered_serial != serial and mode == "serial":
            problems.append(
                f"the portal registered SERIALNUMBER {registered_serial}, the certificate has {serial}: peers refuse "
                "it (40103)"
            )
        if mode == "fingerprint" and fingerprint not in fingerprints:
            problems.append(
                "this certificate's fingerprint is not among the ones registered at the portal: peers checking "
                "fingerprints refuse it (40103); register it with `openmydata certs rotate`"
            )
    return CertificateStatus(
        holder.name,
        holder.org_code,
        serial,
        fingerprint,
        not_after,
        left.days,
        registered is not None,
        tuple(problems),
    )


def save_state(data_dir: Path, state: dict[str, Any]) -> None:
    """What `openmydata certs` needs to find a running demo: the portal's admin URL, its admin key (so mode 0600),
    the check mode and the certificate holders."""
    _write(data_dir / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=2).encode("utf-8"), private=True)


def load_state(data_dir: Path) -> dict[str, Any]:
    path = data_dir / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: start `openmydata demo` with this --data-dir first")
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


def holders_of(state: dict[str, Any]) -> list[Holder]:
    return [Holder(**item) for item in state["holders"]]
