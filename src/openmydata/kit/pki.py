"""A small X.509 certification authority built on `cryptography`'s builder.

Used by the certification authority participant (person signing certificates) and by tests and the demo
(organisation certificates for mutual TLS). Every key is EC P-256 and every signature ECDSA with SHA-256.

Subjects carry as little personal data as the standard allows: a person's certificate names the person only by
the CI in SERIALNUMBER, under a fixed non-identifying CN; an organisation's certificate carries its business
registration number in SERIALNUMBER, as the standard's SERIALNUMBER checks expect (digest §1.1, §2.1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey

PERSON_LABEL = "MyData person"
ROOT_LIFETIME = timedelta(days=3650)
PERSON_LIFETIME = timedelta(days=365)
ORGANISATION_LIFETIME = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=5)


class PkiError(ValueError):
    """A key or certificate could not be read."""


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with `password` when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def key_from_pem(data: bytes, password: bytes | None = None) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise PkiError(f"not a readable private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError("not an EC private key")
    return key


def cert_to_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def cert_from_pem(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise PkiError(f"not a PEM certificate: {exc}") from exc


def certs_from_pem(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (in order)."""
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise PkiError(f"not a PEM certificate bundle: {exc}") from exc


def subject_serial_number(certificate: x509.Certificate) -> str | None:
    """The subject SERIALNUMBER: a person's CI or an organisation's business registration number."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8")


def is_valid_at(certificate: x509.Certificate, moment: datetime | None = None) -> bool:
    at = moment or datetime.now(UTC)
    return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc


def is_issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `issuer` names and signed `certificate` (signature checked, not validity)."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _name(**attributes: str) -> x509.Name:
    oids = {
        "common_name": NameOID.COMMON_NAME,
        "organization": NameOID.ORGANIZATION_NAME,
        "serial_number": NameOID.SERIAL_NUMBER,
        "country": NameOID.COUNTRY_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[key], value) for key, value in attributes.items() if value])


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed EC P-256 root that issues person and organisation certificates."""

    key: PrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(
        cls, name: str, *, not_before: datetime | None = None, valid_for: timedelta = ROOT_LIFETIME
    ) -> CertificateAuthority:
        key = new_key()
        start = (not_before or datetime.now(UTC)) - CLOCK_SKEW
        subject = _name(common_name=name, organization=name, country="KR")
        public_key = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + valid_for)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, certificate=certificate)

    @classmethod
    def from_pem(cls, key_pem: bytes, certificate_pem: bytes, password: bytes | None = None) -> CertificateAuthority:
        key = key_from_pem(key_pem, password)
        certificate = cert_from_pem(certificate_pem)
        public_key = certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key != key.public_key():
            raise PkiError("the key does not belong to the certificate")
        return cls(key=key, certificate=certificate)

    def key_pem(self, password: bytes | None = None) -> bytes:
        return key_to_pem(self.key, password)

    def certificate_pem(self) -> bytes:
        return cert_to_pem(self.certificate)

    @property
    def name(self) -> str:
        values = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        value = values[0].value if values else ""
        return value if isinstance(value, str) else value.decode("utf-8")

    def _issue(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey,
        *,
        key_usage: x509.KeyUsage,
        extended: Iterable[x509.ObjectIdentifier] = (),
        hosts: Iterable[str] = (),
        not_before: datetime | None,
        valid_for: timedelta,
    ) -> x509.Certificate:
        start = (not_before or datetime.now(UTC)) - CLOCK_SKEW
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + valid_for)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        usages = list(extended)
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        names = list(hosts)
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(host) for host in names]), critical=False
            )
        return builder.sign(self.key, hashes.SHA256())

    def issue_person(
        self,
        ci: str,
        label: str = PERSON_LABEL,
        *,
        not_before: datetime | None = None,
        valid_for: timedelta = PERSON_LIFETIME,
    ) -> tuple[PrivateKey, x509.Certificate]:
        """A signing key and certificate for one person: SERIALNUMBER = CI, CN = `label`.

        The CN is a fixed non-identifying label by default; the certificate travels to every provider that
        checks a consent, and the CI is all they need to identify the person.
        """
        if not ci:
            raise PkiError("a person certificate needs the CI")
        key = new_key()
        certificate = self._issue(
            _name(common_name=label, serial_number=ci),
            key.public_key(),
            key_usage=x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            not_before=not_before,
            valid_for=valid_for,
        )
        return key, certificate

    def issue_organisation(
        self,
        org_code: str,
        regno: str,
        *,
        org_name: str | None = None,
        hosts: Iterable[str] = (),
        not_before: datetime | None = None,
        valid_for: timedelta = ORGANISATION_LIFETIME,
    ) -> tuple[PrivateKey, x509.Certificate]:
        """A TLS server and client certificate for one organisation: CN = org_code, SERIALNUMBER = business
        registration number (the value peers compare with the portal's registry), SAN = `hosts`."""
        if not org_code or not regno:
            raise PkiError("an organisation certificate needs the org_code and the registration number")
        key = new_key()
        certificate = self._issue(
            _name(common_name=org_code, organization=org_name or "", serial_number=regno, country="KR"),
            key.public_key(),
            key_usage=x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            extended=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
            hosts=hosts,
            not_before=not_before,
            valid_for=valid_for,
        )
        return key, certificate


def _general_name(host: str) -> x509.GeneralName:
    """An IP address SAN for addresses (TLS matches IPs only against IP entries), a DNS SAN otherwise."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
