"""lint.tolerances: the pkilint findings set aside, each only where the RFC allows the value."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from pica.authority.lint.tolerances import TOLERATED
from tests.support.lint_certificates import (
    ALL,
    Spec,
    codes,
    issuer,
    lint,
    with_extensions,
)

URI = TOLERATED["pkix.invalid_uri_syntax"]
DOMAIN = TOLERATED["pkix.invalid_domain_name_syntax"]
NO_AKI = TOLERATED["pkix.authority_key_identifier_extension_absent"]
SAN = "certificate.tbsCertificate.extensions.3.extnValue.subjectAltName.0.dNSName"
CONSTRAINT = "certificate.tbsCertificate.extensions.4.extnValue.nameConstraints.permittedSubtrees"


@pytest.mark.parametrize(
    "uri", ["spiffe://trust.example/ns/a", "urn:uuid:1234", "mailto:a@b", "http://localhost:8080"]
)
def test_rfc_3986_uris_pkilint_refuses_are_tolerated(uri: str) -> None:
    assert URI(uri, "", False)


@pytest.mark.parametrize("uri", ["no-scheme", "http:", "1http://x", "http://a b", "http://é"])
def test_uris_that_break_rfc_3986_are_not(uri: str) -> None:
    assert not URI(uri, "", False)


@pytest.mark.parametrize("name", ["localhost", "build01", "a.example", "*.example", "x-1.y"])
def test_intranet_names_and_san_wildcards_are_tolerated(name: str) -> None:
    assert DOMAIN(name, SAN, False)


def test_a_wildcard_is_not_tolerated_in_name_constraints() -> None:
    assert not DOMAIN("*.example", CONSTRAINT, False)
    assert DOMAIN("example", CONSTRAINT, False)


@pytest.mark.parametrize(
    "name", ["-a.example", "a..example", "a.123", "a_b.example", "x" * 64, "a." * 127 + "a"]
)
def test_names_that_break_rfc_1034_are_not(name: str) -> None:
    assert not DOMAIN(name, SAN, False)


def test_a_missing_aki_is_tolerated_on_a_self_signed_certificate_only() -> None:
    assert NO_AKI("", "certificate", True)
    assert not NO_AKI("", "certificate", False)


# --- the allow-list ----------------------------------------------------------------------------


def _san(*names: x509.GeneralName) -> Spec:
    return Spec(extensions=with_extensions(san=(x509.SubjectAlternativeName(list(names)), False)))


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
    found = lint(ALL, Spec(extensions=with_extensions(aki=None)), issuer())
    assert codes(found) == {
        "pica.authority_key_identifier_missing",
        "pkix.authority_key_identifier_extension_absent",
    }
