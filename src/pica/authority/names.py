"""ASN1Subject <-> X.509 Name, and GeneralName <-> x509.GeneralName.

The attribute order pica writes is the conventional one (C, ST, L, O, OU, ..., CN, serialNumber),
most general first, so `openssl x509 -subject` reads naturally.
"""

from __future__ import annotations

import ipaddress

from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.x509.oid import NameOID

from pica.authority.model import GeneralName, Subject
from pica.errors import InvalidArgs

# (field name on Subject, OID) in the order the attributes are written.
SUBJECT_ATTRIBUTES: tuple[tuple[str, x509.ObjectIdentifier], ...] = (
    ("country", NameOID.COUNTRY_NAME),
    ("state", NameOID.STATE_OR_PROVINCE_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("organizational_unit", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("distinguished_name_qualifier", NameOID.DN_QUALIFIER),
    ("title", NameOID.TITLE),
    ("surname", NameOID.SURNAME),
    ("given_name", NameOID.GIVEN_NAME),
    ("initials", NameOID.INITIALS),
    ("pseudonym", NameOID.PSEUDONYM),
    ("generation_qualifier", NameOID.GENERATION_QUALIFIER),
    ("common_name", NameOID.COMMON_NAME),
    ("serial_number", NameOID.SERIAL_NUMBER),
)


def parse_oid(dotted: str, what: str) -> x509.ObjectIdentifier:
    try:
        return x509.ObjectIdentifier(dotted)
    except ValueError as exc:
        raise InvalidArgs(f"{what} {dotted!r} is not a valid object identifier.") from exc


def subject_to_name(subject: Subject) -> x509.Name:
    """Build the X.509 Name; standard attributes and CustomAttributes are mutually exclusive."""
    standard = [
        (oid, getattr(subject, field))
        for field, oid in SUBJECT_ATTRIBUTES
        if getattr(subject, field) not in (None, "")
    ]
    if standard and subject.custom_attributes:
        raise InvalidArgs(
            "Subject CustomAttributes cannot be combined with standard subject attributes."
        )
    attributes: list[x509.NameAttribute[str]] = []
    try:
        if subject.custom_attributes:
            for custom in subject.custom_attributes:
                oid = parse_oid(custom.object_identifier, "CustomAttribute ObjectIdentifier")
                attributes.append(x509.NameAttribute(oid, custom.value))
        else:
            attributes = [x509.NameAttribute(oid, value) for oid, value in standard]
    except ValueError as exc:
        raise InvalidArgs(f"Invalid subject attribute: {exc}") from exc
    return x509.Name([x509.RelativeDistinguishedName([a]) for a in attributes])


def general_name_to_x509(name: GeneralName) -> x509.GeneralName:
    """Convert one API GeneralName (exactly one member set) to cryptography's type."""
    try:
        return _general_name(name)
    except ValueError as exc:
        raise InvalidArgs(f"Invalid GeneralName: {exc}") from exc


def _general_name(name: GeneralName) -> x509.GeneralName:
    members = [
        value
        for value in (
            name.other_name,
            name.rfc822_name,
            name.dns_name,
            name.directory_name,
            name.edi_party_name,
            name.uniform_resource_identifier,
            name.ip_address,
            name.registered_id,
        )
        if value is not None
    ]
    if len(members) != 1:
        raise InvalidArgs("A GeneralName must have exactly one member set.")
    if name.dns_name is not None:
        return x509.DNSName(name.dns_name)
    if name.rfc822_name is not None:
        return x509.RFC822Name(name.rfc822_name)
    if name.uniform_resource_identifier is not None:
        return x509.UniformResourceIdentifier(name.uniform_resource_identifier)
    if name.ip_address is not None:
        try:
            return x509.IPAddress(ipaddress.ip_address(name.ip_address))
        except ValueError as exc:
            raise InvalidArgs(f"IpAddress {name.ip_address!r} is not an IP address.") from exc
    if name.registered_id is not None:
        return x509.RegisteredID(parse_oid(name.registered_id, "RegisteredId"))
    if name.directory_name is not None:
        return x509.DirectoryName(subject_to_name(name.directory_name))
    if name.other_name is not None:
        oid = parse_oid(name.other_name.type_id, "OtherName TypeId")
        return x509.OtherName(oid, _der_utf8_string(name.other_name.value))
    raise InvalidArgs("EdiPartyName general names are not supported.")


def _der_utf8_string(value: str) -> bytes:
    """DER of a UTF8String, the usual encoding of an OtherName value given as text."""
    der: bytes = asn1_core.UTF8String(value).dump()
    return der
