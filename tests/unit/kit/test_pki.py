from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from openmydata.kit import pki

CI = "A" * 86 + "=="


@pytest.fixture(scope="module")
def authority() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("OpenMyData Test CA")


class TestCertificateAuthority:
    def test_root_is_a_self_signed_p256_ca(self, authority: pki.CertificateAuthority) -> None:
        root = authority.certificate
        assert root.subject == root.issuer
        assert pki.is_issued_by(root, root)
        assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
        assert root.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
        assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
        assert authority.name == "OpenMyData Test CA"

    def test_pem_round_trip_keeps_key_and_certificate(self, authority: pki.CertificateAuthority) -> None:
        loaded = pki.CertificateAuthority.from_pem(authority.key_pem(), authority.certificate_pem())
        assert loaded.certificate == authority.certificate
        _key, person = loaded.issue_person(CI)
        assert pki.is_issued_by(person, authority.certificate)

    def test_encrypted_key_needs_its_password(self, authority: pki.CertificateAuthority) -> None:
        pem = authority.key_pem(b"secret")
        assert b"ENCRYPTED" in pem
        assert pki.CertificateAuthority.from_pem(pem, authority.certificate_pem(), b"secret").name == authority.name
        with pytest.raises(pki.PkiError):
            pki.CertificateAuthority.from_pem(pem, authority.certificate_pem(), b"wrong")

    def test_key_of_another_ca_is_refused(self, authority: pki.CertificateAuthority) -> None:
        other = pki.CertificateAuthority.create("Other")
        with pytest.raises(pki.PkiError):
            pki.CertificateAuthority.from_pem(other.key_pem(), authority.certificate_pem())

    def test_person_certificate_carries_the_ci_and_no_name(self, authority: pki.CertificateAuthority) -> None:
        key, certificate = authority.issue_person(CI)
        assert pki.subject_serial_number(certificate) == CI
        assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == pki.PERSON_LABEL
        assert [attr.oid for attr in certificate.subject] == [NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER]
        assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
        assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
        assert pki.is_issued_by(certificate, authority.certificate)
        assert pki.is_valid_at(certificate)

    def test_person_certificate_validity_window(self, authority: pki.CertificateAuthority) -> None:
        start = datetime(2024, 1, 1, tzinfo=UTC)
        _key, certificate = authority.issue_person(CI, not_before=start, valid_for=timedelta(days=10))
        assert not pki.is_valid_at(certificate, datetime(2024, 2, 1, tzinfo=UTC))
        assert pki.is_valid_at(certificate, datetime(2024, 1, 5, tzinfo=UTC))

    def test_organisation_certificate_for_mutual_tls(self, authority: pki.CertificateAuthority) -> None:
        _key, certificate = authority.issue_organisation(
            "A1AB120000", "1234567890", org_name="테스트은행", hosts=["bank.test"]
        )
        assert pki.subject_serial_number(certificate) == "1234567890"
        assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "A1AB120000"
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.SERVER_AUTH in usages
        assert ExtendedKeyUsageOID.CLIENT_AUTH in usages
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == ["bank.test"]

    def test_other_ca_did_not_issue(self, authority: pki.CertificateAuthority) -> None:
        other = pki.CertificateAuthority.create("Other")
        _key, certificate = other.issue_person(CI)
        assert not pki.is_issued_by(certificate, authority.certificate)

    def test_missing_identity_is_refused(self, authority: pki.CertificateAuthority) -> None:
        with pytest.raises(pki.PkiError):
            authority.issue_person("")
        with pytest.raises(pki.PkiError):
            authority.issue_organisation("A1AB120000", "")


class TestPemHelpers:
    def test_certificate_bundle(self, authority: pki.CertificateAuthority) -> None:
        _key, person = authority.issue_person(CI)
        bundle = pki.cert_to_pem(person) + pki.cert_to_pem(authority.certificate)
        assert pki.certs_from_pem(bundle) == [person, authority.certificate]
        assert pki.cert_from_pem(pki.cert_to_pem(person)) == person

    def test_key_round_trip(self) -> None:
        key = pki.new_key()
        assert pki.key_from_pem(pki.key_to_pem(key)).private_numbers() == key.private_numbers()

    def test_garbage_is_a_pki_error(self) -> None:
        with pytest.raises(pki.PkiError):
            pki.cert_from_pem(b"not a certificate")
        with pytest.raises(pki.PkiError):
            pki.key_from_pem(b"not a key")
        with pytest.raises(pki.PkiError):
            pki.certs_from_pem(b"nothing")
