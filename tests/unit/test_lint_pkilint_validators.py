"""lint.pkilint_validators: pkilint's findings, where the mode runs it, from any thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from pica.authority.lint.finding import REFUSAL_PREFIX
from pica.authority.lint.gate import LintGate
from pica.errors import InvalidArgs
from tests.support.lint_certificates import (
    ALL,
    EMPTY_SAN,
    SHAPED,
    STRUCTURAL_ONLY,
    Spec,
    build,
    codes,
    issuer,
    lint,
    subordinate_spec,
    with_extensions,
)
from tests.support.pki import key_usage

# --- pkilint -----------------------------------------------------------------------------------

# Defects only pkilint sees: the structural rules pass each of them.
PKILINT_ONLY: dict[str, tuple[Callable[[], Spec], str]] = {
    "SAN URI that is not a URI": (
        lambda: Spec(
            extensions=with_extensions(
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
            extensions=with_extensions(
                san=(x509.SubjectAlternativeName([x509.DNSName("bad name!.example.com")]), False)
            )
        ),
        "pkix.invalid_domain_name_syntax",
    ),
    "empty SAN": (
        lambda: Spec(extensions=with_extensions(san=(EMPTY_SAN, False))),
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
    spec = Spec(extensions=with_extensions(ku=(key_usage(digital_signature=True), False)))
    assert lint(ALL, spec, issuer()) == ()


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
