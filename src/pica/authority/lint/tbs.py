"""The fields of a to-be-signed certificate the structural rules read, read once.

cryptography's parser (Rust, ~10 µs) reads them when it accepts the extensions; asn1crypto reads
what it refuses, so that the rules can name a defect rather than crash on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

BASIC_CONSTRAINTS = "2.5.29.19"
KEY_USAGE = "2.5.29.15"
EXTENDED_KEY_USAGE = "2.5.29.37"
SUBJECT_ALT_NAME = "2.5.29.17"
SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"
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
    serial = certificate.serial_number
    # Each `.subject` / `.issuer` builds the Name's Python objects anew: read each once.
    subject, issuer_name = certificate.subject, certificate.issuer
    issuer_der = issuer_name.public_bytes()
    expected_issuer = subject.public_bytes() if issuer is None else _subject_der(issuer)
    return Tbs(
        serial=serial,
        serial_octets=(abs(serial).bit_length() + 8) // 8,  # DER INTEGER: room for a sign bit
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        subject_empty=len(subject) == 0,
        issuer_empty=len(issuer_name) == 0,
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
