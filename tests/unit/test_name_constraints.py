"""The RFC 5280 4.2.1.10 matching rules, each case in both outcomes.

Constraints are read from real CA certificates built with cryptography, and names from the
subject and extensions issuance would sign, as `pica.authority.name_constraints` reads them.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.authority.name_constraints import (
    CaConstraints,
    certificate_names,
    chain_constraints,
    constraints_of,
    first_violation,
    issuance_violation,
    path_violation,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)

D = x509.DNSName
E = x509.RFC822Name
U = x509.UniformResourceIdentifier


def ip(text: str) -> x509.IPAddress:
    if "/" in text:
        return x509.IPAddress(ipaddress.ip_network(text))
    return x509.IPAddress(ipaddress.ip_address(text))


def dn(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def org(value: str) -> x509.DirectoryName:
    return x509.DirectoryName(dn((NameOID.ORGANIZATION_NAME, value)))


def subject(o: str | None = None, cn: str | None = None, email: str | None = None) -> x509.Name:
    """A subject DN with the attributes given, in the order O, CN, emailAddress."""
    attributes = [
        (oid, value)
        for oid, value in (
            (NameOID.ORGANIZATION_NAME, o),
            (NameOID.COMMON_NAME, cn),
            (NameOID.EMAIL_ADDRESS, email),
        )
        if value is not None
    ]
    return dn(*attributes)


UPN = x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x01a")
Case = tuple[list[x509.GeneralName], list[x509.GeneralName], x509.GeneralName, bool]
SubjectCase = tuple[list[x509.GeneralName], list[x509.GeneralName], x509.Name, bool]


@cache
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def ca_certificate(
    subject: str,
    permitted: list[x509.GeneralName] | None = None,
    excluded: list[x509.GeneralName] | None = None,
    issuer: str | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(dn((NameOID.COMMON_NAME, subject)))
        .issuer_name(dn((NameOID.COMMON_NAME, issuer or subject)))
        .public_key(key().public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if permitted or excluded:
        builder = builder.add_extension(
            x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded),
            critical=True,
        )
    return builder.sign(key(), hashes.SHA256())


def constraints(
    permitted: list[x509.GeneralName] | None = None,
    excluded: list[x509.GeneralName] | None = None,
    ca: str = "Constraining CA",
) -> CaConstraints:
    found = constraints_of(ca_certificate(ca, permitted, excluded).public_bytes(Encoding.DER))
    assert found is not None
    return found


def violation_for(
    chain: list[CaConstraints],
    sans: list[x509.GeneralName] | None = None,
    subject: x509.Name | None = None,
) -> str | None:
    extensions: list[x509.Extension[x509.ExtensionType]] = []
    if sans:
        san = x509.SubjectAlternativeName(sans)
        extensions.append(x509.Extension(san.oid, False, san))
    names = certificate_names(
        subject if subject is not None else dn((NameOID.COMMON_NAME, "leaf")),
        extensions,
    )
    found = first_violation(chain, names)
    return None if found is None else str(found)


# (constraints: permitted, excluded; the SAN; whether it may be certified)
SAN_CASES: dict[str, Case] = {
    # dNSName: label-wise suffix matching
    "dns the domain itself": ([D("example.com")], [], D("example.com"), True),
    "dns a subdomain": ([D("example.com")], [], D("a.b.example.com"), True),
    "dns case-insensitive": ([D("Example.COM")], [], D("WWW.example.com"), True),
    "dns not a label boundary": ([D("example.com")], [], D("badexample.com"), False),
    "dns another domain": ([D("example.com")], [], D("evil.com"), False),
    "dns a parent": ([D("a.example.com")], [], D("example.com"), False),
    "dns suffix trick": ([D("example.com")], [], D("example.com.evil.net"), False),
    "dns leading period: subdomain": ([D(".example.com")], [], D("a.example.com"), True),
    "dns leading period: not the domain": ([D(".example.com")], [], D("example.com"), False),
    "dns excluded subdomain": (
        [D("example.com")],
        [D("evil.example.com")],
        D("x.evil.example.com"),
        False,
    ),
    "dns beside the excluded one": (
        [D("example.com")],
        [D("evil.example.com")],
        D("good.example.com"),
        True,
    ),
    "dns excluded only": ([], [D("evil.com")], D("fine.org"), True),
    "dns excluded wins over permitted": (
        [D("example.com")],
        [D("example.com")],
        D("a.example.com"),
        False,
    ),
    # wildcard SANs stand for every name one label below
    "wildcard under permitted": ([D("example.com")], [], D("*.example.com"), True),
    "wildcard under leading period": ([D(".example.com")], [], D("*.example.com"), True),
    "wildcard wider than permitted": ([D("a.example.com")], [], D("*.example.com"), False),
    "wildcard overlapping excluded": ([], [D("a.example.com")], D("*.example.com"), False),
    "wildcard under excluded": ([], [D("example.com")], D("*.example.com"), False),
    "wildcard beside deeper excluded": ([], [D("a.b.example.com")], D("*.example.com"), True),
    # iPAddress: address and mask
    "ipv4 in range": ([ip("10.0.0.0/8")], [], ip("10.1.2.3"), True),
    "ipv4 out of range": ([ip("10.0.0.0/8")], [], ip("11.1.2.3"), False),
    "ipv4 in excluded range": ([ip("10.0.0.0/8")], [ip("10.1.0.0/16")], ip("10.1.2.3"), False),
    "ipv4 beside excluded range": ([ip("10.0.0.0/8")], [ip("10.1.0.0/16")], ip("10.2.0.1"), True),
    "ipv6 in range": ([ip("fd00::/8")], [], ip("fd12::1"), True),
    "ipv6 out of range": ([ip("fd00::/8")], [], ip("fe80::1"), False),
    "ipv4 never in an ipv6 range": ([ip("::/0")], [], ip("10.0.0.1"), False),
    "ipv4-mapped ipv6 never in an ipv4 range": (
        [ip("10.0.0.0/8")],
        [],
        ip("::ffff:10.0.0.1"),
        False,
    ),
    "all ipv4 excluded, ipv6 unconstrained": ([], [ip("0.0.0.0/0")], ip("fd00::1"), True),
    "all ipv4 excluded": ([], [ip("0.0.0.0/0")], ip("192.0.2.1"), False),
    # rfc822Name: mailbox, host, .domain
    "email on the host": ([E("example.com")], [], E("a@example.com"), True),
    "email host case-insensitive": ([E("example.com")], [], E("a@EXAMPLE.com"), True),
    "email on a subdomain host": ([E("example.com")], [], E("a@mail.example.com"), False),
    "email within .domain": ([E(".example.com")], [], E("a@mail.example.com"), True),
    "email .domain excludes the host": ([E(".example.com")], [], E("a@example.com"), False),
    "email the mailbox": ([E("admin@example.com")], [], E("admin@example.com"), True),
    "email another mailbox": ([E("admin@example.com")], [], E("root@example.com"), False),
    "email local part is case-sensitive": (
        [E("admin@example.com")],
        [],
        E("Admin@example.com"),
        False,
    ),
    "email excluded host": ([], [E("evil.com")], E("a@evil.com"), False),
    "email no mailbox at all": ([E("example.com")], [], E("example.com"), False),
    # uniformResourceIdentifier: the host
    "uri host within .domain": ([U(".example.com")], [], U("https://a.example.com/x"), True),
    "uri spiffe host": ([U(".example.com")], [], U("spiffe://td.example.com/ns/a"), True),
    "uri .domain excludes the host": ([U(".example.com")], [], U("https://example.com/"), False),
    "uri exact host with port": ([U("example.com")], [], U("https://example.com:8443/x"), True),
    "uri other host": ([U("example.com")], [], U("https://evil.com/"), False),
    "uri without a host": ([U("example.com")], [], U("urn:uuid:6e8bc430-9c3a-11d9"), False),
    "uri with an ip host": ([U("example.com")], [], U("https://192.0.2.1/"), False),
    "uri excluded host": ([], [U(".evil.com")], U("https://www.evil.com/"), False),
    # directoryName SANs
    "dirname prefix": ([org("Org")], [], x509.DirectoryName(subject("Org", "x")), True),
    "dirname elsewhere": ([org("Org")], [], x509.DirectoryName(subject("Other")), False),
    # names of a form no CA constrains are unconstrained
    "ip under dns-only constraints": ([D("example.com")], [], ip("192.0.2.1"), True),
    "dns under ip-only constraints": ([ip("10.0.0.0/8")], [], D("anything.net"), True),
    "other name under dns constraints": ([D("example.com")], [], UPN, True),
    # a form pica cannot compare is refused when constrained
    "other name under other name constraints": ([UPN], [], UPN, False),
}


@pytest.mark.parametrize("case", sorted(SAN_CASES))
def test_subject_alternative_names(case: str) -> None:
    permitted, excluded, san, allowed = SAN_CASES[case]
    # An empty subject (its SAN critical), so that the SAN alone is judged.
    found = violation_for([constraints(permitted or None, excluded or None)], [san], dn())
    assert (found is None) is allowed, found


SUBJECT_CASES: dict[str, SubjectCase] = {
    "subject within directoryName": ([org("Org")], [], subject("Org", "leaf"), True),
    "subject compared as RFC 5280 7.1 says": ([org("Org")], [], subject("  org ", "leaf"), True),
    "subject outside directoryName": ([org("Org")], [], subject("Evil", "leaf"), False),
    "subject RDN order matters": (
        [org("Org")],
        [],
        dn((NameOID.COMMON_NAME, "leaf"), (NameOID.ORGANIZATION_NAME, "Org")),
        False,
    ),
    "subject in excluded directoryName": ([], [org("Evil")], subject("Evil", "x"), False),
    "empty subject is not a name": ([org("Org")], [], dn(), True),
    "emailAddress within rfc822": ([E("example.com")], [], subject(email="a@example.com"), True),
    "emailAddress outside rfc822": ([E("example.com")], [], subject(email="a@evil.com"), False),
    "host-like CN within dNSName": ([D("example.com")], [], subject(cn="www.example.com"), True),
    "host-like CN outside dNSName": ([D("example.com")], [], subject(cn="www.evil.com"), False),
    "wildcard CN outside dNSName": ([D("example.com")], [], subject(cn="*.evil.com"), False),
    "CN that is not a host name": ([D("example.com")], [], subject(cn="Jane Doe"), True),
    "single-label CN is no host": ([D("example.com")], [], subject(cn="localhost"), True),
}


@pytest.mark.parametrize("case", sorted(SUBJECT_CASES))
def test_subject_names(case: str) -> None:
    permitted, excluded, subject, allowed = SUBJECT_CASES[case]
    sans: list[x509.GeneralName] | None = [D("host.test")] if len(subject) == 0 else None
    found = violation_for([constraints(permitted or None, excluded or None)], sans, subject)
    assert (found is None) is allowed, found


def test_a_host_like_cn_is_not_checked_beside_dns_sans() -> None:
    subject = dn((NameOID.COMMON_NAME, "www.evil.com"))
    assert violation_for([constraints([D("example.com")])], [D("a.example.com")], subject) is None
    assert violation_for([constraints([D("example.com")])], [ip("192.0.2.1")], subject) is not None


def test_every_ca_of_the_chain_constrains_and_their_permitted_sets_intersect() -> None:
    chain = [
        constraints([D("example.com")], ca="Issuing"),
        constraints([D("other.com")], ca="Root"),
    ]
    refused_by_root = violation_for(chain, [D("a.example.com")])
    refused_by_issuer = violation_for(chain, [D("a.other.com")])
    assert refused_by_root is not None and "'Common Name: Root'" in refused_by_root
    assert refused_by_issuer is not None and "'Common Name: Issuing'" in refused_by_issuer


def test_nested_constraints_narrow_the_names() -> None:
    chain = [constraints([D("sub.example.com")], ca="Issuing"), constraints([D("example.com")])]
    assert violation_for(chain, [D("a.sub.example.com")]) is None
    assert violation_for(chain, [D("a.example.com")]) is not None


def test_the_message_names_the_name_and_the_constraint() -> None:
    found = violation_for(
        [constraints([D("example.com")], [D("bad.example.com")])], [D("evil.com")]
    )
    assert found == (
        "The subjectAltName dNSName 'evil.com' is not within the permitted dNSName subtrees "
        "('example.com') of the name constraints in the certificate authority certificate "
        "'Common Name: Constraining CA'."
    )
    excluded = violation_for([constraints(None, [D("bad.example.com")])], [D("x.bad.example.com")])
    assert excluded is not None
    assert "is within the excluded dNSName subtree 'bad.example.com'" in excluded


def test_forms_pica_cannot_compare_are_free_where_unconstrained() -> None:
    """An ediPartyName SAN (DER only: cryptography has no type for it) beside a dNSName."""
    edi = bytes.fromhex("a50da10b0c09706172747920696e63")  # [5] { [1] UTF8String "party inc" }
    dns = b"\x82\x0da.example.com"
    value = b"\x30" + bytes([len(dns) + len(edi)]) + dns + edi
    raw = x509.UnrecognizedExtension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, value)
    names = certificate_names(dn(), [x509.Extension(raw.oid, False, raw)])
    assert [n.form.value for n in names] == ["dNSName", "ediPartyName"]
    assert first_violation([constraints([D("example.com")])], names) is None
    assert first_violation([constraints([D("other.com")])], names) is not None


def test_an_undecodable_san_cannot_satisfy_constraints() -> None:
    garbage = x509.UnrecognizedExtension(
        x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x03\x82"
    )
    extension = x509.Extension(garbage.oid, False, garbage)
    names = certificate_names(dn((NameOID.COMMON_NAME, "x")), [extension])
    assert first_violation([constraints([D("example.com")])], names) is not None
    assert first_violation([], names) is None


def pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(Encoding.PEM).decode() for c in certificates)


def test_chain_constraints_are_read_once_per_chain() -> None:
    plain = ca_certificate("Plain root")
    assert chain_constraints(pem(plain), None) == ()
    constrained = ca_certificate("Root", [D("example.com")])
    issuing = ca_certificate("Issuing", [ip("10.0.0.0/8")], issuer="Root")
    first = chain_constraints(pem(issuing), pem(constrained))
    assert [c.ca for c in first] == ["Common Name: Issuing", "Common Name: Root"]
    assert chain_constraints(pem(issuing), pem(constrained)) is first


def test_issuance_checks_self_issued_certificates_too() -> None:
    root = ca_certificate("Root", [org("Org")])
    found = issuance_violation(
        certificate_pem=pem(root), chain_pem=None, subject=root.subject, extensions=()
    )
    assert found is not None and "subject directoryName 'Common Name: Root'" in str(found)


def test_a_path_is_checked_link_by_link() -> None:
    root = ca_certificate("Root", [D("example.com")], [org("Evil")])
    good = ca_certificate("Issuing", issuer="Root")
    assert path_violation([good, root]) is None
    evil_subject = dn((NameOID.ORGANIZATION_NAME, "Evil"), (NameOID.COMMON_NAME, "Issuing"))
    evil = (
        x509.CertificateBuilder()
        .subject_name(evil_subject)
        .issuer_name(root.subject)
        .public_key(key().public_key())
        .serial_number(2)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key(), hashes.SHA256())
    )
    found = path_violation([evil, root])
    assert found is not None and "excluded directoryName subtree 'Organization: Evil'" in str(found)
