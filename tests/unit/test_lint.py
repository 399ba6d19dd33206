"""The lint gate: structural RFC 5280 rules on every certificate, pkilint where it is asked for.

Certificates are built with cryptography directly (no pica profile code), one defect at a time,
so each test names the rule it expects to fire.
"""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from pica.authority.algorithms import KeyFamily, signature_scheme
from pica.authority.lint import (
    AWS_RULES,
    REFUSAL_PREFIX,
    Finding,
    FindingsMode,
    LintGate,
    LintMode,
    _read_with_asn1crypto,
    _read_with_cryptography,
    structural_findings,
    throwaway_key,
    throwaway_sign,
)
from pica.authority.model import SigningAlgorithm
from pica.errors import InvalidArgs

NOW = datetime(2030, 1, 1, tzinfo=UTC)
CA_NOT_BEFORE = NOW - timedelta(days=365)
CA_NOT_AFTER = NOW + timedelta(days=3650)

Ext = tuple[x509.ExtensionType, bool]


def cn(value: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)])


@cache
def private_key(kind: str) -> CertificateIssuerPrivateKeyTypes:
    """One key per kind for the whole module: key generation is not what is under test."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, 2048)
    if kind.startswith("ec"):
        return ec.generate_private_key(ec.SECP256R1())
    if kind.startswith("mldsa44"):
        return mldsa.MLDSA44PrivateKey.generate()
    if kind.startswith("mldsa87"):
        return mldsa.MLDSA87PrivateKey.generate()
    return mldsa.MLDSA65PrivateKey.generate()


@dataclass(frozen=True)
class Issuer:
    """A self-signed root CA: its key, certificate and the algorithm it signs with."""

    key: CertificateIssuerPrivateKeyTypes
    certificate: x509.Certificate
    signing_algorithm: SigningAlgorithm


ISSUER_ALGORITHMS = {
    "rsa": SigningAlgorithm.SHA256WITHRSA,
    "ec": SigningAlgorithm.SHA256WITHECDSA,
    "mldsa": SigningAlgorithm.ML_DSA_65,
}


def _real_sign(
    builder: x509.CertificateBuilder,
    key: CertificateIssuerPrivateKeyTypes,
    algorithm: SigningAlgorithm,
) -> x509.Certificate:
    scheme = signature_scheme(algorithm)
    return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


@cache
def issuer(kind: str = "ec") -> Issuer:
    key = private_key(f"{kind}-ca")
    name = cn(f"lint {kind} root")
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1 << 100)
        .not_valid_before(CA_NOT_BEFORE)
        .not_valid_after(CA_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
            critical=False,
        )
    )
    algorithm = ISSUER_ALGORITHMS[kind]
    return Issuer(key, _real_sign(builder, key, algorithm), algorithm)


def key_usage(**bits: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: bits.get(name, False) for name in names})


def ca_key_usage() -> x509.KeyUsage:
    return key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)


def aki_for(certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


@dataclass
class Spec:
    """A certificate to build: a clean end-entity by default, each field overridable."""

    subject: x509.Name = field(default_factory=lambda: cn("leaf.example.com"))
    issuer_name: x509.Name | None = None  # default: the issuer's subject
    subject_key: str = "ec"
    not_before: datetime = NOW
    not_after: datetime = NOW + timedelta(days=30)
    serial: int = 1 << 120
    # Extensions by OID; None drops one of the defaults.
    extensions: dict[x509.ObjectIdentifier, Ext | None] = field(default_factory=dict)


def end_entity_extensions(
    public: CertificatePublicKeyTypes, ca: x509.Certificate | None
) -> dict[x509.ObjectIdentifier, Ext]:
    found: dict[x509.ObjectIdentifier, Ext] = {
        ExtensionOID.BASIC_CONSTRAINTS: (x509.BasicConstraints(ca=False, path_length=None), False),
        ExtensionOID.KEY_USAGE: (key_usage(digital_signature=True), True),
        ExtensionOID.EXTENDED_KEY_USAGE: (
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            False,
        ),
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME: (
            x509.SubjectAlternativeName([x509.DNSName("leaf.example.com")]),
            False,
        ),
        ExtensionOID.SUBJECT_KEY_IDENTIFIER: (
            x509.SubjectKeyIdentifier.from_public_key(public),
            False,
        ),
    }
    if ca is not None:
        found[ExtensionOID.AUTHORITY_KEY_IDENTIFIER] = (aki_for(ca), False)
    return found


def build(spec: Spec, ca: Issuer | None) -> x509.CertificateBuilder:
    """The unsigned certificate; `ca` None makes it self-signed (issuer name = subject)."""
    public = private_key(spec.subject_key).public_key()
    issuer_name = spec.issuer_name
    if issuer_name is None:
        issuer_name = ca.certificate.subject if ca is not None else spec.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(spec.serial)
        .not_valid_before(spec.not_before)
        .not_valid_after(spec.not_after)
    )
    extensions: dict[x509.ObjectIdentifier, Ext | None] = {
        **end_entity_extensions(public, ca.certificate if ca else None),
        **spec.extensions,
    }
    for value in extensions.values():
        if value is not None:
            builder = builder.add_extension(value[0], critical=value[1])
    return builder


def subordinate_spec(path_length: int | None = 0) -> Spec:
    return Spec(
        subject=cn("lint subordinate"),
        extensions={
            ExtensionOID.BASIC_CONSTRAINTS: (
                x509.BasicConstraints(ca=True, path_length=path_length),
                True,
            ),
            ExtensionOID.KEY_USAGE: (ca_key_usage(), True),
            ExtensionOID.EXTENDED_KEY_USAGE: None,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME: None,
        },
    )


def root_spec() -> Spec:
    spec = subordinate_spec(None)
    spec.subject = cn("lint self-signed root")
    return spec


def codes(found: tuple[Finding, ...] | list[Finding]) -> set[str]:
    return {finding.code for finding in found}


STRUCTURAL_ONLY = LintGate(LintMode.OFF)
SHAPED = LintGate(LintMode.SHAPED)
ALL = LintGate(LintMode.ALL)


def lint(
    gate: LintGate,
    spec: Spec,
    ca: Issuer | None,
    *,
    shaped: bool = False,
    is_ca: bool = False,
    algorithm: SigningAlgorithm | None = None,
) -> tuple[Finding, ...]:
    signing = algorithm or (ca.signing_algorithm if ca else SigningAlgorithm.SHA256WITHECDSA)
    return gate.findings(
        build(spec, ca),
        signing_algorithm=signing,
        issuer=ca.certificate if ca else None,
        shaped=shaped,
        is_ca=is_ca,
    )


# --- clean certificates ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rsa", "ec", "mldsa"])
@pytest.mark.parametrize("subject_key", ["rsa", "ec", "mldsa"])
def test_a_clean_end_entity_passes_every_mode(kind: str, subject_key: str) -> None:
    spec = Spec(subject_key=subject_key)
    for gate in (STRUCTURAL_ONLY, SHAPED, ALL):
        assert lint(gate, spec, issuer(kind), shaped=True) == ()
        gate.check(
            build(spec, issuer(kind)),
            signing_algorithm=issuer(kind).signing_algorithm,
            issuer=issuer(kind).certificate,
            shaped=True,
        )


@pytest.mark.parametrize("kind", ["rsa", "ec", "mldsa"])
def test_a_clean_subordinate_ca_passes(kind: str) -> None:
    assert lint(ALL, subordinate_spec(0), issuer(kind), is_ca=True) == ()


@pytest.mark.parametrize(
    "algorithm", [SigningAlgorithm.SHA256WITHECDSA, SigningAlgorithm.ML_DSA_44]
)
def test_a_clean_self_signed_root_passes(algorithm: SigningAlgorithm) -> None:
    spec = root_spec()
    spec.subject_key = "mldsa44" if algorithm is SigningAlgorithm.ML_DSA_44 else "ec"
    spec.extensions[ExtensionOID.AUTHORITY_KEY_IDENTIFIER] = (
        x509.AuthorityKeyIdentifier.from_issuer_public_key(
            private_key(spec.subject_key).public_key()
        ),
        False,
    )
    assert lint(ALL, spec, None, is_ca=True, algorithm=algorithm) == ()


def test_a_self_signed_root_may_omit_the_aki_even_under_pkilint() -> None:
    """pkilint wants the signature to verify to accept a missing AKI; the throwaway cannot."""
    assert lint(ALL, root_spec(), None, is_ca=True) == ()


# --- structural rules --------------------------------------------------------------------------


def _with(**extensions: Ext | None) -> dict[x509.ObjectIdentifier, Ext | None]:
    by_name = {
        "bc": ExtensionOID.BASIC_CONSTRAINTS,
        "ku": ExtensionOID.KEY_USAGE,
        "eku": ExtensionOID.EXTENDED_KEY_USAGE,
        "san": ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        "ski": ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        "aki": ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }
    return {by_name[name]: value for name, value in extensions.items()}


def _ec_ski() -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(private_key("ec").public_key())


SAN = x509.SubjectAlternativeName([x509.DNSName("leaf.example.com")])
# Empty SEQUENCEs: cryptography (>= 51) refuses to build an empty EKU or SAN, a custom extension
# still carries one.
EMPTY_EKU = x509.UnrecognizedExtension(ExtensionOID.EXTENDED_KEY_USAGE, b"\x30\x00")
EMPTY_SAN = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x00")
CA_TRUE = x509.BasicConstraints(ca=True, path_length=None)
# basicConstraints { cA FALSE (default, absent), pathLenConstraint 0 }: cryptography refuses to
# build it, a custom extension can still carry it.
PATHLEN_WITHOUT_CA = x509.UnrecognizedExtension(
    ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x02\x01\x00"
)
# keyUsage with digitalSignature and encipherOnly (bits 0 and 7), no keyAgreement.
ENCIPHER_ONLY = x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x03\x02\x00\x81")

STRUCTURAL_CASES: dict[str, tuple[Callable[[], Spec], str]] = {
    "empty subject, non-critical SAN": (
        lambda: Spec(subject=x509.Name([]), extensions=_with(san=(SAN, False))),
        "pica.empty_subject_requires_critical_san",
    ),
    "empty subject, no SAN": (
        lambda: Spec(subject=x509.Name([]), extensions=_with(san=None)),
        "pica.empty_subject_requires_critical_san",
    ),
    "no SKI": (lambda: Spec(extensions=_with(ski=None)), "pica.subject_key_identifier_missing"),
    "critical SKI": (
        lambda: Spec(extensions=_with(ski=(_ec_ski(), True))),
        "pica.subject_key_identifier_critical",
    ),
    "no AKI": (lambda: Spec(extensions=_with(aki=None)), "pica.authority_key_identifier_missing"),
    "critical AKI": (
        lambda: Spec(extensions=_with(aki=(aki_for(issuer().certificate), True))),
        "pica.authority_key_identifier_critical",
    ),
    "AKI without keyIdentifier": (
        lambda: Spec(
            extensions=_with(
                aki=(
                    x509.AuthorityKeyIdentifier(
                        None, [x509.DirectoryName(issuer().certificate.subject)], 1 << 100
                    ),
                    False,
                )
            )
        ),
        "pica.authority_key_identifier_without_key_id",
    ),
    "AKI of another key": (
        lambda: Spec(
            extensions=_with(aki=(x509.AuthorityKeyIdentifier(b"\x07" * 20, None, None), False))
        ),
        "pica.authority_key_identifier_mismatch",
    ),
    "CA:TRUE not critical": (
        lambda: Spec(extensions=_with(bc=(CA_TRUE, False), ku=(ca_key_usage(), True))),
        "pica.basic_constraints_ca_not_critical",
    ),
    "CA:TRUE without keyCertSign": (
        lambda: Spec(extensions=_with(bc=(CA_TRUE, True))),
        "pica.ca_requires_key_cert_sign",
    ),
    "CA:TRUE without keyUsage": (
        lambda: Spec(extensions=_with(bc=(CA_TRUE, True), ku=None)),
        "pica.ca_requires_key_cert_sign",
    ),
    "keyCertSign without CA:TRUE": (
        lambda: Spec(extensions=_with(ku=(ca_key_usage(), True))),
        "pica.key_cert_sign_requires_ca",
    ),
    "keyCertSign without basicConstraints": (
        lambda: Spec(extensions=_with(bc=None, ku=(ca_key_usage(), True))),
        "pica.key_cert_sign_requires_ca",
    ),
    "pathLen without CA:TRUE": (
        lambda: Spec(extensions=_with(bc=(PATHLEN_WITHOUT_CA, True))),
        "pica.path_length_requires_ca",
    ),
    "keyUsage with no bit": (
        lambda: Spec(extensions=_with(ku=(key_usage(), True))),
        "pica.key_usage_empty",
    ),
    "empty extendedKeyUsage": (
        lambda: Spec(extensions=_with(eku=(EMPTY_EKU, False))),
        "pica.extended_key_usage_empty",
    ),
    "encipherOnly without keyAgreement": (
        lambda: Spec(extensions=_with(ku=(ENCIPHER_ONLY, True))),
        "pica.encipher_decipher_only_requires_key_agreement",
    ),
    "keyEncipherment on an EC key": (
        lambda: Spec(
            subject_key="ec",
            extensions=_with(ku=(key_usage(digital_signature=True, key_encipherment=True), True)),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "dataEncipherment on an ML-DSA key": (
        lambda: Spec(
            subject_key="mldsa",
            extensions=_with(ku=(key_usage(digital_signature=True, data_encipherment=True), True)),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "keyAgreement on an ML-DSA key": (
        lambda: Spec(
            subject_key="mldsa",
            extensions=_with(ku=(key_usage(key_agreement=True), True)),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "keyAgreement on an RSA key": (
        lambda: Spec(
            subject_key="rsa",
            extensions=_with(ku=(key_usage(digital_signature=True, key_agreement=True), True)),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "ends after the issuer": (
        lambda: Spec(not_after=CA_NOT_AFTER + timedelta(seconds=1)),
        "pica.validity_ends_after_issuer",
    ),
    "starts before the issuer": (
        lambda: Spec(not_before=CA_NOT_BEFORE - timedelta(seconds=1)),
        "pica.validity_starts_before_issuer",
    ),
    "issuer name is not the issuer's subject": (
        lambda: Spec(issuer_name=cn("someone else")),
        "pica.issuer_name_mismatch",
    ),
    "keyUsage that does not decode": (
        lambda: Spec(
            extensions=_with(
                ku=(x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x04\x00"), True)
            )
        ),
        "pica.extension_undecodable",
    ),
    "empty issuer name": (
        lambda: Spec(issuer_name=x509.Name([])),
        "pica.issuer_name_empty",
    ),
}


@pytest.mark.parametrize("case", sorted(STRUCTURAL_CASES))
def test_each_structural_rule_fires_with_pkilint_off(case: str) -> None:
    make_spec, expected = STRUCTURAL_CASES[case]
    ca = issuer()
    builder = build(make_spec(), ca)
    with pytest.raises(InvalidArgs) as raised:
        STRUCTURAL_ONLY.check(
            builder, signing_algorithm=ca.signing_algorithm, issuer=ca.certificate, shaped=True
        )
    assert raised.value.message.startswith(REFUSAL_PREFIX)
    assert f"{expected} (ERROR): " in raised.value.message


def test_an_empty_subject_with_a_critical_san_passes() -> None:
    spec = Spec(subject=x509.Name([]), extensions=_with(san=(SAN, True)))
    assert lint(ALL, spec, issuer(), shaped=True) == ()


def test_a_ca_template_needs_basic_constraints_asserting_ca() -> None:
    spec = subordinate_spec()
    spec.extensions[ExtensionOID.BASIC_CONSTRAINTS] = None
    spec.extensions[ExtensionOID.KEY_USAGE] = (key_usage(digital_signature=True), True)
    found = lint(STRUCTURAL_ONLY, spec, issuer(), is_ca=True)
    assert codes(found) == {"pica.ca_requires_basic_constraints"}


def test_a_self_signed_certificate_must_name_itself_as_issuer() -> None:
    spec = root_spec()
    spec.issuer_name = cn("not me")
    assert codes(lint(STRUCTURAL_ONLY, spec, None, is_ca=True)) == {"pica.issuer_name_mismatch"}


def test_every_finding_is_named_in_one_refusal() -> None:
    spec = Spec(subject=x509.Name([]), extensions=_with(san=None, ski=None))
    ca = issuer()
    with pytest.raises(InvalidArgs) as raised:
        ALL.check(
            build(spec, ca),
            signing_algorithm=ca.signing_algorithm,
            issuer=ca.certificate,
            shaped=True,
        )
    message = raised.value.message
    assert "pica.empty_subject_requires_critical_san (ERROR)" in message
    assert "pica.subject_key_identifier_missing (ERROR)" in message
    assert message.count("; ") == 1


# Rules cryptography's builder never lets a certificate break, checked on crafted DER.


def _crafted_findings(edit: Callable[[asn1_x509.TbsCertificate], None]) -> set[str]:
    """The structural findings on a valid certificate edited at the DER level."""
    ca = issuer()
    der = throwaway_sign(build(Spec(), ca), signature_scheme(ca.signing_algorithm)).public_bytes(
        Encoding.DER
    )
    certificate = asn1_x509.Certificate.load(der)
    edit(certificate["tbs_certificate"])
    with warnings.catch_warnings():
        # cryptography warns when it reads a serial number that is not positive: so do we.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        crafted = x509.load_der_x509_certificate(certificate.dump(force=True))
        return codes(structural_findings(crafted, ca.certificate))


def _set_serial(value: int) -> Callable[[asn1_x509.TbsCertificate], None]:
    def edit(tbs: asn1_x509.TbsCertificate) -> None:
        tbs["serial_number"] = value

    return edit


def _duplicate_first_extension(tbs: asn1_x509.TbsCertificate) -> None:
    extensions = tbs["extensions"]
    extensions.append(extensions[0].copy())


def _swap_validity(tbs: asn1_x509.TbsCertificate) -> None:
    validity = tbs["validity"]
    validity["not_before"], validity["not_after"] = (
        asn1_x509.Time(name="utc_time", value=NOW + timedelta(days=1)),
        asn1_x509.Time(name="utc_time", value=NOW),
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_set_serial(0), "pica.serial_not_positive"),
        (_set_serial(-5), "pica.serial_not_positive"),
        (_set_serial(1 << 160), "pica.serial_too_long"),
        (_duplicate_first_extension, "pica.duplicate_extension"),
        (_swap_validity, "pica.validity_not_increasing"),
    ],
)
def test_rules_the_builder_cannot_break_still_hold_on_der(
    edit: Callable[[asn1_x509.TbsCertificate], None], expected: str
) -> None:
    assert expected in _crafted_findings(edit)


def test_a_twenty_octet_serial_is_the_longest_allowed() -> None:
    largest = (1 << 159) - 1  # 20 octets with the sign bit clear
    assert _crafted_findings(_set_serial(largest)) == set()


# cryptography refuses EDIPartyName (which AWS's GeneralName allows); a SAN carrying one,
# hand-encoded: GeneralNames { ediPartyName { partyName [1] UTF8String "edi" } }.
EDI_SAN = x509.UnrecognizedExtension(
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x09\xa5\x07\xa1\x05\x0c\x03edi"
)


def test_contents_cryptography_cannot_parse_are_read_another_way() -> None:
    spec = Spec(subject=x509.Name([]), extensions=_with(san=(EDI_SAN, True)))
    assert lint(ALL, spec, issuer(), shaped=True) == ()
    spec.extensions = _with(san=(EDI_SAN, False))
    assert codes(lint(STRUCTURAL_ONLY, spec, issuer())) == {
        "pica.empty_subject_requires_critical_san"
    }


@pytest.mark.parametrize(
    "make_spec",
    [Spec, subordinate_spec, lambda: Spec(subject_key="mldsa"), lambda: Spec(subject_key="rsa")],
)
def test_both_readers_see_the_same_certificate(make_spec: Callable[[], Spec]) -> None:
    """The asn1crypto fallback must read exactly what cryptography's fast path reads."""
    ca = issuer()
    certificate = throwaway_sign(build(make_spec(), ca), signature_scheme(ca.signing_algorithm))
    assert _read_with_cryptography(certificate, ca.certificate) == _read_with_asn1crypto(
        certificate.public_bytes(Encoding.DER), ca.certificate
    )


# --- pkilint -----------------------------------------------------------------------------------

# Defects only pkilint sees: the structural rules pass each of them.
PKILINT_ONLY: dict[str, tuple[Callable[[], Spec], str]] = {
    "SAN URI that is not a URI": (
        lambda: Spec(
            extensions=_with(
                san=(
                    x509.SubjectAlternativeName(
                        [
                            x509.DNSName("leaf.example.com"),
                            x509.UniformResourceIdentifier("not a uri"),
                        ]
                    ),
                    False,
                )
            )
        ),
        "pkix.invalid_uri_syntax",
    ),
    "DNS name with invalid characters": (
        lambda: Spec(
            extensions=_with(
                san=(x509.SubjectAlternativeName([x509.DNSName("bad name!.example.com")]), False)
            )
        ),
        "pkix.invalid_domain_name_syntax",
    ),
    "empty SAN": (
        lambda: Spec(extensions=_with(san=(EMPTY_SAN, False))),
        "itu.invalid_asn1_syntax",
    ),
    "CPS qualifier that is not a URI": (
        lambda: Spec(
            extensions={
                ExtensionOID.CERTIFICATE_POLICIES: (
                    x509.CertificatePolicies(
                        [
                            x509.PolicyInformation(
                                x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), ["not a uri"]
                            )
                        ]
                    ),
                    False,
                )
            }
        ),
        "pkix.invalid_uri_syntax",
    ),
    "subject emailAddress missing from the SAN": (
        lambda: Spec(
            subject=x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "leaf.example.com"),
                    x509.NameAttribute(NameOID.EMAIL_ADDRESS, "someone@example.com"),
                ]
            )
        ),
        "pkix.subject_email_address_not_in_san",
    ),
}


@pytest.mark.parametrize("kind", ["rsa", "ec", "mldsa"])
@pytest.mark.parametrize("case", sorted(PKILINT_ONLY))
def test_a_pkilint_only_defect_is_refused_with_its_code_where_pkilint_runs(
    case: str, kind: str
) -> None:
    make_spec, expected = PKILINT_ONLY[case]
    ca = issuer(kind)
    builder = build(make_spec(), ca)

    def check(gate: LintGate, shaped: bool) -> None:
        gate.check(
            builder, signing_algorithm=ca.signing_algorithm, issuer=ca.certificate, shaped=shaped
        )

    check(STRUCTURAL_ONLY, shaped=True)  # OFF: pkilint never runs
    check(SHAPED, shaped=False)  # SHAPED: not for a fixed-shape template
    for gate, shaped in ((SHAPED, True), (ALL, False), (ALL, True)):
        with pytest.raises(InvalidArgs) as raised:
            check(gate, shaped)
        assert raised.value.message.startswith(REFUSAL_PREFIX)
        assert f"{expected} (" in raised.value.message
        assert "pica." not in raised.value.message


def test_pkilint_runs_on_ca_certificates_in_shaped_mode() -> None:
    spec = subordinate_spec()
    spec.extensions[ExtensionOID.SUBJECT_ALTERNATIVE_NAME] = (
        x509.SubjectAlternativeName([x509.UniformResourceIdentifier("not a uri")]),
        False,
    )
    assert codes(lint(SHAPED, spec, issuer(), is_ca=True)) == {"pkix.invalid_uri_syntax"}
    assert lint(SHAPED, spec, issuer(), is_ca=False) == ()


def test_warnings_do_not_refuse() -> None:
    """A non-critical keyUsage is a pkilint WARNING (RFC 5280 SHOULD), not a refusal."""
    spec = Spec(extensions=_with(ku=(key_usage(digital_signature=True), False)))
    assert lint(ALL, spec, issuer()) == ()


def test_runs_pkilint_follows_the_mode() -> None:
    assert not STRUCTURAL_ONLY.runs_pkilint(shaped=True, is_ca=True)
    assert not SHAPED.runs_pkilint(shaped=False)
    assert SHAPED.runs_pkilint(shaped=True)
    assert SHAPED.runs_pkilint(shaped=False, is_ca=True)
    assert ALL.runs_pkilint(shaped=False)
    assert LintGate().mode is LintMode.SHAPED
    assert LintGate(LintMode("all")).mode is LintMode.ALL


# --- the allow-list ----------------------------------------------------------------------------


def _san(*names: x509.GeneralName) -> Spec:
    return Spec(extensions=_with(san=(x509.SubjectAlternativeName(list(names)), False)))


@pytest.mark.parametrize(
    "name",
    [
        x509.UniformResourceIdentifier("spiffe://prod.example/ns/payments/sa/api"),
        x509.UniformResourceIdentifier("spiffe://cluster-local/workload"),
        x509.UniformResourceIdentifier("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
        x509.UniformResourceIdentifier("http://localhost:8080/crl/ca.crl"),
        x509.DNSName("*.example.com"),
        x509.DNSName("localhost"),
        x509.DNSName("build01"),
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
    ],
    ids=str,
)
def test_private_pki_names_pkilint_refuses_are_rfc_5280_conformant(name: x509.GeneralName) -> None:
    assert lint(ALL, _san(name), issuer()) == ()


def test_an_internal_crl_distribution_point_passes() -> None:
    spec = Spec(
        extensions={
            ExtensionOID.CRL_DISTRIBUTION_POINTS: (
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("http://pica:8080/crl/abc.crl")],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                False,
            )
        }
    )
    assert lint(ALL, spec, issuer()) == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (x509.DNSName("a.*.example.com"), "pkix.invalid_domain_name_syntax"),
        (x509.DNSName("*"), "pkix.invalid_domain_name_syntax"),
        (x509.DNSName("10.0.0.1"), "pkix.invalid_domain_name_syntax"),
        (x509.DNSName("_acme.example.com"), "pkix.invalid_domain_name_syntax"),
        (x509.DNSName("example.com."), "pkix.invalid_domain_name_syntax"),
        (x509.UniformResourceIdentifier("//example.com/relative"), "pkix.invalid_uri_syntax"),
        (x509.UniformResourceIdentifier("http://example.com/a b"), "pkix.invalid_uri_syntax"),
        (x509.UniformResourceIdentifier("http://example.com/<x>"), "pkix.invalid_uri_syntax"),
    ],
    ids=str,
)
def test_the_allow_list_rechecks_instead_of_dropping_the_code(
    name: x509.GeneralName, expected: str
) -> None:
    assert codes(lint(ALL, _san(name), issuer())) == {expected}


def test_an_end_entity_without_aki_is_still_refused_by_both_layers() -> None:
    found = lint(ALL, Spec(extensions=_with(aki=None)), issuer())
    assert codes(found) == {
        "pica.authority_key_identifier_missing",
        "pkix.authority_key_identifier_extension_absent",
    }


# --- the throwaway signature -------------------------------------------------------------------

SIGNING_KEYS = {
    KeyFamily.RSA: "rsa-real",
    KeyFamily.ECDSA: "ec-real",
    KeyFamily.ML_DSA_44: "mldsa44-real",
    KeyFamily.ML_DSA_65: "mldsa65-real",
    KeyFamily.ML_DSA_87: "mldsa87-real",
}


@pytest.mark.parametrize(
    "algorithm", [a for a in SigningAlgorithm if a is not SigningAlgorithm.SM3WITHSM2]
)
def test_the_throwaway_signature_carries_the_real_signature_algorithm(
    algorithm: SigningAlgorithm,
) -> None:
    scheme = signature_scheme(algorithm)
    builder = build(Spec(), issuer())
    real = _real_sign(builder, private_key(SIGNING_KEYS[scheme.family]), algorithm)
    throwaway = throwaway_sign(builder, scheme)

    def algorithm_identifiers(certificate: x509.Certificate) -> tuple[bytes, bytes]:
        parsed = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
        return (
            parsed["signature_algorithm"].dump(),
            parsed["tbs_certificate"]["signature"].dump(),
        )

    assert algorithm_identifiers(throwaway) == algorithm_identifiers(real)
    assert throwaway.tbs_certificate_bytes == real.tbs_certificate_bytes
    assert throwaway.signature != real.signature


def test_one_throwaway_key_per_family_per_process() -> None:
    for family in SIGNING_KEYS:
        assert throwaway_key(family) is throwaway_key(family)
    assert throwaway_key(KeyFamily.RSA) is not throwaway_key(KeyFamily.ECDSA)


def test_sm2_is_refused_as_unavailable() -> None:
    ca = issuer()
    with pytest.raises(InvalidArgs, match="China"):
        SHAPED.check(
            build(Spec(), ca),
            signing_algorithm=SigningAlgorithm.SM3WITHSM2,
            issuer=ca.certificate,
            shaped=True,
        )


def test_one_gate_serves_concurrent_issuance_threads() -> None:
    """pkilint's validators are shared across the threadpool; results must not mix."""
    ca = issuer()
    clean = build(Spec(), ca)
    bad = build(PKILINT_ONLY["SAN URI that is not a URI"][0](), ca)

    def run(index: int) -> set[str]:
        builder = bad if index % 2 else clean
        found = ALL.findings(
            builder, signing_algorithm=ca.signing_algorithm, issuer=ca.certificate, shaped=True
        )
        return codes(found)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(64)))
    assert results == [{"pkix.invalid_uri_syntax"} if i % 2 else set() for i in range(64)]


# --- lint_findings = "record" ----------------------------------------------------------------

RECORD = LintGate(LintMode.SHAPED, FindingsMode.RECORD)


def check(gate: LintGate, spec: Spec, *, is_ca: bool = False) -> tuple[Finding, ...]:
    ca = issuer("ec")
    return gate.check(
        build(spec, ca),
        signing_algorithm=ca.signing_algorithm,
        issuer=ca.certificate,
        shaped=True,
        is_ca=is_ca,
    )


def test_record_mode_returns_lint_findings_instead_of_refusing() -> None:
    spec = subordinate_spec(0)
    spec.extensions[ExtensionOID.KEY_USAGE] = None  # a CA certificate without keyUsage
    with pytest.raises(InvalidArgs, match="ca_requires_key_cert_sign"):
        check(SHAPED, spec, is_ca=True)
    recorded = check(RECORD, spec, is_ca=True)
    assert "pica.ca_requires_key_cert_sign" in codes(recorded)
    assert not codes(recorded) & AWS_RULES


def test_record_mode_still_refuses_what_aws_refuses() -> None:
    spec = Spec(not_after=CA_NOT_AFTER + timedelta(days=1))
    with pytest.raises(InvalidArgs) as refused:
        check(RECORD, spec)
    assert "pica.validity_ends_after_issuer" in str(refused.value)
    ca_not_critical = subordinate_spec(0)
    ca_not_critical.extensions[ExtensionOID.BASIC_CONSTRAINTS] = (
        x509.BasicConstraints(ca=True, path_length=0),
        False,
    )
    with pytest.raises(InvalidArgs, match="basic_constraints_ca_not_critical"):
        check(RECORD, ca_not_critical, is_ca=True)


def test_a_clean_certificate_has_nothing_to_record() -> None:
    assert check(RECORD, Spec()) == ()
    assert check(SHAPED, Spec()) == ()
