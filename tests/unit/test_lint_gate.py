"""lint.gate: what the gate lets through, in each LintMode and FindingsMode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from pica.authority.lint.finding import AWS_RULES, Finding
from pica.authority.lint.gate import FindingsMode, LintGate, LintMode
from pica.authority.model import SigningAlgorithm
from pica.errors import InvalidArgs
from tests.support.lint_certificates import (
    ALL,
    CA_NOT_AFTER,
    SHAPED,
    STRUCTURAL_ONLY,
    Spec,
    build,
    codes,
    issuer,
    lint,
    private_key,
    root_spec,
    subordinate_spec,
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


def test_runs_pkilint_follows_the_mode() -> None:
    assert not STRUCTURAL_ONLY.runs_pkilint(shaped=True, is_ca=True)
    assert not SHAPED.runs_pkilint(shaped=False)
    assert SHAPED.runs_pkilint(shaped=True)
    assert SHAPED.runs_pkilint(shaped=False, is_ca=True)
    assert ALL.runs_pkilint(shaped=False)
    assert LintGate().mode is LintMode.SHAPED
    assert LintGate(LintMode("all")).mode is LintMode.ALL


def test_sm2_is_refused_as_unavailable() -> None:
    ca = issuer()
    with pytest.raises(InvalidArgs, match="China"):
        SHAPED.check(
            build(Spec(), ca),
            signing_algorithm=SigningAlgorithm.SM3WITHSM2,
            issuer=ca.certificate,
            shaped=True,
        )


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
