"""lint.rules: each structural RFC 5280 rule fires on its defect, with pkilint off or on."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtensionOID

from pica.authority.algorithms import signature_scheme
from pica.authority.lint.finding import REFUSAL_PREFIX
from pica.authority.lint.rules import structural_findings
from pica.authority.throwaway import throwaway_sign
from pica.errors import InvalidArgs
from tests.support.lint_certificates import (
    ALL,
    CA_NOT_AFTER,
    CA_NOT_BEFORE,
    EMPTY_EKU,
    NOW,
    STRUCTURAL_ONLY,
    Spec,
    aki_for,
    build,
    ca_key_usage,
    cn,
    codes,
    issuer,
    lint,
    private_key,
    root_spec,
    subordinate_spec,
    with_extensions,
)
from tests.support.pki import key_usage


def _ec_ski() -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(private_key("ec").public_key())


SAN = x509.SubjectAlternativeName([x509.DNSName("leaf.example.com")])
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
        lambda: Spec(subject=x509.Name([]), extensions=with_extensions(san=(SAN, False))),
        "pica.empty_subject_requires_critical_san",
    ),
    "empty subject, no SAN": (
        lambda: Spec(subject=x509.Name([]), extensions=with_extensions(san=None)),
        "pica.empty_subject_requires_critical_san",
    ),
    "no SKI": (
        lambda: Spec(extensions=with_extensions(ski=None)),
        "pica.subject_key_identifier_missing",
    ),
    "critical SKI": (
        lambda: Spec(extensions=with_extensions(ski=(_ec_ski(), True))),
        "pica.subject_key_identifier_critical",
    ),
    "no AKI": (
        lambda: Spec(extensions=with_extensions(aki=None)),
        "pica.authority_key_identifier_missing",
    ),
    "critical AKI": (
        lambda: Spec(extensions=with_extensions(aki=(aki_for(issuer().certificate), True))),
        "pica.authority_key_identifier_critical",
    ),
    "AKI without keyIdentifier": (
        lambda: Spec(
            extensions=with_extensions(
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
            extensions=with_extensions(
                aki=(x509.AuthorityKeyIdentifier(b"\x07" * 20, None, None), False)
            )
        ),
        "pica.authority_key_identifier_mismatch",
    ),
    "CA:TRUE not critical": (
        lambda: Spec(extensions=with_extensions(bc=(CA_TRUE, False), ku=(ca_key_usage(), True))),
        "pica.basic_constraints_ca_not_critical",
    ),
    "CA:TRUE without keyCertSign": (
        lambda: Spec(extensions=with_extensions(bc=(CA_TRUE, True))),
        "pica.ca_requires_key_cert_sign",
    ),
    "CA:TRUE without keyUsage": (
        lambda: Spec(extensions=with_extensions(bc=(CA_TRUE, True), ku=None)),
        "pica.ca_requires_key_cert_sign",
    ),
    "keyCertSign without CA:TRUE": (
        lambda: Spec(extensions=with_extensions(ku=(ca_key_usage(), True))),
        "pica.key_cert_sign_requires_ca",
    ),
    "keyCertSign without basicConstraints": (
        lambda: Spec(extensions=with_extensions(bc=None, ku=(ca_key_usage(), True))),
        "pica.key_cert_sign_requires_ca",
    ),
    "pathLen without CA:TRUE": (
        lambda: Spec(extensions=with_extensions(bc=(PATHLEN_WITHOUT_CA, True))),
        "pica.path_length_requires_ca",
    ),
    "keyUsage with no bit": (
        lambda: Spec(extensions=with_extensions(ku=(key_usage(), True))),
        "pica.key_usage_empty",
    ),
    "empty extendedKeyUsage": (
        lambda: Spec(extensions=with_extensions(eku=(EMPTY_EKU, False))),
        "pica.extended_key_usage_empty",
    ),
    "encipherOnly without keyAgreement": (
        lambda: Spec(extensions=with_extensions(ku=(ENCIPHER_ONLY, True))),
        "pica.encipher_decipher_only_requires_key_agreement",
    ),
    "keyEncipherment on an EC key": (
        lambda: Spec(
            subject_key="ec",
            extensions=with_extensions(
                ku=(key_usage(digital_signature=True, key_encipherment=True), True)
            ),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "dataEncipherment on an ML-DSA key": (
        lambda: Spec(
            subject_key="mldsa",
            extensions=with_extensions(
                ku=(key_usage(digital_signature=True, data_encipherment=True), True)
            ),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "keyAgreement on an ML-DSA key": (
        lambda: Spec(
            subject_key="mldsa",
            extensions=with_extensions(ku=(key_usage(key_agreement=True), True)),
        ),
        "pica.key_usage_prohibited_for_key_type",
    ),
    "keyAgreement on an RSA key": (
        lambda: Spec(
            subject_key="rsa",
            extensions=with_extensions(
                ku=(key_usage(digital_signature=True, key_agreement=True), True)
            ),
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
            extensions=with_extensions(
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
    spec = Spec(subject=x509.Name([]), extensions=with_extensions(san=(SAN, True)))
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
    spec = Spec(subject=x509.Name([]), extensions=with_extensions(san=None, ski=None))
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
