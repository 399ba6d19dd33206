"""pica's structural RFC 5280 rules, run on every certificate before the CA key signs it.

The rules whose violation makes a certificate wrong in any PKI: empty subject without a critical
SAN, SKI/AKI, the basicConstraints/keyUsage/extendedKeyUsage coherence, validity inside the
issuer's, the serial. They read the TBS once (`tbs.read_tbs`) and cost tens of microseconds, so
they run on every certificate, including the fixed-shape templates' fast path. None of them
reads the signature, so the throwaway signature does not change what they find.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography import x509

from pica.authority.lint.finding import ERROR, Finding
from pica.authority.lint.tbs import (
    AUTHORITY_KEY_IDENTIFIER,
    BASIC_CONSTRAINTS,
    SUBJECT_ALT_NAME,
    SUBJECT_KEY_IDENTIFIER,
    Tbs,
    read_tbs,
)

_SIGNATURE_ONLY_BITS = frozenset(
    {"digital_signature", "non_repudiation", "key_cert_sign", "crl_sign"}
)
_ALL_BITS = _SIGNATURE_ONLY_BITS | {
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "encipher_only",
    "decipher_only",
}
# keyUsage bits each subject key type may assert, by SPKI algorithm OID.
_ALLOWED_KEY_USAGE: dict[str, tuple[str, frozenset[str]]] = {
    # RFC 3279 2.3.1 and RFC 4055 1.2: RSA keys sign and encipher, they do not agree keys.
    "1.2.840.113549.1.1.1": (
        "RSA",
        _ALL_BITS - {"key_agreement", "encipher_only", "decipher_only"},
    ),
    "1.2.840.113549.1.1.10": ("RSA-PSS", _SIGNATURE_ONLY_BITS),
    # RFC 5480 3 and RFC 8813 3: EC keys sign and agree keys, they never encipher.
    "1.2.840.10045.2.1": ("EC", _ALL_BITS - {"key_encipherment", "data_encipherment"}),
    # RFC 9881 5 (ML-DSA) and RFC 8410 5 (Ed25519, Ed448): signature keys only.
    "2.16.840.1.101.3.4.3.17": ("ML-DSA-44", _SIGNATURE_ONLY_BITS),
    "2.16.840.1.101.3.4.3.18": ("ML-DSA-65", _SIGNATURE_ONLY_BITS),
    "2.16.840.1.101.3.4.3.19": ("ML-DSA-87", _SIGNATURE_ONLY_BITS),
    "1.3.101.112": ("Ed25519", _SIGNATURE_ONLY_BITS),
    "1.3.101.113": ("Ed448", _SIGNATURE_ONLY_BITS),
}

_MAX_SERIAL_OCTETS = 20


@dataclass(frozen=True)
class _Context:
    tbs: Tbs
    issuer: x509.Certificate | None
    is_ca: bool

    def present(self, oid: str) -> bool:
        return oid in self.tbs.critical

    def is_ca_true(self) -> bool:
        return self.tbs.basic_constraints is not None and self.tbs.basic_constraints[0]


def _issuer_subject_key_identifier(issuer: x509.Certificate) -> bytes | None:
    try:
        return issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def _error(code: str, message: str) -> Finding:
    return Finding(f"pica.{code}", ERROR, message)


Rule = Callable[[_Context], Iterator[Finding]]


def _serial(ctx: _Context) -> Iterator[Finding]:
    """RFC 5280 4.1.2.2: a positive integer of at most 20 octets."""
    if ctx.tbs.serial <= 0:
        yield _error("serial_not_positive", f"The serial number {ctx.tbs.serial} is not positive.")
    if ctx.tbs.serial_octets > _MAX_SERIAL_OCTETS:
        yield _error(
            "serial_too_long",
            f"The serial number takes {ctx.tbs.serial_octets} octets; at most 20 are allowed.",
        )


def _validity(ctx: _Context) -> Iterator[Finding]:
    """A certificate cannot outlive, or predate, the certificate that vouches for it."""
    tbs = ctx.tbs
    if tbs.not_before >= tbs.not_after:
        yield _error(
            "validity_not_increasing",
            f"notBefore {tbs.not_before.isoformat()} is not before notAfter "
            f"{tbs.not_after.isoformat()}.",
        )
    if ctx.issuer is None:
        return
    if tbs.not_before < ctx.issuer.not_valid_before_utc:
        yield _error(
            "validity_starts_before_issuer",
            f"notBefore {tbs.not_before.isoformat()} is earlier than the issuer certificate's "
            f"{ctx.issuer.not_valid_before_utc.isoformat()}.",
        )
    if tbs.not_after > ctx.issuer.not_valid_after_utc:
        yield _error(
            "validity_ends_after_issuer",
            f"notAfter {tbs.not_after.isoformat()} is later than the issuer certificate's "
            f"{ctx.issuer.not_valid_after_utc.isoformat()}.",
        )


def _names(ctx: _Context) -> Iterator[Finding]:
    """RFC 5280 4.1.2.4 and 4.2.1.6: a non-empty issuer that chains; an empty subject only with
    a critical SAN (the SAN is then the certificate's only identity)."""
    if ctx.tbs.issuer_empty:
        yield _error("issuer_name_empty", "The issuer name is empty.")
    if not ctx.tbs.issuer_matches:
        yield _error(
            "issuer_name_mismatch",
            "The issuer name is not the issuing certificate's subject."
            if ctx.issuer is not None
            else "A self-signed certificate's issuer name must be its subject name.",
        )
    if ctx.tbs.subject_empty and not ctx.tbs.critical.get(SUBJECT_ALT_NAME, False):
        yield _error(
            "empty_subject_requires_critical_san",
            "The subject is empty, so a critical subjectAltName extension is required"
            + (" (it is not critical)." if ctx.present(SUBJECT_ALT_NAME) else "."),
        )


def _extensions(ctx: _Context) -> Iterator[Finding]:
    """RFC 5280 4.2: each extension at most once; the ones pica reads must decode."""
    for oid in ctx.tbs.duplicates:
        yield _error("duplicate_extension", f"The extension {oid} appears more than once.")
    for oid in ctx.tbs.undecodable:
        yield _error("extension_undecodable", f"The extension {oid} cannot be decoded.")


def _key_identifiers(ctx: _Context) -> Iterator[Finding]:
    """RFC 5280 4.2.1.1-2: SKI and AKI (with a keyIdentifier) present and non-critical, the AKI
    naming the issuer's key, so that chains build without guessing."""
    tbs = ctx.tbs
    if not ctx.present(SUBJECT_KEY_IDENTIFIER):
        yield _error("subject_key_identifier_missing", "The subjectKeyIdentifier is missing.")
    elif tbs.critical[SUBJECT_KEY_IDENTIFIER]:
        yield _error("subject_key_identifier_critical", "The subjectKeyIdentifier is critical.")
    if not ctx.present(AUTHORITY_KEY_IDENTIFIER):
        if ctx.issuer is not None:
            yield _error(
                "authority_key_identifier_missing", "The authorityKeyIdentifier is missing."
            )
        return
    if tbs.critical[AUTHORITY_KEY_IDENTIFIER]:
        yield _error("authority_key_identifier_critical", "The authorityKeyIdentifier is critical.")
    if AUTHORITY_KEY_IDENTIFIER in tbs.undecodable:
        return
    if tbs.authority_key_identifier is None:
        yield _error(
            "authority_key_identifier_without_key_id",
            "The authorityKeyIdentifier has no keyIdentifier.",
        )
        return
    expected = (
        tbs.subject_key_identifier
        if ctx.issuer is None
        else _issuer_subject_key_identifier(ctx.issuer)
    )
    if expected is not None and expected != tbs.authority_key_identifier:
        yield _error(
            "authority_key_identifier_mismatch",
            f"The authorityKeyIdentifier {tbs.authority_key_identifier.hex()} is not the "
            f"issuer's subjectKeyIdentifier {expected.hex()}.",
        )


def _ca_coherence(ctx: _Context) -> Iterator[Finding]:
    """RFC 5280 4.2.1.3 and 4.2.1.9: basicConstraints, keyCertSign and pathLen agree, or relying
    parties disagree about whether the key may sign certificates."""
    tbs = ctx.tbs
    ca_true = ctx.is_ca_true()
    key_cert_sign = tbs.key_usage is not None and "key_cert_sign" in tbs.key_usage
    if ctx.is_ca and not ca_true:
        yield _error(
            "ca_requires_basic_constraints",
            "A CA certificate needs a basicConstraints extension asserting cA.",
        )
    if ca_true and not tbs.critical[BASIC_CONSTRAINTS]:
        yield _error(
            "basic_constraints_ca_not_critical",
            "basicConstraints asserts cA, so it must be critical.",
        )
    if ca_true and not key_cert_sign:
        yield _error(
            "ca_requires_key_cert_sign",
            "basicConstraints asserts cA, so a keyUsage extension asserting keyCertSign is "
            "required.",
        )
    if key_cert_sign and not ca_true:
        yield _error(
            "key_cert_sign_requires_ca",
            "keyUsage asserts keyCertSign, so basicConstraints must assert cA.",
        )
    if tbs.basic_constraints is not None and tbs.basic_constraints[1] is not None and not ca_true:
        yield _error(
            "path_length_requires_ca",
            "basicConstraints has a pathLenConstraint but does not assert cA.",
        )


def _usages(ctx: _Context) -> Iterator[Finding]:
    """RFC 5280 4.2.1.3 and 4.2.1.12, RFC 5480/8813, RFC 9881, RFC 8410: usage extensions say
    something, and only what the subject key can do."""
    tbs = ctx.tbs
    if tbs.extended_key_usage_count == 0:
        yield _error("extended_key_usage_empty", "The extendedKeyUsage lists no purpose.")
    if tbs.key_usage is None:
        return
    if not tbs.key_usage:
        yield _error("key_usage_empty", "The keyUsage extension asserts no bit.")
    if {"encipher_only", "decipher_only"} & tbs.key_usage and "key_agreement" not in tbs.key_usage:
        yield _error(
            "encipher_decipher_only_requires_key_agreement",
            "encipherOnly and decipherOnly are meaningful only with keyAgreement.",
        )
    allowed = _ALLOWED_KEY_USAGE.get(tbs.key_algorithm)
    if allowed is not None:
        kind, bits = allowed
        prohibited = sorted(tbs.key_usage - bits)
        if prohibited:
            yield _error(
                "key_usage_prohibited_for_key_type",
                f"keyUsage asserts {', '.join(prohibited)}, which a {kind} key cannot do.",
            )


_RULES: tuple[Rule, ...] = (
    _serial,
    _validity,
    _names,
    _extensions,
    _key_identifiers,
    _ca_coherence,
    _usages,
)


def structural_findings(
    certificate: x509.Certificate | None,
    issuer: x509.Certificate | None,
    *,
    is_ca: bool = False,
    tbs: Tbs | None = None,
) -> list[Finding]:
    """The built-in RFC 5280 rules over a certificate; an empty list when it conforms.

    `issuer` is the issuing CA's certificate, None for a self-signed certificate. `is_ca` says
    the certificate is meant to be a CA certificate (then basicConstraints must assert cA).
    `tbs`, when given, is the certificate already read (`tbs.read_parts`); `certificate` is
    then not read and may be None.
    """
    if tbs is None:
        if certificate is None:
            raise ValueError("structural_findings needs the certificate or its tbs")
        tbs = read_tbs(certificate, issuer)
    context = _Context(tbs, issuer, is_ca)
    return [finding for rule in _RULES for finding in rule(context)]
