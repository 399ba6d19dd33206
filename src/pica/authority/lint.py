"""The lint gate: the certificate pica is about to sign is checked before the CA key signs it.

A certificate that breaks RFC 5280 cannot be recalled once signed (it can only be revoked), so
issuance asks `LintGate.check` about the unsigned `x509.CertificateBuilder` right before the CA
key signs it. A request that would produce a non-conforming certificate is refused with
`InvalidArgs` naming every finding, and nothing is signed.

Two layers, because they cost very different amounts:

- Structural rules (`structural_findings`): the RFC 5280 rules whose violation makes a
  certificate wrong in any PKI (empty subject without a critical SAN, SKI/AKI, the
  basicConstraints/keyUsage/extendedKeyUsage coherence, validity inside the issuer's, the
  serial). They read the TBS once and cost tens of microseconds, so they run on every
  certificate, including the fixed-shape templates' fast path.
- pkilint's PKIX certificate validators: hundreds of checks over every field (general name
  syntax, policy qualifiers, extension encodings...), two to three milliseconds a certificate.
  They run where the caller shapes the content: passthrough and Blank templates and CA
  certificates (`LintMode.SHAPED`, the default), or on every certificate (`LintMode.ALL`).

What a finding does depends on `FindingsMode`. `REFUSE` (the default) refuses on any finding.
`RECORD` signs what AWS Private CA would sign: only the findings that break a rule AWS itself
enforces (`AWS_RULES`: the issuer's notAfter, basicConstraints) still refuse; the others are
handed back to issuance, which records them once the certificate is stored. The rules AWS
enforces outside this gate (path length, name constraints, validity) are checked by issuance
in both modes.

A builder cannot be serialised without signing it, so the gate signs the very same builder with
a throwaway key, as Let's Encrypt's Boulder does before zlint. The issuer name, AKI and every
other TBS field stay the real ones; only the signature is worthless. Neither the structural rules
nor pkilint's certificate validators verify the signature (one pkilint exception is handled in
`_TOLERATED`), so the findings are those of the certificate the CA key would sign.
"""

from __future__ import annotations

import enum
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from pkilint import loader
from pkilint.pkix import certificate as pkix_certificate
from pkilint.pkix import extension as pkix_extension
from pkilint.pkix import name as pkix_name
from pkilint.validation import ValidationFindingSeverity

from pica.authority.algorithms import (
    SM2_UNAVAILABLE,
    KeyFamily,
    SignatureScheme,
    generate_private_key,
    signature_scheme,
)
from pica.authority.model import KeyAlgorithm, SigningAlgorithm
from pica.authority.signing import sign_certificate
from pica.errors import InvalidArgs, LintRejected

# cryptography 51 deprecates DSA, and pkilint's check of a self-issued certificate's signature
# still reaches the DSA names, warning on every certificate: not something pica or its user can
# act on, so it is not shown (pyproject.toml's pytest filters say the same for the tests).
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
)

ERROR = "ERROR"
REFUSAL_PREFIX = "The certificate would not conform to RFC 5280: "


class FindingsMode(enum.StrEnum):
    """What a lint finding does: refuse the request, or let AWS-compatible issuance sign it
    and record the finding."""

    REFUSE = "refuse"
    RECORD = "record"


class LintMode(enum.StrEnum):
    """Where pkilint runs. The structural rules run on every certificate whatever the mode."""

    SHAPED = "shaped"  # certificates whose content the caller shapes (passthrough, Blank, CA)
    ALL = "all"  # every certificate
    OFF = "off"  # never (structural rules only)


@dataclass(frozen=True)
class Finding:
    """One reason to refuse: a stable code (`pica.*` or pkilint's), its severity, and why."""

    code: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} ({self.severity}): {self.message}"


# Structural findings that break a rule AWS Private CA enforces itself ("RFC compliance"): the
# issuer's notAfter, and basicConstraints. They refuse in every FindingsMode. Everything else
# (keyUsage coherence, SKI/AKI, which AWS documents it does not enforce, pkilint) is lint.
AWS_RULES = frozenset(
    {
        "pica.validity_ends_after_issuer",
        "pica.ca_requires_basic_constraints",
        "pica.basic_constraints_ca_not_critical",
        "pica.path_length_requires_ca",
    }
)


def refusal_message(findings: tuple[Finding, ...] | list[Finding]) -> str:
    return REFUSAL_PREFIX + "; ".join(str(finding) for finding in findings)


# --- throwaway keys ------------------------------------------------------------------------------

_THROWAWAY_LOCK = threading.Lock()
_THROWAWAY_KEYS: dict[KeyFamily, CertificateIssuerPrivateKeyTypes] = {}


# The key algorithm whose key stands in for each family's throwaway signer.
_THROWAWAY_ALGORITHM = {
    KeyFamily.RSA: KeyAlgorithm.RSA_2048,
    KeyFamily.ECDSA: KeyAlgorithm.EC_prime256v1,
    KeyFamily.ML_DSA_44: KeyAlgorithm.ML_DSA_44,
    KeyFamily.ML_DSA_65: KeyAlgorithm.ML_DSA_65,
    KeyFamily.ML_DSA_87: KeyAlgorithm.ML_DSA_87,
    KeyFamily.SM2: KeyAlgorithm.SM2,
}


def _generate_throwaway(family: KeyFamily) -> CertificateIssuerPrivateKeyTypes:
    return generate_private_key(_THROWAWAY_ALGORITHM[family])


def throwaway_key(family: KeyFamily) -> CertificateIssuerPrivateKeyTypes:
    """One key per family per process, made on first use: it signs nothing anyone will verify.

    The smallest key of the family is enough (RSA-2048, P-256): the signatureAlgorithm field
    depends on the family, hash and padding, never on the key size or curve.
    """
    key = _THROWAWAY_KEYS.get(family)
    if key is None:
        with _THROWAWAY_LOCK:
            key = _THROWAWAY_KEYS.get(family)
            if key is None:
                key = _THROWAWAY_KEYS[family] = _generate_throwaway(family)
    return key


# The structural rules never read the signature algorithm, so when pkilint does not run the TBS
# is serialised with the cheapest signature (P-256: ~30 µs, against ~230 µs for RSA-2048 and
# ~500-800 µs for ML-DSA), whatever the CA's own algorithm.
_FAST_SCHEME = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)


def throwaway_sign(builder: x509.CertificateBuilder, scheme: SignatureScheme) -> x509.Certificate:
    """The builder signed with the throwaway key of the scheme's family, hash and padding."""
    return sign_certificate(builder, throwaway_key(scheme.family), scheme)


# --- structural rules ----------------------------------------------------------------------------

_BASIC_CONSTRAINTS = "2.5.29.19"
_KEY_USAGE = "2.5.29.15"
_EXTENDED_KEY_USAGE = "2.5.29.37"
_SUBJECT_ALT_NAME = "2.5.29.17"
_SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
_AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"
_DECODED = (
    _BASIC_CONSTRAINTS,
    _KEY_USAGE,
    _EXTENDED_KEY_USAGE,
    _SUBJECT_KEY_IDENTIFIER,
    _AUTHORITY_KEY_IDENTIFIER,
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
_E = TypeVar("_E", bound=x509.ExtensionType)


@dataclass(frozen=True)
class _Tbs:
    """What the structural rules need from the TBS, read once."""

    serial: int
    serial_octets: int
    not_before: datetime
    not_after: datetime
    subject_empty: bool
    issuer_empty: bool
    issuer_matches: bool  # the issuer field names the issuer certificate's subject (or itself)
    key_algorithm: str
    critical: dict[str, bool]
    duplicates: tuple[str, ...]
    undecodable: tuple[str, ...]
    basic_constraints: tuple[bool, int | None] | None
    key_usage: frozenset[str] | None
    extended_key_usage_count: int | None
    subject_key_identifier: bytes | None
    authority_key_identifier: bytes | None


@dataclass(frozen=True)
class _Context:
    tbs: _Tbs
    issuer: x509.Certificate | None
    is_ca: bool

    def present(self, oid: str) -> bool:
        return oid in self.tbs.critical

    def is_ca_true(self) -> bool:
        return self.tbs.basic_constraints is not None and self.tbs.basic_constraints[0]


def _read_tbs(certificate: x509.Certificate, issuer: x509.Certificate | None) -> _Tbs:
    """cryptography's parse (Rust, ~10 µs) when it accepts the extensions; asn1crypto otherwise.

    cryptography refuses contents a caller-shaped certificate may carry: EDIPartyName and
    x400Address general names (legitimate), empty SEQUENCEs, duplicate or undecodable
    extensions (defects the rules must name rather than crash on).
    """
    try:
        return _read_with_cryptography(certificate, issuer)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return _read_with_asn1crypto(certificate.public_bytes(Encoding.DER), issuer)


def _key_usage_bits(usage: x509.KeyUsage) -> frozenset[str]:
    bits = {
        "digital_signature": usage.digital_signature,
        "non_repudiation": usage.content_commitment,
        "key_encipherment": usage.key_encipherment,
        "data_encipherment": usage.data_encipherment,
        "key_agreement": usage.key_agreement,
        "key_cert_sign": usage.key_cert_sign,
        "crl_sign": usage.crl_sign,
    }
    if usage.key_agreement:  # cryptography leaves these undefined without keyAgreement
        bits["encipher_only"] = usage.encipher_only
        bits["decipher_only"] = usage.decipher_only
    return frozenset(name for name, asserted in bits.items() if asserted)


def _read_with_cryptography(certificate: x509.Certificate, issuer: x509.Certificate | None) -> _Tbs:
    extensions = certificate.extensions
    critical = {extension.oid.dotted_string: extension.critical for extension in extensions}
    basic = _value(extensions, x509.BasicConstraints)
    usage = _value(extensions, x509.KeyUsage)
    eku = _value(extensions, x509.ExtendedKeyUsage)
    ski = _value(extensions, x509.SubjectKeyIdentifier)
    aki = _value(extensions, x509.AuthorityKeyIdentifier)
    serial = certificate.serial_number
    issuer_der = certificate.issuer.public_bytes()
    expected_issuer = (certificate.subject if issuer is None else issuer.subject).public_bytes()
    return _Tbs(
        serial=serial,
        serial_octets=(abs(serial).bit_length() + 8) // 8,  # DER INTEGER: room for a sign bit
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        subject_empty=len(certificate.subject) == 0,
        issuer_empty=len(certificate.issuer) == 0,
        issuer_matches=issuer_der == expected_issuer
        or _same_name(asn1_x509.Name.load(issuer_der), expected_issuer),
        key_algorithm=certificate.public_key_algorithm_oid.dotted_string,
        critical=critical,
        duplicates=(),
        undecodable=(),
        basic_constraints=None if basic is None else (basic.ca, basic.path_length),
        key_usage=None if usage is None else _key_usage_bits(usage),
        extended_key_usage_count=None if eku is None else len(list(eku)),
        subject_key_identifier=None if ski is None else ski.digest,
        authority_key_identifier=None if aki is None else aki.key_identifier,
    )


def _value(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _read_with_asn1crypto(certificate_der: bytes, issuer: x509.Certificate | None) -> _Tbs:
    tbs = asn1_x509.Certificate.load(certificate_der)["tbs_certificate"]
    critical: dict[str, bool] = {}
    duplicates: list[str] = []
    values: dict[str, object] = {}
    undecodable: list[str] = []
    for extension in tbs["extensions"]:
        oid = str(extension["extn_id"].dotted)
        if oid in critical:
            duplicates.append(oid)
            continue
        critical[oid] = bool(extension["critical"].native)
        if oid in _DECODED:
            try:
                values[oid] = extension["extn_value"].parsed.native
            except ValueError:
                undecodable.append(oid)
    basic = values.get(_BASIC_CONSTRAINTS)
    key_usage = values.get(_KEY_USAGE)
    eku = values.get(_EXTENDED_KEY_USAGE)
    ski = values.get(_SUBJECT_KEY_IDENTIFIER)
    aki = values.get(_AUTHORITY_KEY_IDENTIFIER)
    aki_id = aki.get("key_identifier") if isinstance(aki, dict) else None
    return _Tbs(
        serial=int(tbs["serial_number"].native),
        serial_octets=len(tbs["serial_number"].contents),
        not_before=tbs["validity"]["not_before"].native,
        not_after=tbs["validity"]["not_after"].native,
        subject_empty=len(tbs["subject"].chosen) == 0,
        issuer_empty=len(tbs["issuer"].chosen) == 0,
        issuer_matches=_same_name(
            tbs["issuer"],
            tbs["subject"].dump() if issuer is None else issuer.subject.public_bytes(),
        ),
        key_algorithm=_key_algorithm(tbs),
        critical=critical,
        duplicates=tuple(duplicates),
        undecodable=tuple(undecodable),
        basic_constraints=(
            (bool(basic.get("ca")), basic.get("path_len_constraint"))
            if isinstance(basic, dict)
            else None
        ),
        key_usage=frozenset(key_usage) if isinstance(key_usage, set) else None,
        extended_key_usage_count=len(eku) if isinstance(eku, list) else None,
        subject_key_identifier=ski if isinstance(ski, bytes) else None,
        authority_key_identifier=aki_id if isinstance(aki_id, bytes) else None,
    )


def _same_name(name: asn1_x509.Name, other_der: bytes) -> bool:
    """RFC 5280 7.1 name matching; identical encodings (what pica writes) skip the costly
    string preparation."""
    return bool(name.dump() == other_der or name == asn1_x509.Name.load(other_der))


def _key_algorithm(tbs: asn1_x509.TbsCertificate) -> str:
    """The SPKI algorithm OID, read generically: asn1crypto has no spec for ML-DSA keys and
    refuses to parse their SubjectPublicKeyInfo as one."""
    spki = asn1_core.load(tbs["subject_public_key_info"].dump())
    return str(spki[0][0].dotted)


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
    if ctx.tbs.subject_empty and not ctx.tbs.critical.get(_SUBJECT_ALT_NAME, False):
        yield _error(
            "empty_subject_requires_critical_san",
            "The subject is empty, so a critical subjectAltName extension is required"
            + (" (it is not critical)." if ctx.present(_SUBJECT_ALT_NAME) else "."),
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
    if not ctx.present(_SUBJECT_KEY_IDENTIFIER):
        yield _error("subject_key_identifier_missing", "The subjectKeyIdentifier is missing.")
    elif tbs.critical[_SUBJECT_KEY_IDENTIFIER]:
        yield _error("subject_key_identifier_critical", "The subjectKeyIdentifier is critical.")
    if not ctx.present(_AUTHORITY_KEY_IDENTIFIER):
        if ctx.issuer is not None:
            yield _error(
                "authority_key_identifier_missing", "The authorityKeyIdentifier is missing."
            )
        return
    if tbs.critical[_AUTHORITY_KEY_IDENTIFIER]:
        yield _error("authority_key_identifier_critical", "The authorityKeyIdentifier is critical.")
    if _AUTHORITY_KEY_IDENTIFIER in tbs.undecodable:
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
    if ca_true and not tbs.critical[_BASIC_CONSTRAINTS]:
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
    certificate: x509.Certificate, issuer: x509.Certificate | None, *, is_ca: bool = False
) -> list[Finding]:
    """The built-in RFC 5280 rules over a certificate; an empty list when it conforms.

    `issuer` is the issuing CA's certificate, None for a self-signed certificate. `is_ca` says
    the certificate is meant to be a CA certificate (then basicConstraints must assert cA).
    """
    context = _Context(_read_tbs(certificate, issuer), issuer, is_ca)
    return [finding for rule in _RULES for finding in rule(context)]


# --- pkilint -------------------------------------------------------------------------------------

_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:"  # scheme ":"
    r"(?:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+"  # unreserved, reserved, pct-encoded
)
_LDH_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_DOMAIN_LENGTH = 253


def _is_rfc3986_absolute_uri(value: str) -> bool:
    """A URI with a scheme and a non-empty scheme-specific part in RFC 3986 characters."""
    return _URI.fullmatch(value) is not None


def _is_host_name(value: str, *, wildcard: bool) -> bool:
    """RFC 1034 3.5 / RFC 1123 2.1 LDH labels (a single label included), optionally with a
    leftmost `*` label (RFC 9525 6.3), and a last label that is not all digits (RFC 3696 2)."""
    labels = value.split(".")
    if wildcard and len(labels) > 1 and labels[0] == "*":
        labels = labels[1:]
    return (
        len(value) <= _MAX_DOMAIN_LENGTH
        and all(_LDH_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


# Whether a pkilint finding is set aside, from the flagged node's value and path and whether the
# certificate is self-signed.
Tolerance = Callable[[str, str, bool], bool]


# pkilint ERRORs that are not RFC 5280 violations for a private PKI, or that the throwaway
# signature causes. The one place where a pkilint finding is set aside; each entry re-checks the
# value against the RFC instead of dropping the code wholesale.
_TOLERATED: dict[str, Tolerance] = {
    # pkilint checks URIs with the `validators` package's web-URL test, which refuses any
    # scheme but web ones (spiffe:, urn:, mailto:) and single-label hosts
    # (http://localhost:8080, http://pica:8080). RFC 5280 4.2.1.6 asks for RFC 3986 syntax with
    # a scheme and a scheme-specific part; that is re-checked here.
    "pkix.invalid_uri_syntax": lambda value, _path, _self_signed: _is_rfc3986_absolute_uri(value),
    # pkilint checks dNSNames with `validators.domain`, which wants a public-looking TLD: it
    # refuses single-label intranet names (`localhost`, `build01`) and wildcards (`*.example`).
    # RFC 5280 4.2.1.6 asks for RFC 1034 preferred name syntax (single labels included); RFC
    # 9525 allows a leftmost `*` label in a SAN (not in name constraints).
    "pkix.invalid_domain_name_syntax": lambda value, path, _self_signed: _is_host_name(
        value, wildcard="nameConstraints" not in path
    ),
    # pkilint accepts a self-issued CA certificate without AKI only when its signature verifies
    # with its own key, which the throwaway signature never does. RFC 5280 4.2.1.1 lets a
    # self-signed certificate omit the AKI; the structural rules require it everywhere else.
    "pkix.authority_key_identifier_extension_absent": lambda _value, _path, self_signed: (
        self_signed
    ),
}


def _node_value(node: object) -> str:
    """The flagged node's value as text; "" (so no tolerance applies) when it has none."""
    try:
        return str(getattr(node, "pdu", ""))
    except Exception:  # pyasn1 refuses str() of unset values; then nothing is tolerated
        return ""


def _short_path(path: str) -> str:
    return path.removeprefix("certificate.").removeprefix("tbsCertificate.")


class _Pkilint:
    """pkilint's RFC 5280 certificate validators, assembled once as its `lint_pkix_cert` does.

    Validators keep no per-document state (results live in the document each call creates), so
    one instance serves every thread of the issuance threadpool.
    """

    def __init__(self) -> None:
        self._loader = loader.RFC5280CertificateDocumentLoader()
        self._validator = pkix_certificate.create_pkix_certificate_validator_container(
            pkix_certificate.create_decoding_validators(
                pkix_name.ATTRIBUTE_TYPE_MAPPINGS, pkix_extension.EXTENSION_MAPPINGS
            ),
            [
                pkix_certificate.create_issuer_validator_container([]),
                pkix_certificate.create_validity_validator_container(),
                pkix_certificate.create_subject_validator_container([]),
                pkix_certificate.create_extensions_validator_container([]),
                pkix_certificate.create_spki_validator_container([]),
            ],
        )

    def findings(self, certificate_der: bytes, *, self_signed: bool) -> list[Finding]:
        """Findings of severity ERROR and FATAL; WARNING and below never refuse a request."""
        try:
            document = self._loader.load_der_document(certificate_der, "certificate")
        except ValueError as exc:
            return [Finding("pica.pkilint_cannot_decode", ERROR, str(exc))]
        found: list[Finding] = []
        for result in self._validator.validate(document.root):
            for description in result.finding_descriptions:
                severity = description.finding.severity
                if severity > ValidationFindingSeverity.ERROR:
                    continue
                code = str(description.finding.code)
                path = str(result.node.path)
                tolerance = _TOLERATED.get(code)
                if tolerance is not None and tolerance(_node_value(result.node), path, self_signed):
                    continue
                message = str(description.message) if description.message else ""
                where = f"at {_short_path(path)}"
                found.append(
                    Finding(code, severity.name, f"{message} ({where})" if message else where)
                )
        return found


# --- the gate ------------------------------------------------------------------------------------


class LintGate:
    """Checks the certificate issuance is about to sign; one instance per process.

    pkilint's validator tree is assembled here, once, because building it per certificate would
    cost more than the lint itself.
    """

    def __init__(
        self, mode: LintMode = LintMode.SHAPED, findings: FindingsMode = FindingsMode.REFUSE
    ) -> None:
        self.mode = LintMode(mode)
        self.findings_mode = FindingsMode(findings)
        self._pkilint = _Pkilint() if self.mode is not LintMode.OFF else None

    def runs_pkilint(self, *, shaped: bool, is_ca: bool = False) -> bool:
        if self._pkilint is None:
            return False
        return self.mode is LintMode.ALL or shaped or is_ca

    def findings(
        self,
        builder: x509.CertificateBuilder,
        *,
        signing_algorithm: SigningAlgorithm,
        issuer: x509.Certificate | None,
        shaped: bool,
        is_ca: bool = False,
    ) -> tuple[Finding, ...]:
        """Every reason not to sign `builder`; empty when the certificate conforms.

        `signing_algorithm` is the one the CA key will sign with: when pkilint runs, the
        throwaway signature uses its family, hash and padding, so the signatureAlgorithm fields
        pkilint checks are the real ones. `issuer` is the issuing CA's certificate, None for a
        self-signed root. `shaped` says the caller decided part of the content (passthrough or
        Blank template); `is_ca` that the certificate is a CA certificate (the template's): both
        make pkilint run in SHAPED mode, and `is_ca` also requires basicConstraints cA.
        """
        scheme = signature_scheme(signing_algorithm)
        if scheme.family is KeyFamily.SM2:
            raise InvalidArgs(SM2_UNAVAILABLE)
        run_pkilint = self.runs_pkilint(shaped=shaped, is_ca=is_ca)
        certificate = throwaway_sign(builder, scheme if run_pkilint else _FAST_SCHEME)
        found = structural_findings(certificate, issuer, is_ca=is_ca)
        if run_pkilint:
            assert self._pkilint is not None
            der = certificate.public_bytes(Encoding.DER)
            found += self._pkilint.findings(der, self_signed=issuer is None)
        return tuple(found)

    def check(
        self,
        builder: x509.CertificateBuilder,
        *,
        signing_algorithm: SigningAlgorithm,
        issuer: x509.Certificate | None,
        shaped: bool,
        is_ca: bool = False,
    ) -> tuple[Finding, ...]:
        """Return if `builder` may be signed; raise InvalidArgs naming the findings if not.

        What it returns are the findings let through in `FindingsMode.RECORD`, for issuance to
        record; in `REFUSE` mode any finding refuses, so it returns an empty tuple.
        """
        found = self.findings(
            builder,
            signing_algorithm=signing_algorithm,
            issuer=issuer,
            shaped=shaped,
            is_ca=is_ca,
        )
        refusing = (
            found
            if self.findings_mode is FindingsMode.REFUSE
            else tuple(finding for finding in found if finding.code in AWS_RULES)
        )
        if refusing:
            raise LintRejected(refusal_message(refusing))
        return found
