"""lint.tbs: both readers of a to-be-signed certificate see the same fields."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority.algorithms import signature_scheme
from pica.authority.lint.tbs import read_with_asn1crypto, read_with_cryptography
from pica.authority.throwaway import throwaway_sign
from tests.support.lint_certificates import (
    ALL,
    EDI_SAN,
    STRUCTURAL_ONLY,
    Spec,
    build,
    codes,
    issuer,
    lint,
    subordinate_spec,
    with_extensions,
)


def test_contents_cryptography_cannot_parse_are_read_another_way() -> None:
    spec = Spec(subject=x509.Name([]), extensions=with_extensions(san=(EDI_SAN, True)))
    assert lint(ALL, spec, issuer(), shaped=True) == ()
    spec.extensions = with_extensions(san=(EDI_SAN, False))
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
    assert read_with_cryptography(certificate, ca.certificate) == read_with_asn1crypto(
        certificate.public_bytes(Encoding.DER), ca.certificate
    )
