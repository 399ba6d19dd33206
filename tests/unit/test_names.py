"""names: ASN1Subject -> X.509 Name and API GeneralName -> cryptography's GeneralName."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from pica.authority.model import CustomAttribute, EdiPartyName, GeneralName, OtherName, Subject
from pica.authority.names import general_name_to_x509, parse_oid, subject_to_name
from pica.errors import InvalidArgs


def test_standard_attributes_are_written_most_general_first() -> None:
    name = subject_to_name(Subject(common_name="host", country="US", organization="Org"))
    assert name.rfc4514_string() == "CN=host,O=Org,C=US"  # RFC 4514 prints them reversed
    assert [next(iter(rdn)).oid for rdn in name.rdns] == [  # one attribute per RDN
        NameOID.COUNTRY_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.COMMON_NAME,
    ]


def test_custom_attributes_keep_their_order_and_exclude_standard_ones() -> None:
    custom = (CustomAttribute("2.5.4.3", "b"), CustomAttribute("2.5.4.10", "a"))
    name = subject_to_name(Subject(custom_attributes=custom))
    assert name.rfc4514_string() == "O=a,CN=b"
    with pytest.raises(InvalidArgs, match="cannot be combined"):
        subject_to_name(Subject(common_name="x", custom_attributes=custom))


def test_an_invalid_attribute_value_is_invalid_args() -> None:
    with pytest.raises(InvalidArgs, match="Invalid subject attribute"):
        subject_to_name(Subject(country="USA"))  # a country is two letters


def test_parse_oid_names_what_is_wrong() -> None:
    assert parse_oid("1.2.3", "X").dotted_string == "1.2.3"
    with pytest.raises(InvalidArgs, match="RegisteredId 'nope' is not a valid object identifier"):
        parse_oid("nope", "RegisteredId")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (GeneralName(dns_name="a.example"), x509.DNSName("a.example")),
        (GeneralName(rfc822_name="a@b.example"), x509.RFC822Name("a@b.example")),
        (
            GeneralName(uniform_resource_identifier="spiffe://x/y"),
            x509.UniformResourceIdentifier("spiffe://x/y"),
        ),
        (GeneralName(ip_address="10.0.0.1"), x509.IPAddress(ipaddress.ip_address("10.0.0.1"))),
        (GeneralName(registered_id="1.2.3"), x509.RegisteredID(x509.ObjectIdentifier("1.2.3"))),
    ],
)
def test_each_member_becomes_its_x509_general_name(
    name: GeneralName, expected: x509.GeneralName
) -> None:
    assert general_name_to_x509(name) == expected


@pytest.mark.parametrize(
    ("value", "header"),
    [
        pytest.param("x", "0c01", id="short form"),
        pytest.param("é" * 70, "0c818c", id="one length octet"),
        pytest.param("y" * 300, "0c82012c", id="two length octets"),
    ],
)
def test_an_other_name_value_is_a_der_utf8_string(value: str, header: str) -> None:
    name = general_name_to_x509(GeneralName(other_name=OtherName("1.2.3.4", value)))
    assert isinstance(name, x509.OtherName)
    assert name.type_id.dotted_string == "1.2.3.4"
    assert name.value == bytes.fromhex(header) + value.encode("utf-8")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (GeneralName(), "exactly one member"),
        (GeneralName(dns_name="a", rfc822_name="b"), "exactly one member"),
        (GeneralName(ip_address="10.0.0.300"), "is not an IP address"),
        (GeneralName(edi_party_name=EdiPartyName("p")), "EdiPartyName general names"),
    ],
)
def test_what_cannot_be_a_general_name_is_invalid_args(name: GeneralName, message: str) -> None:
    with pytest.raises(InvalidArgs, match=message):
        general_name_to_x509(name)
