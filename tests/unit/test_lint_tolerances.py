"""lint.tolerances: the pkilint findings set aside, each only where the RFC allows the value."""

from __future__ import annotations

import pytest

from pica.authority.lint.tolerances import TOLERATED

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
