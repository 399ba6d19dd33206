"""The fields of a to-be-signed certificate the structural rules read, read once.

Three readers give the same `Tbs`. Issuance's hot path reads the parts the builder was given
(`read_parts`), which are what the draft serialises: parsing the draft's extensions back costs
~100 µs. A draft alone is read by cryptography's parser when it accepts the extensions, and by
asn1crypto where it refuses them, so that the rules can name a defect rather than crash on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar, cast

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority.certificate_parts import CertificateParts

BASIC_CONSTRAINTS = "2.5.29.19"
KEY_USAGE = "2.5.29.15"
EXTENDED_KEY_USAGE = "2.5.29.37"
SUBJECT_ALT_NAME = "2.5.29.17"
SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_DECODED = (
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXTENDED_KEY_USAGE,
    SUBJECT_KEY_IDENTIFIER,
    AUTHORITY_KEY_IDENTIFIER,
)

_E = TypeVar("_E", bound=x509.ExtensionType)


@dataclass(frozen=True)
class Tbs:
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


def read_tbs(certificate: x509.Certificate, issuer: x509.Certificate | None) -> Tbs:
    """cryptography's parse (Rust, ~10 µs) when it accepts the extensions; asn1crypto otherwise.

    cryptography refuses contents a caller-shaped certificate may carry: EDIPartyName and
    x400Address general names (legitimate), empty SEQUENCEs, duplicate or undecodable
    extensions (defects the rules must name rather than crash on).
    """
    try:
        return read_with_cryptography(certificate, issuer)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return read_with_asn1crypto(certificate.public_bytes(Encoding.DER), issuer)


# The extension types `read_parts` reads a value from, as cryptography parses them back.
_PARSED_AS: frozenset[type[x509.ExtensionType]] = frozenset(
    {
        x509.BasicConstraints,
        x509.KeyUsage,
        x509.ExtendedKeyUsage,
        x509.SubjectKeyIdentifier,
        x509.AuthorityKeyIdentifier,
    }
)


def read_parts(
    parts: CertificateParts, draft: x509.Certificate | None, issuer: x509.Certificate | None
) -> Tbs | None:
    """The `Tbs` of the certificate `parts` make, read from the parts; None when only a parse
    of a draft can tell (an extension given as raw bytes, or an OID given twice, or, with no
    draft, a key whose SPKI algorithm is not known here).

    `draft`, when given, must be the builder of `parts` serialised; the key algorithm is read
    from it, since the SPKI's algorithm is cryptography's choice for the key object. Without
    one, RSA and EC keys are named by the algorithm cryptography always writes for them.
    """
    key_algorithm = (
        draft.public_key_algorithm_oid.dotted_string
        if draft is not None
        else _spki_algorithm(parts.public_key)
    )
    if key_algorithm is None:
        return None
    critical: dict[str, bool] = {}
    values: dict[type[x509.ExtensionType], x509.ExtensionType] = {}
    for extension in parts.extensions:
        value = extension.value
        kind = type(value)  # exact types: isinstance on cryptography's ABCs costs ~1 µs each
        oid = extension.oid.dotted_string
        if kind is x509.UnrecognizedExtension or oid in critical:
            return None
        critical[oid] = extension.critical
        if kind in _PARSED_AS:
            values[kind] = value
    basic = cast("x509.BasicConstraints | None", values.get(x509.BasicConstraints))
    usage = cast("x509.KeyUsage | None", values.get(x509.KeyUsage))
    eku = cast("x509.ExtendedKeyUsage | None", values.get(x509.ExtendedKeyUsage))
    ski = cast("x509.SubjectKeyIdentifier | None", values.get(x509.SubjectKeyIdentifier))
    aki = cast("x509.AuthorityKeyIdentifier | None", values.get(x509.AuthorityKeyIdentifier))
    serial, subject, issuer_name = parts.serial, parts.subject, parts.issuer
    if issuer is None:
        issuer_matches = issuer_name is subject or _names_match(issuer_name, subject.public_bytes())
    else:
        issuer_matches = _names_match(issuer_name, _subject_der(issuer))
    return _typed_tbs(
        serial=serial,
        not_before=_as_encoded(parts.not_before),
        not_after=_as_encoded(parts.not_after),
        subject=subject,
        issuer_name=issuer_name,
        issuer_matches=issuer_matches,
        key_algorithm=key_algorithm,
        critical=critical,
        values=(basic, usage, eku, ski, aki),
    )


def _spki_algorithm(public_key: CertificatePublicKeyTypes) -> str | None:
    """The SubjectPublicKeyInfo algorithm cryptography writes for `public_key`: rsaEncryption
    for every RSA key, id-ecPublicKey for every curve; None for other kinds (read a draft)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSA_ENCRYPTION
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return EC_PUBLIC_KEY
    return None


def _typed_tbs(
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    subject: x509.Name,
    issuer_name: x509.Name,
    issuer_matches: bool,
    key_algorithm: str,
    critical: dict[str, bool],
    values: tuple[
        x509.BasicConstraints | None,
        x509.KeyUsage | None,
        x509.ExtendedKeyUsage | None,
        x509.SubjectKeyIdentifier | None,
        x509.AuthorityKeyIdentifier | None,
    ],
) -> Tbs:
    """The `Tbs` of a certificate whose extensions cryptography's types hold (parsed back, or
    as given to the builder): neither has duplicates or undecodable values."""
    basic, usage, eku, ski, aki = values
    return Tbs(
        serial=serial,
        serial_octets=(abs(serial).bit_length() + 8) // 8,  # DER INTEGER: room for a sign bit
        not_before=not_before,
        not_after=not_after,
        subject_empty=len(subject) == 0,
        issuer_empty=len(issuer_name) == 0,
        issuer_matches=issuer_matches,
        key_algorithm=key_algorithm,
        critical=critical,
        duplicates=(),
        undecodable=(),
        basic_constraints=None if basic is None else (basic.ca, basic.path_length),
        key_usage=None if usage is None else _key_usage_bits(usage),
        extended_key_usage_count=None if eku is None else len(list(eku)),
        subject_key_identifier=None if ski is None else ski.digest,
        authority_key_identifier=None if aki is None else aki.key_identifier,
    )


def _names_match(name: x509.Name, other_der: bytes) -> bool:
    name_der = name.public_bytes()
    return name_der == other_der or _same_name(asn1_x509.Name.load(name_der), other_der)


def _as_encoded(moment: datetime) -> datetime:
    """A builder's time as the certificate holds it: UTC (naive counts as UTC), whole seconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=UTC, microsecond=0)


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


def read_with_cryptography(certificate: x509.Certificate, issuer: x509.Certificate | None) -> Tbs:
    extensions = certificate.extensions
    critical = {extension.oid.dotted_string: extension.critical for extension in extensions}
    basic = _value(extensions, x509.BasicConstraints)
    usage = _value(extensions, x509.KeyUsage)
    eku = _value(extensions, x509.ExtendedKeyUsage)
    ski = _value(extensions, x509.SubjectKeyIdentifier)
    aki = _value(extensions, x509.AuthorityKeyIdentifier)
    # Each `.subject` / `.issuer` builds the Name's Python objects anew: read each once.
    subject, issuer_name = certificate.subject, certificate.issuer
    expected_issuer = subject.public_bytes() if issuer is None else _subject_der(issuer)
    return _typed_tbs(
        serial=certificate.serial_number,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        subject=subject,
        issuer_name=issuer_name,
        issuer_matches=_names_match(issuer_name, expected_issuer),
        key_algorithm=certificate.public_key_algorithm_oid.dotted_string,
        critical=critical,
        values=(basic, usage, eku, ski, aki),
    )


@functools.lru_cache(maxsize=64)
def _subject_der(certificate: x509.Certificate) -> bytes:
    """An issuer certificate's subject DER: the same few CA certificates issue every request."""
    return certificate.subject.public_bytes()


def _value(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def read_with_asn1crypto(certificate_der: bytes, issuer: x509.Certificate | None) -> Tbs:
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
    basic = values.get(BASIC_CONSTRAINTS)
    key_usage = values.get(KEY_USAGE)
    eku = values.get(EXTENDED_KEY_USAGE)
    ski = values.get(SUBJECT_KEY_IDENTIFIER)
    aki = values.get(AUTHORITY_KEY_IDENTIFIER)
    aki_id = aki.get("key_identifier") if isinstance(aki, dict) else None
    return Tbs(
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
