from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import given, settings
from hypothesis import strategies as st

from openmydata.kit import cms, pki

CI = "Q" * 86 + "=="
CONTENT = '{"consent":{"purpose":"자산관리"},"consentNonce":"abc"}'.encode()


@cache
def authority() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("CMS Test CA")


@cache
def person() -> tuple[pki.PrivateKey, x509.Certificate]:
    return authority().issue_person(CI)


def signed(content: bytes = CONTENT) -> bytes:
    key, certificate = person()
    return cms.sign(content, key, certificate)


class TestSign:
    def test_round_trip(self) -> None:
        result = cms.verify(signed(), [authority().certificate])
        assert result.content == CONTENT
        assert result.signer == person()[1]
        assert pki.subject_serial_number(result.signer) == CI
        assert result.signed_at is not None
        assert abs(result.signed_at - datetime.now(UTC)) < timedelta(minutes=1)

    def test_chain_certificates_are_embedded(self) -> None:
        key, certificate = person()
        der = cms.sign(CONTENT, key, certificate, chain=[authority().certificate])
        assert cms.verify(der, [authority().certificate]).content == CONTENT

    @settings(max_examples=25, deadline=None)
    @given(st.binary(max_size=2048))
    def test_any_content_round_trips(self, content: bytes) -> None:
        der = signed(content)
        assert cms.content_of(der) == content
        assert cms.verify(der, [authority().certificate]).content == content


class TestVerify:
    def test_tampered_content_fails(self) -> None:
        der = signed()
        tampered = der.replace("자산관리".encode(), "자산관라".encode())
        assert tampered != der
        with pytest.raises(cms.CmsError, match="digest"):
            cms.verify(tampered, [authority().certificate])

    def test_tampered_signed_attributes_fail(self) -> None:
        der = signed()
        # The signing time is a signed attribute: change one digit of its year.
        year = str(datetime.now(UTC).year % 100).encode()
        index = der.index(b"\x17\x0d" + year)
        tampered = der[: index + 2] + b"9" + der[index + 3 :]
        with pytest.raises(cms.CmsError):
            cms.verify(tampered, [authority().certificate])

    def test_untrusted_ca_fails(self) -> None:
        other = pki.CertificateAuthority.create("Untrusted CA")
        key, certificate = other.issue_person(CI)
        der = cms.sign(CONTENT, key, certificate, chain=[other.certificate])
        with pytest.raises(cms.CmsError, match="trusted root"):
            cms.verify(der, [authority().certificate])

    def test_same_name_other_key_fails(self) -> None:
        impostor = pki.CertificateAuthority.create("CMS Test CA")
        key, certificate = impostor.issue_person(CI)
        with pytest.raises(cms.CmsError, match="trusted root"):
            cms.verify(cms.sign(CONTENT, key, certificate), [authority().certificate])

    def test_expired_certificate_fails(self) -> None:
        key, certificate = authority().issue_person(
            CI, not_before=datetime.now(UTC) - timedelta(days=30), valid_for=timedelta(days=10)
        )
        with pytest.raises(cms.CmsError, match="expired"):
            cms.verify(cms.sign(CONTENT, key, certificate), [authority().certificate])

    def test_checking_time_is_honoured(self) -> None:
        with pytest.raises(cms.CmsError, match="expired"):
            cms.verify(signed(), [authority().certificate], at=datetime.now(UTC) + timedelta(days=800))

    def test_signature_without_attributes_fails(self) -> None:
        key, certificate = person()
        der = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(CONTENT)
            .add_signer(certificate, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoAttributes])
        )
        with pytest.raises(cms.CmsError, match="signed attributes"):
            cms.verify(der, [authority().certificate])

    def test_detached_signature_has_no_content(self) -> None:
        key, certificate = person()
        der = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(CONTENT)
            .add_signer(certificate, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.DetachedSignature])
        )
        with pytest.raises(cms.CmsError, match="detached"):
            cms.content_of(der)
        with pytest.raises(cms.CmsError):
            cms.verify(der, [authority().certificate])

    def test_signer_certificate_missing_fails(self) -> None:
        key, certificate = person()
        der = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(CONTENT)
            .add_signer(certificate, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoCerts])
        )
        with pytest.raises(cms.CmsError, match="certificate"):
            cms.verify(der, [authority().certificate])


class TestCanonicalCertificates:
    def test_a_signature_bit_string_with_unused_bits_is_refused(self) -> None:
        """Parsers accept a certificate whose signature BIT STRING claims one unused bit when the signature's last
        bit is zero anyway (that byte is outside what the CA signed), so one certificate would have two byte forms;
        the verifier refuses it (found by the corruption property test below)."""
        for _ in range(64):  # half of all signatures end in a zero bit
            key, certificate = authority().issue_person(CI)
            raw = certificate.public_bytes(serialization.Encoding.DER)
            if raw[-1] % 2 == 0:
                break
        else:
            pytest.fail("no certificate whose signature ends in a zero bit")
        der = cms.sign(CONTENT, key, certificate)
        signature = asn1_x509.Certificate.load(raw)["signature_value"]
        unused_bits_at = der.find(raw) + len(raw) - len(signature.contents)
        assert der[unused_bits_at] == 0
        corrupted = bytearray(der)
        corrupted[unused_bits_at] = 1
        x509.load_der_x509_certificate(bytes(corrupted[der.find(raw) : der.find(raw) + len(raw)]))  # parsers accept it
        with pytest.raises(cms.CmsError, match="whole number of bytes"):
            cms.verify(bytes(corrupted), [authority().certificate])


class TestContentOf:
    def test_reads_without_verifying(self) -> None:
        assert cms.content_of(signed()) == CONTENT

    def test_garbage_is_a_cms_error(self) -> None:
        with pytest.raises(cms.CmsError):
            cms.content_of(b"\x30\x03\x02\x01\x01")

    @settings(max_examples=100, deadline=None)
    @given(st.binary(max_size=512))
    def test_arbitrary_bytes_never_escape_as_other_errors(self, data: bytes) -> None:
        with pytest.raises(cms.CmsError):
            cms.verify(data, [authority().certificate])

    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
    def test_corruption_never_changes_what_verifies(self, position: int, flip: int) -> None:
        """A flipped byte either fails as CmsError or sits outside what is signed (e.g. the unsigned
        digestAlgorithms set); it never yields other content or another signer."""
        der = bytearray(signed())
        der[position % len(der)] ^= flip
        try:
            result = cms.verify(bytes(der), [authority().certificate])
        except cms.CmsError:
            return
        assert result.content == CONTENT
        assert result.signer == person()[1]
