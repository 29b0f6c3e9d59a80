"""CMS SignedData (RFC 5652) for signed consents: build with `cryptography`, verify with `asn1crypto` + `cryptography`.

`sign` makes an attached SignedData over the content with SHA-256 and signed attributes (content type, signing
time, message digest). `verify` checks, in order: the structure, the message-digest attribute against SHA-256 of
the content, the signature over the DER of the signed attributes (re-tagged as SET OF, RFC 5652 §5.4), and the
signer certificate's path to one of the trust roots and its validity at the checking time. `cryptography` can
build CMS but not verify it, hence the parse with `asn1crypto` (NOTES.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from openmydata.kit.pki import is_issued_by, is_valid_at

MAX_CHAIN_DEPTH = 4

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class CmsError(ValueError):
    """The data is not a SignedData this module accepts, or its signature or signer does not verify."""


@dataclass(frozen=True)
class SignedContent:
    content: bytes
    signer: x509.Certificate
    signed_at: datetime | None = None


def sign(content: bytes, key: SigningKey, cert: x509.Certificate, chain: Iterable[x509.Certificate] = ()) -> bytes:
    """DER of a CMS SignedData carrying `content` (attached), signed with SHA-256 and signed attributes."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256())
    for extra in chain:
        builder = builder.add_certificate(extra)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoCapabilities])


def _signed_data(der: bytes) -> Any:
    try:
        info = asn1_cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError("not a CMS SignedData")
        signed_data = info["content"]
        # Force a full parse here so that malformed input fails as CmsError, not later.
        signed_data.native  # noqa: B018
    except CmsError:
        raise
    except Exception as exc:  # untrusted input: any parser failure means "not CMS"
        raise CmsError(f"not a DER CMS structure: {type(exc).__name__}") from exc
    return signed_data


def _content(signed_data: Any) -> bytes:
    encap = signed_data["encap_content_info"]
    if encap["content_type"].native != "data":
        raise CmsError("the encapsulated content is not id-data")
    content = encap["content"].native
    if content is None:
        raise CmsError("the SignedData carries no content (detached)")
    if not isinstance(content, bytes):
        raise CmsError("the encapsulated content is not an octet string")
    return content


def content_of(der: bytes) -> bytes:
    """The attached content, without any verification."""
    return _content(_signed_data(der))


def _certificates(signed_data: Any) -> list[tuple[Any, x509.Certificate]]:
    """The embedded certificates, each as (asn1crypto certificate, cryptography certificate)."""
    found: list[tuple[Any, x509.Certificate]] = []
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        raw = choice.chosen.dump()
        try:
            certificate = x509.load_der_x509_certificate(raw)
        except ValueError as exc:
            raise CmsError("an embedded certificate cannot be read") from exc
        # A signature BIT STRING must have no unused bits: parsers tolerate a non-zero count there (outside the signed
        # part), which would give one certificate several byte forms.
        if bytes(choice.chosen["signature_value"].contents[:1]) != b"\x00":
            raise CmsError("an embedded certificate's signature is not a whole number of bytes")
        found.append((choice.chosen, certificate))
    return found


def _signer_certificate(signer_info: Any, certificates: Sequence[tuple[Any, x509.Certificate]]) -> x509.Certificate:
    sid = signer_info["sid"]
    for parsed, certificate in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if parsed.serial_number == wanted["serial_number"].native and parsed.issuer == wanted["issuer"]:
                return certificate
        elif sid.name == "subject_key_identifier" and parsed.key_identifier == sid.chosen.native:
            return certificate
    raise CmsError("the signer's certificate is not in the SignedData")


def _attribute(signed_attrs: Any, name: str) -> Any:
    values = [attr["values"] for attr in signed_attrs if attr["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        raise CmsError(f"the signed attributes must carry exactly one {name}")
    return values[0][0].native


def _check_signature(certificate: x509.Certificate, signature: bytes, data: bytes, algorithm: str) -> None:
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if algorithm != "sha256_ecdsa":
                raise CmsError(f"unexpected signature algorithm {algorithm} for an EC key")
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            if algorithm not in {"sha256_rsa", "rsassa_pkcs1v15"}:
                raise CmsError(f"unexpected signature algorithm {algorithm} for an RSA key")
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise CmsError("unsupported signer key type")
    except InvalidSignature as exc:
        raise CmsError("the signature does not verify") from exc


def _check_path(
    signer: x509.Certificate,
    certificates: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
    moment: datetime,
) -> None:
    current = signer
    for _ in range(MAX_CHAIN_DEPTH):
        if not is_valid_at(current, moment):
            raise CmsError("a certificate on the signer's path is expired or not yet valid")
        for root in trust_roots:
            if root.subject == current.issuer and is_issued_by(current, root):
                if not is_valid_at(root, moment):
                    raise CmsError("the trust root is expired or not yet valid")
                return
        issuer = next(
            (
                candidate
                for candidate in certificates
                if candidate.subject == current.issuer
                and candidate != current
                and _is_ca(candidate)
                and is_issued_by(current, candidate)
            ),
            None,
        )
        if issuer is None:
            break
        current = issuer
    raise CmsError("the signer's certificate does not chain to a trusted root")


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _check_key_usage(signer: x509.Certificate) -> None:
    try:
        usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise CmsError("the signer's certificate is not for signatures")


def verify(der: bytes, trust_roots: Sequence[x509.Certificate], *, at: datetime | None = None) -> SignedContent:
    """Verify a SignedData made by `sign` (or any attached SHA-256 SignedData with signed attributes).

    Raises `CmsError` for anything that is not a valid signature by a certificate chaining to `trust_roots`
    and valid at `at` (now by default).
    """
    try:
        return _verify(der, list(trust_roots), at or datetime.now(UTC))
    except CmsError:
        raise
    except Exception as exc:
        # The input is untrusted: whatever asn1crypto or cryptography raise while reading malformed embedded
        # certificates or attributes (lazily, and with their own exception types such as InvalidVersion) means
        # "not a valid signature", never a server error.
        raise CmsError(f"malformed SignedData: {type(exc).__name__}") from exc


def _verify(der: bytes, trust_roots: list[x509.Certificate], moment: datetime) -> SignedContent:
    signed_data = _signed_data(der)
    content = _content(signed_data)
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise CmsError("exactly one signer is expected")
    signer_info = signer_infos[0]
    if signer_info["digest_algorithm"]["algorithm"].native != "sha256":
        raise CmsError("the digest algorithm must be SHA-256")
    signed_attrs = signer_info["signed_attrs"]
    if not signed_attrs:
        raise CmsError("signed attributes are required")
    if _attribute(signed_attrs, "content_type") != "data":
        raise CmsError("the content-type attribute must be id-data")
    digest = _attribute(signed_attrs, "message_digest")
    if not isinstance(digest, bytes) or not hmac.compare_digest(digest, hashlib.sha256(content).digest()):
        raise CmsError("the message digest does not match the content")
    signed_at = None
    if any(attr["type"].native == "signing_time" for attr in signed_attrs):
        signing_time = _attribute(signed_attrs, "signing_time")
        signed_at = signing_time if isinstance(signing_time, datetime) else None

    embedded = _certificates(signed_data)
    signer = _signer_certificate(signer_info, embedded)
    certificates = [certificate for _parsed, certificate in embedded]
    # RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF, not as the [0] IMPLICIT field.
    signed_bytes = signed_attrs.untag().dump()
    _check_signature(
        signer, signer_info["signature"].native, signed_bytes, signer_info["signature_algorithm"]["algorithm"].native
    )
    _check_key_usage(signer)
    _check_path(signer, certificates, trust_roots, moment)
    return SignedContent(content=content, signer=signer, signed_at=signed_at)
