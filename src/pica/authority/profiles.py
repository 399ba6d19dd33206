"""What goes into a certificate: the template, the request's ApiPassthrough, the CSR, the CA.

Precedence follows "AWS Private CA template order of operations": what the template defines
wins, then the CA configuration (CRL distribution point, OCSP), then ApiPassthrough, then the
CSR. Base templates take only the subject and subject alternative names from the CSR;
ApiPassthrough is silently ignored by templates that are not API passthrough ones, as AWS does.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtensionOID, ObjectIdentifier

from pica.authority.csr import LoadedCsr
from pica.authority.issuance import key_usage_extension
from pica.authority.model import (
    ApiPassthrough,
    Extensions,
    GeneralName,
    KeyUsageFlags,
    PolicyInformation,
)
from pica.authority.names import general_name_to_x509, parse_oid, subject_to_name
from pica.authority.templates import Template
from pica.errors import InvalidArgs, MalformedCsr

EXTENDED_KEY_USAGE_OIDS = {
    "SERVER_AUTH": "1.3.6.1.5.5.7.3.1",
    "CLIENT_AUTH": "1.3.6.1.5.5.7.3.2",
    "CODE_SIGNING": "1.3.6.1.5.5.7.3.3",
    "EMAIL_PROTECTION": "1.3.6.1.5.5.7.3.4",
    "TIME_STAMPING": "1.3.6.1.5.5.7.3.8",
    "OCSP_SIGNING": "1.3.6.1.5.5.7.3.9",
    "SMART_CARD_LOGIN": "1.3.6.1.4.1.311.20.2.2",
    "DOCUMENT_SIGNING": "1.3.6.1.4.1.311.10.3.12",
    "CERTIFICATE_TRANSPARENCY": "1.3.6.1.4.1.11129.2.4.4",
}
CPS_QUALIFIER = "CPS"

# Extensions pica computes itself: never taken from a CSR or a custom extension.
_COMPUTED = frozenset({ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER})

Ext = x509.Extension[x509.ExtensionType]


@dataclass(frozen=True)
class Profile:
    """The subject and the extensions (without SKI/AKI) of the certificate to sign."""

    subject: x509.Name
    extensions: tuple[Ext, ...]


def _ext(value: x509.ExtensionType, critical: bool) -> Ext:
    return x509.Extension(value.oid, critical, value)


def _template_key_usage(
    flags: KeyUsageFlags, public_key: CertificatePublicKeyTypes
) -> KeyUsageFlags:
    """keyEncipherment only for RSA keys: RFC 5480 forbids it for EC, and ML-DSA cannot do it."""
    if flags.key_encipherment and not isinstance(public_key, rsa.RSAPublicKey):
        return dataclasses.replace(flags, key_encipherment=False)
    return flags


class _EdiPartyName(asn1_core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 5280 EDIPartyName. asn1crypto's own `x509.EDIPartyName` tags its DirectoryStrings
    implicitly, which X.680 forbids for a CHOICE (a tagged CHOICE is always explicit), and
    then refuses to encode them."""

    _fields: ClassVar[list[tuple[str, type, dict[str, object]]]] = [
        ("name_assigner", asn1_x509.DirectoryString, {"explicit": 0, "optional": True}),
        ("party_name", asn1_x509.DirectoryString, {"explicit": 1}),
    ]


class _GeneralName(asn1_x509.GeneralName):  # type: ignore[misc]  # asn1crypto is untyped
    """asn1crypto's GeneralName with `_EdiPartyName` for its ediPartyName alternative."""

    _alternatives: ClassVar[list[tuple[str, type, dict[str, object]]]] = [
        ("edi_party_name", _EdiPartyName, {"implicit": 5})
        if alternative[0] == "edi_party_name"
        else alternative
        for alternative in asn1_x509.GeneralName._alternatives
    ]


class _GeneralNames(asn1_core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = _GeneralName


def subject_alternative_names(names: tuple[GeneralName, ...]) -> x509.ExtensionType:
    """SAN from API GeneralNames; with an EdiPartyName, which cryptography cannot express,
    the GeneralNames are assembled with asn1crypto around cryptography's encoding of the
    others."""
    if any(n.edi_party_name is not None for n in names):
        der: bytes = _GeneralNames([_general_name_asn1(n) for n in names]).dump()
        return x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, der)
    return x509.SubjectAlternativeName([general_name_to_x509(n) for n in names])


def _directory_string(value: str) -> Any:
    return asn1_x509.DirectoryString(name="utf8_string", value=value)


def _general_name_asn1(name: GeneralName) -> Any:
    edi = name.edi_party_name
    if edi is None:
        # cryptography's encoding of the one name, read back out of its SEQUENCE as it is.
        encoded = x509.SubjectAlternativeName([general_name_to_x509(name)]).public_bytes()
        return _GeneralNames.load(encoded)[0]
    # DirectoryString as UTF8String, as cryptography writes every other string.
    value: dict[str, object] = {"party_name": _directory_string(edi.party_name)}
    if edi.name_assigner is not None:
        value["name_assigner"] = _directory_string(edi.name_assigner)
    return _GeneralName(name="edi_party_name", value=_EdiPartyName(value))


def _extended_key_usage(items: Extensions) -> x509.ExtendedKeyUsage:
    oids: list[ObjectIdentifier] = []
    assert items.extended_key_usage is not None
    for item in items.extended_key_usage:
        if (item.extended_key_usage_type is None) == (
            item.extended_key_usage_object_identifier is None
        ):
            raise InvalidArgs(
                "Each ExtendedKeyUsage must have exactly one of ExtendedKeyUsageType and "
                "ExtendedKeyUsageObjectIdentifier."
            )
        dotted = (
            EXTENDED_KEY_USAGE_OIDS[item.extended_key_usage_type]
            if item.extended_key_usage_type is not None
            else item.extended_key_usage_object_identifier
        )
        assert dotted is not None
        oids.append(parse_oid(dotted, "ExtendedKeyUsageObjectIdentifier"))
    return x509.ExtendedKeyUsage(oids)


def _certificate_policies(policies: tuple[PolicyInformation, ...]) -> x509.CertificatePolicies:
    result = []
    for policy in policies:
        qualifiers: list[str | x509.UserNotice] = []
        for qualifier in policy.policy_qualifiers:
            if qualifier.policy_qualifier_id != CPS_QUALIFIER:
                raise InvalidArgs(f"PolicyQualifierId {qualifier.policy_qualifier_id} is not CPS.")
            qualifiers.append(qualifier.cps_uri)
        result.append(
            x509.PolicyInformation(
                parse_oid(policy.cert_policy_id, "CertPolicyId"), qualifiers or None
            )
        )
    return x509.CertificatePolicies(result)


def _custom_extension(oid: str, value: str, critical: bool) -> Ext:
    try:
        der = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgs(f"CustomExtension {oid} Value is not valid base64.") from exc
    identifier = parse_oid(oid, "CustomExtension ObjectIdentifier")
    return x509.Extension(identifier, critical, x509.UnrecognizedExtension(identifier, der))


def _api_extensions(api: Extensions) -> dict[ObjectIdentifier, Ext]:
    found: dict[ObjectIdentifier, Ext] = {}

    def put(extension: Ext) -> None:
        if extension.oid in found:
            raise InvalidArgs(
                f"The extension {extension.oid.dotted_string} is given more than once in "
                "ApiPassthrough."
            )
        found[extension.oid] = extension

    if api.key_usage is not None:
        put(_ext(key_usage_extension(api.key_usage), True))
    if api.extended_key_usage:
        put(_ext(_extended_key_usage(api), False))
    if api.subject_alternative_names:
        put(_ext(subject_alternative_names(api.subject_alternative_names), False))
    if api.certificate_policies:
        put(_ext(_certificate_policies(api.certificate_policies), False))
    for custom in api.custom_extensions or ():
        extension = _custom_extension(custom.object_identifier, custom.value, custom.critical)
        if extension.oid in _COMPUTED:
            raise InvalidArgs(
                f"The extension {extension.oid.dotted_string} is computed by the CA and cannot "
                "be supplied as a CustomExtension."
            )
        put(extension)
    return found


def compose(
    *,
    template: Template,
    csr: LoadedCsr,
    api_passthrough: ApiPassthrough | None,
    ca_extensions: tuple[Ext, ...],
) -> Profile:
    """Merge template, CA configuration, ApiPassthrough and CSR into subject and extensions."""
    public_key = csr.public_key
    subject = csr.subject
    merged: dict[ObjectIdentifier, Ext] = {}

    # Lowest precedence first; later layers overwrite.
    if template.csr_passthrough:
        for extension in csr.request.extensions:
            if extension.oid not in _COMPUTED:
                merged[extension.oid] = extension
    else:
        try:
            csr_san = csr.request.extensions.get_extension_for_oid(
                ExtensionOID.SUBJECT_ALTERNATIVE_NAME
            )
            merged[csr_san.oid] = csr_san
        except x509.ExtensionNotFound:
            pass

    api = api_passthrough if template.api_passthrough else None
    if api is not None:
        if api.subject is not None:
            subject = subject_to_name(api.subject)
        if api.extensions is not None:
            merged.update(_api_extensions(api.extensions))

    for extension in ca_extensions:
        merged[extension.oid] = extension

    merged[ExtensionOID.BASIC_CONSTRAINTS] = _ext(
        x509.BasicConstraints(ca=template.is_ca, path_length=template.path_length),
        template.basic_constraints_critical,
    )
    if template.key_usage is not None:
        merged[ExtensionOID.KEY_USAGE] = _ext(
            key_usage_extension(_template_key_usage(template.key_usage, public_key)), True
        )
    if template.extended_key_usage is not None:
        if template.extended_key_usage:
            merged[ExtensionOID.EXTENDED_KEY_USAGE] = _ext(
                x509.ExtendedKeyUsage(list(template.extended_key_usage)),
                template.extended_key_usage_critical,
            )
        else:
            merged.pop(ExtensionOID.EXTENDED_KEY_USAGE, None)

    san = merged.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if len(subject) == 0:
        if san is None:
            raise (MalformedCsr if api is None else InvalidArgs)(
                "The certificate would have neither a subject nor a subject alternative name."
            )
        # RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
        merged[san.oid] = x509.Extension(san.oid, True, san.value)
    return Profile(subject=subject, extensions=tuple(merged.values()))
