"""lint.tbs: both readers of a to-be-signed certificate see the same fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority.algorithms import signature_scheme
from pica.authority.lint.tbs import read_parts, read_with_asn1crypto, read_with_cryptography
from pica.authority.model import SigningAlgorithm
from pica.authority.throwaway import throwaway_sign
from tests.support.lint_certificates import (
    ALL,
    EDI_SAN,
    NOW,
    STRUCTURAL_ONLY,
    Spec,
    build,
    cn,
    codes,
    issuer,
    lint,
    parts,
    subordinate_spec,
    with_extensions,
)
from tests.support.pki import key_usage


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


_SCHEME = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
_PARTS_SPECS: dict[str, Callable[[], Spec]] = {
    "end entity": Spec,
    "subordinate CA": subordinate_spec,
    "RSA subject key": lambda: Spec(subject_key="rsa"),
    "ML-DSA subject key": lambda: Spec(subject_key="mldsa"),
    "empty subject": lambda: Spec(subject=x509.Name([])),
    "another issuer name": lambda: Spec(issuer_name=cn("someone else")),
    "20-octet serial": lambda: Spec(serial=(1 << 159) - 1),
    # The encoding keeps whole seconds in UTC: the parts reader must see the same instants.
    "microseconds": lambda: Spec(
        not_before=NOW + timedelta(microseconds=999_999),
        not_after=NOW + timedelta(days=3, microseconds=1),
    ),
    "naive and offset times": lambda: Spec(
        not_before=NOW.replace(tzinfo=None),
        not_after=(NOW + timedelta(days=3)).astimezone(timezone(timedelta(hours=-5))),
    ),
    "CA flags on an end entity": lambda: Spec(
        extensions=with_extensions(
            bc=(x509.BasicConstraints(ca=True, path_length=3), False),
            ku=(key_usage(key_agreement=True, encipher_only=True), False),
        )
    ),
}


@pytest.mark.parametrize("make_spec", _PARTS_SPECS.values(), ids=_PARTS_SPECS.keys())
@pytest.mark.parametrize("self_signed", [False, True], ids=["issued", "self-signed"])
def test_the_parts_read_as_their_serialised_draft(
    make_spec: Callable[[], Spec], self_signed: bool
) -> None:
    """Issuance's reader (the builder's parts) must read exactly what parsing the draft reads."""
    ca = None if self_signed else issuer()
    fields = parts(make_spec(), ca)
    certificate = throwaway_sign(
        fields.builder(), signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    )
    expected = read_with_cryptography(certificate, None if ca is None else ca.certificate)
    assert read_parts(fields, certificate, None if ca is None else ca.certificate) == expected
    # Without a draft (a key in memory signs the builder itself): the same, for the keys whose
    # SPKI algorithm is known without one; the others are left to a draft.
    without_draft = read_parts(fields, None, None if ca is None else ca.certificate)
    if isinstance(fields.public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        assert without_draft == expected
    else:
        assert without_draft is None


def test_parts_only_a_parse_can_read_are_left_to_it() -> None:
    """Raw extension bytes are read from the draft (they may be defects the rules name)."""
    spec = Spec(extensions=with_extensions(san=(EDI_SAN, False)))
    fields = parts(spec, issuer())
    certificate = throwaway_sign(
        fields.builder(), signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    )
    assert read_parts(fields, certificate, issuer().certificate) is None
