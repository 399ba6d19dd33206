"""Three independent path validators over every chain pica hands out in the test suite.

A certificate pica signs is only useful if relying parties accept it with its chain, name
constraints included. `assert_chain_valid` runs three validators that share no code:

- pyca/cryptography's verifier (`PolicyBuilder`), Rust, which enforces dNSName, iPAddress and
  rfc822Name constraints;
- `openssl verify -x509_strict`, C;
- pyhanko-certvalidator, pure Python over asn1crypto, which enforces dNSName, rfc822Name,
  uniformResourceIdentifier and directoryName constraints.

`watch_client` hooks a boto3 acm-pca client so that every successful GetCertificate answer is
validated before the test sees it; `tests.support.server.LiveServer.client` hooks every client
it makes, so no conformance test can forget the check.

A validator is skipped only where it cannot judge the chain at all, for a reason stated in
`skipped_validators`: OpenSSL 3.0 (Debian 12) knows no ML-DSA, and takes a self-signed leaf
(a CA certifying its own key) for an untrusted root; cryptography's verifier refuses
any chain constraining a name form it does not implement (URI, directoryName, ...), and
pyhanko-certvalidator cannot check iPAddress constraints; neither accepts the leading-period
dNSName constraint form, nor parses an ediPartyName SAN. Every name-constraint form is still
judged by at least two of them.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.name_trees import (
    default_excluded_subtrees,
    default_permitted_subtrees,
    process_general_subtrees,
)
from pyhanko_certvalidator.policy_decl import PKIXValidationParams

CRYPTOGRAPHY = "cryptography"
OPENSSL = "openssl"
PYHANKO = "pyhanko-certvalidator"
VALIDATORS = (CRYPTOGRAPHY, OPENSSL, PYHANKO)

_ML_DSA_OIDS = frozenset(
    {"2.16.840.1.101.3.4.3.17", "2.16.840.1.101.3.4.3.18", "2.16.840.1.101.3.4.3.19"}
)
# The name-constraint forms each library evaluates. cryptography's verifier refuses a chain
# that constrains any other form; pyhanko-certvalidator fails on a name of a form it cannot
# check. Both refuse the leading-period dNSName form (`.example.com`), which RFC 5280 defines
# only for URI and rfc822Name constraints (OpenSSL reads it as "subdomains only").
_IMPLEMENTED_FORMS: dict[str, tuple[type[x509.GeneralName], ...]] = {
    CRYPTOGRAPHY: (x509.DNSName, x509.IPAddress, x509.RFC822Name),
    PYHANKO: (x509.DNSName, x509.RFC822Name, x509.UniformResourceIdentifier, x509.DirectoryName),
}


def _uses_ml_dsa(certificates: list[x509.Certificate]) -> bool:
    return any(
        c.signature_algorithm_oid.dotted_string in _ML_DSA_OIDS
        or c.public_key_algorithm_oid.dotted_string in _ML_DSA_OIDS
        for c in certificates
    )


def _constraints(certificates: list[x509.Certificate]) -> list[x509.GeneralName]:
    found: list[x509.GeneralName] = []
    for certificate in certificates:
        try:
            value = certificate.extensions.get_extension_for_class(x509.NameConstraints).value
        except x509.ExtensionNotFound:
            continue
        found += [*(value.permitted_subtrees or ()), *(value.excluded_subtrees or ())]
    return found


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _san_forms(certificate: x509.Certificate) -> set[str]:
    """The GeneralName forms of the certificate's SAN, read with asn1crypto (cryptography
    cannot parse some of them)."""
    tbs = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))["tbs_certificate"]
    for extension in tbs["extensions"]:
        if extension["extn_id"].dotted == "2.5.29.17":
            return {
                name.name for name in asn1_x509.GeneralNames.load(extension["extn_value"].contents)
            }
    return set()


# SAN forms a library cannot even parse: cryptography has no type for them, and asn1crypto's
# EDIPartyName spec tags its CHOICE members implicitly, so it cannot read RFC 5280's encoding.
_UNPARSABLE_SAN_FORMS = {
    CRYPTOGRAPHY: {"x400_address", "edi_party_name"},
    PYHANKO: {"edi_party_name"},
}


def skipped_validators(
    certificate: x509.Certificate, chain: list[x509.Certificate]
) -> dict[str, str]:
    """The validators that cannot judge this chain at all, each with the reason."""
    skipped: dict[str, str] = {}
    if _uses_ml_dsa([certificate, *chain]):
        skipped[OPENSSL] = "OpenSSL 3.0 (Debian 12) has no ML-DSA"
    elif certificate != chain[-1] and _self_signed(certificate):
        skipped[OPENSSL] = "OpenSSL takes a self-signed leaf for an untrusted root"
    san_forms = _san_forms(certificate)
    for validator, unparsable in _UNPARSABLE_SAN_FORMS.items():
        if san_forms & unparsable:
            skipped[validator] = (
                f"{validator} cannot parse {', '.join(sorted(san_forms & unparsable))} names"
            )
    constraints = _constraints(chain)
    for validator, forms in _IMPLEMENTED_FORMS.items():
        if validator in skipped:
            continue
        unsupported = sorted({type(c).__name__ for c in constraints if not isinstance(c, forms)})
        if unsupported:
            skipped[validator] = (
                f"{validator} does not implement name constraints of the forms "
                f"{', '.join(unsupported)}"
            )
        elif any(isinstance(c, x509.DNSName) and c.value.startswith(".") for c in constraints):
            skipped[validator] = f"{validator} refuses leading-period dNSName constraints"
    return skipped


def _validation_time(certificates: list[x509.Certificate]) -> datetime:
    """A moment every certificate of the path is valid at: the latest notBefore."""
    return max(c.not_valid_before_utc for c in certificates)


def _with_cryptography(
    certificate: x509.Certificate, chain: list[x509.Certificate], at: datetime
) -> None:
    # The chain is judged as a chain, whatever the leaf is for: no EKU, SAN or key usage
    # profile (the web PKI defaults would refuse CA and code-signing leaves), but
    # basicConstraints on CA certificates, signatures, validity, path length and name
    # constraints as cryptography always enforces them.
    anything = verification.ExtensionPolicy.permit_all()
    ca_policy = anything.require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
    )
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store([chain[-1]]))
        .time(at)
        .extension_policies(ca_policy=ca_policy, ee_policy=anything)
        .build_client_verifier()
    )
    if certificate == chain[-1]:
        return  # a root fetched as its own chain: nothing to build
    verifier.verify(certificate, chain[:-1])


def _pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certificates)


def _with_openssl(
    certificate: x509.Certificate, chain: list[x509.Certificate], at: datetime, *, strict: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "root.pem").write_bytes(_pem(chain[-1:]))
        (tmp / "untrusted.pem").write_bytes(_pem(chain[:-1]))
        (tmp / "leaf.pem").write_bytes(_pem([certificate]))
        args = ["openssl", "verify", "-attime", str(int(at.timestamp()))]
        if strict:
            args.append("-x509_strict")
        args += ["-CAfile", str(tmp / "root.pem")]
        if len(chain) > 1:
            args += ["-untrusted", str(tmp / "untrusted.pem")]
        completed = subprocess.run(
            [*args, str(tmp / "leaf.pem")], capture_output=True, text=True, timeout=60
        )
    if completed.returncode != 0:
        raise AssertionError((completed.stdout + completed.stderr).strip())


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _root_constraints(root: asn1_x509.Certificate) -> PKIXValidationParams:
    """The root's own name constraints as the initial permitted/excluded subtrees (RFC 5937).

    RFC 5280 6.1 does not process a trust anchor's extensions, so pyhanko-certvalidator would
    ignore the root's constraints; AWS, pica, OpenSSL and cryptography apply them.
    """
    permitted = default_permitted_subtrees()
    excluded = default_excluded_subtrees()
    value = root.name_constraints_value
    if value is not None:
        if isinstance(value["permitted_subtrees"], asn1_x509.GeneralSubtrees):
            permitted.update(process_general_subtrees(value["permitted_subtrees"]))
        if isinstance(value["excluded_subtrees"], asn1_x509.GeneralSubtrees):
            for kind, trees in process_general_subtrees(value["excluded_subtrees"]).items():
                excluded[kind] |= trees
    return PKIXValidationParams(
        initial_permitted_subtrees=permitted, initial_excluded_subtrees=excluded
    )


def _with_pyhanko(
    certificate: x509.Certificate, chain: list[x509.Certificate], at: datetime
) -> None:
    root = _asn1(chain[-1])
    context = ValidationContext(
        trust_roots=[root], moment=at, allow_fetching=False, revocation_mode="soft-fail"
    )
    validator = CertificateValidator(
        _asn1(certificate),
        intermediate_certs=[_asn1(c) for c in chain[:-1]],
        validation_context=context,
        pkix_params=_root_constraints(root),
    )
    asyncio.run(validator.async_validate_path())


def chain_failures(
    certificate: x509.Certificate, chain: list[x509.Certificate], *, strict: bool = True
) -> dict[str, str]:
    """Each validator that refuses the chain, with its reason; empty when all accept it.

    `chain` is the issuer first and the root (the trust anchor) last, as GetCertificate
    returns it. `strict=False` drops OpenSSL's -x509_strict (for certificates pica signs in
    `lint_findings = "record"` mode, which AWS signs although RFC 5280 forbids them).
    """
    at = _validation_time([certificate, *chain])
    skipped = skipped_validators(certificate, chain)
    failures: dict[str, str] = {}
    checks: dict[str, Callable[[], None]] = {
        CRYPTOGRAPHY: lambda: _with_cryptography(certificate, chain, at),
        OPENSSL: lambda: _with_openssl(certificate, chain, at, strict=strict),
        PYHANKO: lambda: _with_pyhanko(certificate, chain, at),
    }
    for name, check in checks.items():
        if name in skipped:
            continue
        try:
            check()
        except Exception as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
    return failures


def assert_chain_valid(
    certificate: x509.Certificate | str, chain: list[x509.Certificate] | str, *, strict: bool = True
) -> None:
    """Fail the test unless every applicable validator accepts `certificate` with `chain`."""
    leaf = (
        x509.load_pem_x509_certificate(certificate.encode())
        if isinstance(certificate, str)
        else certificate
    )
    path = x509.load_pem_x509_certificates(chain.encode()) if isinstance(chain, str) else chain
    failures = chain_failures(leaf, path, strict=strict)
    if failures:
        details = "; ".join(f"{name}: {reason}" for name, reason in failures.items())
        raise AssertionError(f"chain of {leaf.subject.rfc4514_string()!r} refused: {details}")


def watch_client(client: Any, *, strict: bool = True) -> Any:
    """Validate every certificate chain a GetCertificate call on `client` returns."""

    def after_get_certificate(parsed: dict[str, Any], **_: Any) -> None:
        if "Certificate" in parsed and "CertificateChain" in parsed:
            assert_chain_valid(parsed["Certificate"], parsed["CertificateChain"], strict=strict)

    client.meta.events.register("after-call.acm-pca.GetCertificate", after_get_certificate)
    return client
