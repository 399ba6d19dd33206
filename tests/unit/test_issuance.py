"""Certificate assembly: template extensions, key-type-aware key usage, serials, import checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pica.adapters.keystore.file_signer import SoftwareSigner
from pica.authority.ca_certificate import validate_import
from pica.authority.csr import LoadedCsr
from pica.authority.issuance import IssuerIdentity, certificate_parts, new_serial, sign
from pica.authority.model import CaType, SigningAlgorithm
from pica.authority.profiles import compose
from pica.authority.templates import TEMPLATES, template_for
from pica.authority.validity import ValidityWindow
from pica.errors import CertificateMismatch, InvalidArgs, InvalidRequest, MalformedCertificate

NOW = datetime(2030, 1, 1, tzinfo=UTC)
WINDOW = ValidityWindow(NOW - timedelta(hours=1), NOW + timedelta(days=30))
CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit CA")])
ISSUER = IssuerIdentity(CA_NAME, SoftwareSigner(CA_KEY), b"\x01" * 20)


def issue(
    name: str | None,
    subject_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
    subject: x509.Name | None = None,
    san: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """Compose and sign as pica does, without a store: template + CSR, no passthrough."""
    key = subject_key or rsa.generate_private_key(65537, 2048)
    csr_builder = x509.CertificateSigningRequestBuilder().subject_name(
        subject
        if subject is not None
        else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")])
    )
    if san:
        csr_builder = csr_builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    csr = csr_builder.sign(key, hashes.SHA256())
    arn = None if name is None else f"arn:aws:acm-pca:::template/{name}/V1"
    profile = compose(
        template=template_for(arn), csr=LoadedCsr.of(csr), api_passthrough=None, ca_extensions=()
    )
    builder = certificate_parts(
        issuer=ISSUER,
        subject=profile.subject,
        public_key=csr.public_key(),
        serial=new_serial(),
        window=WINDOW,
        extensions=profile.extensions,
    ).builder()
    return sign(builder, ISSUER.signer, SigningAlgorithm.SHA256WITHECDSA)


def template(name: str) -> x509.Certificate:
    return issue(name)


def test_default_template_is_end_entity() -> None:
    assert template_for(None).name == "EndEntityCertificate"
    with pytest.raises(InvalidArgs):
        template_for("arn:aws:acm-pca:::template/NoSuchTemplate/V1")
    assert len(TEMPLATES) == 61


def test_end_entity_extensions() -> None:
    cert = template("EndEntityCertificate")
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert not bc.critical and bc.value.ca is False
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.key_encipherment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert not eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == b"\x01" * 20


@pytest.mark.parametrize("path_len", [0, 1, 2, 3])
def test_subordinate_templates_carry_their_path_length(path_len: int) -> None:
    cert = template(f"SubordinateCACertificate_PathLen{path_len}")
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == path_len
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and ku.digital_signature


@pytest.mark.parametrize(
    ("name", "oid"),
    [
        ("CodeSigningCertificate", ExtendedKeyUsageOID.CODE_SIGNING),
        ("OCSPSigningCertificate", ExtendedKeyUsageOID.OCSP_SIGNING),
    ],
)
def test_signing_templates_have_critical_eku(name: str, oid: x509.ObjectIdentifier) -> None:
    cert = template(name)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [oid]
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment


def test_ec_subject_keys_never_get_key_encipherment_and_empty_subject_makes_san_critical() -> None:
    cert = issue(
        None,
        subject_key=ec.generate_private_key(ec.SECP256R1()),
        subject=x509.Name([]),
        san=[x509.DNSName("a.example")],
    )
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical


def test_serials_are_positive_128_bit_with_32_hex_digits() -> None:
    serials = {new_serial() for _ in range(1000)}
    assert len(serials) == 1000
    assert all(len(f"{s:x}") == 32 and s > 0 for s in serials)


def _self_signed(
    key: ec.EllipticCurvePrivateKey,
    name: str,
    ca: bool = True,
    *extensions: x509.ExtensionType,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(datetime.now(UTC) - timedelta(hours=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    for extension in extensions:
        builder = builder.add_extension(extension, True)
    return builder.sign(key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


def test_import_rules_for_a_root() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    root = _self_signed(key, "root")
    now = datetime.now(UTC)
    imported = validate_import(
        ca_type=CaType.ROOT,
        ca_public_key=key.public_key(),
        certificate_data=_pem(root),
        chain_data=None,
        now=now,
    )
    assert imported.certificate == root and imported.chain == ()
    with pytest.raises(CertificateMismatch):
        validate_import(
            ca_type=CaType.ROOT,
            ca_public_key=CA_KEY.public_key(),
            certificate_data=_pem(root),
            chain_data=None,
            now=now,
        )
    with pytest.raises(InvalidRequest):
        validate_import(
            ca_type=CaType.SUBORDINATE,
            ca_public_key=key.public_key(),
            certificate_data=_pem(root),
            chain_data=_pem(root),
            now=now,
        )
    with pytest.raises(MalformedCertificate):
        validate_import(
            ca_type=CaType.ROOT,
            ca_public_key=key.public_key(),
            certificate_data=_pem(_self_signed(key, "no-bc", ca=False)),
            chain_data=None,
            now=now,
        )
    with pytest.raises(MalformedCertificate):
        validate_import(
            ca_type=CaType.ROOT,
            ca_public_key=key.public_key(),
            certificate_data=b"not a certificate",
            chain_data=None,
            now=now,
        )


def test_a_name_form_cryptography_cannot_read_is_malformed_not_a_crash() -> None:
    # NameConstraints permitting an ediPartyName, for which cryptography has no type: reading
    # the extensions raises UnsupportedGeneralNameType, which is not a ValueError.
    extension = x509.UnrecognizedExtension(
        x509.oid.ExtensionOID.NAME_CONSTRAINTS,
        bytes.fromhex("3011a00f300da50ba1090c07657869742e2e2e"),
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _self_signed(key, "odd root", True, extension)
    with pytest.raises(MalformedCertificate, match="could not be parsed"):
        validate_import(
            ca_type=CaType.ROOT,
            ca_public_key=key.public_key(),
            certificate_data=_pem(certificate),
            chain_data=None,
            now=datetime.now(UTC),
        )
