"""Name constraints of the issuing chain, enforced on every certificate pica signs.

Each constrained root is made the way the AWS docs show: RootCACertificate_APIPassthrough with
a NameConstraints CustomExtension (2.5.29.30). Every certificate pica does sign is fetched
through GetCertificate, whose chain `tests.support.validators` checks with three validators;
every one it must refuse gets InvalidArgsException naming the name and the constraint.

The module has its own server (`pca` below), so that its two dozen CAs do not count against the
shared account's CA quota and listings.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.pki import (
    create_ca,
    issue,
    make_csr,
    name_constraints_passthrough,
    new_constrained_root,
    new_subordinate,
    self_signed_ca,
)
from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="module")
def pca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    live = LiveServer(tmp_path_factory.mktemp("pica-nc") / "data", free_port())
    live.start()
    try:
        yield live.client()
    finally:
        live.stop()


D = x509.DNSName
E = x509.RFC822Name
U = x509.UniformResourceIdentifier


def ip(text: str) -> x509.IPAddress:
    return x509.IPAddress(ipaddress.ip_network(text))


def nc(
    permitted: list[x509.GeneralName] | None = None,
    excluded: list[x509.GeneralName] | None = None,
) -> x509.NameConstraints:
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)


def org_dn(organization: str) -> x509.DirectoryName:
    return x509.DirectoryName(
        x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]
        )
    )


def san(kind: str, value: str) -> dict[str, str]:
    return {kind: value}


def issue_with_sans(
    pca: Any, ca_arn: str, sans: list[dict[str, str]], subject: dict[str, str] | None = None
) -> x509.Certificate:
    passthrough: dict[str, Any] = {"Extensions": {"SubjectAlternativeNames": sans}}
    if subject is not None:
        passthrough["Subject"] = subject
    certificate, _ = issue(
        pca,
        ca_arn,
        csr=make_csr(common_name="leaf"),
        template_name="EndEntityCertificate_APIPassthrough",
        ApiPassthrough=passthrough,
    )
    return certificate


def refusal(pca: Any, action: Any) -> str:
    with pytest.raises(ClientError) as raised:
        action()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidArgsException", error
    return str(error["Message"])


# --- a table of constraints, each name tested in the outcome it must have ----------------------

# name: (constraints, names pica signs, names it refuses); names are ApiPassthrough GeneralNames.
TABLE: dict[str, tuple[x509.NameConstraints, list[dict[str, str]], list[dict[str, str]]]] = {
    "dns": (
        nc([D("example.com")], [D("bad.example.com")]),
        [san("DnsName", "example.com"), san("DnsName", "a.b.example.com")],
        [
            san("DnsName", "evil.com"),
            san("DnsName", "badexample.com"),
            san("DnsName", "x.bad.example.com"),
        ],
    ),
    "wildcard dns": (
        nc([D("example.com")], [D("secret.example.com")]),
        [san("DnsName", "*.app.example.com"), san("DnsName", "*.secret2.example.com")],
        [
            san("DnsName", "*.example.com"),  # would cover secret.example.com
            san("DnsName", "*.secret.example.com"),
            san("DnsName", "*.com"),
        ],
    ),
    "ip ranges": (
        nc([ip("10.0.0.0/8"), ip("fd00::/8")], [ip("10.66.0.0/16")]),
        [san("IpAddress", "10.1.2.3"), san("IpAddress", "fd00::7")],
        [
            san("IpAddress", "192.0.2.1"),
            san("IpAddress", "10.66.0.1"),
            san("IpAddress", "2001:db8::1"),
        ],
    ),
    "email": (
        nc([E("example.com"), E(".example.org")]),
        [san("Rfc822Name", "a@example.com"), san("Rfc822Name", "b@mail.example.org")],
        [
            san("Rfc822Name", "a@evil.com"),
            san("Rfc822Name", "a@example.org"),
            san("Rfc822Name", "a@mail.example.com"),
        ],
    ),
    "uri": (
        nc([U(".example.com")]),
        [san("UniformResourceIdentifier", "spiffe://td.example.com/ns/a")],
        [
            san("UniformResourceIdentifier", "https://evil.com/"),
            san("UniformResourceIdentifier", "https://example.com/"),
            san("UniformResourceIdentifier", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
        ],
    ),
}


@pytest.fixture(scope="module")
def roots(pca: Any) -> dict[str, str]:
    """The constrained root of each table entry, made on first use (`table_root`)."""
    return {}


def table_root(pca: Any, roots: dict[str, str], case: str) -> str:
    if case not in roots:
        roots[case] = new_constrained_root(pca, TABLE[case][0], f"pica nc root {case}")
    return roots[case]


ALLOWED = [(case, name) for case, (_, allowed, _) in TABLE.items() for name in allowed]
REFUSED = [(case, name) for case, (_, _, refused) in TABLE.items() for name in refused]


@pytest.mark.parametrize(("case", "name"), ALLOWED, ids=[f"{c}-{n}" for c, n in ALLOWED])
def test_a_name_inside_the_constraints_is_signed(
    pca: Any, roots: dict[str, str], case: str, name: dict[str, str]
) -> None:
    certificate = issue_with_sans(pca, table_root(pca, roots, case), [name])
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert len(list(names)) == 1


@pytest.mark.parametrize(("case", "name"), REFUSED, ids=[f"{c}-{n}" for c, n in REFUSED])
def test_a_name_outside_the_constraints_is_refused(
    pca: Any, roots: dict[str, str], case: str, name: dict[str, str]
) -> None:
    (value,) = name.values()
    message = refusal(pca, lambda: issue_with_sans(pca, table_root(pca, roots, case), [name]))
    assert repr(value) in message
    assert "name constraints" in message


def test_the_issue_scenario_evil_com_under_example_com(pca: Any) -> None:
    """A root permitting only example.com no longer signs evil.com (from the CSR's SAN)."""
    root = new_constrained_root(pca, nc([D("example.com")]), "pica nc root example.com only")
    message = refusal(
        pca,
        lambda: issue(pca, root, csr=make_csr(common_name="evil.com", dns_names=("evil.com",))),
    )
    assert message == (
        "The subjectAltName dNSName 'evil.com' is not within the permitted dNSName subtrees "
        "('example.com') of the name constraints in the certificate authority certificate "
        "'Common Name: pica nc root example.com only, Organization: pica tests, Country: US'."
    )
    certificate, _ = issue(
        pca, root, csr=make_csr(common_name="www.example.com", dns_names=("www.example.com",))
    )
    assert certificate.subject.rfc4514_string() == "CN=www.example.com"


def test_a_host_like_common_name_is_checked_without_dns_sans(
    pca: Any, roots: dict[str, str]
) -> None:
    root = table_root(pca, roots, "dns")
    message = refusal(pca, lambda: issue(pca, root, csr=make_csr(common_name="www.evil.com")))
    assert "subject commonName dNSName 'www.evil.com'" in message
    issue(pca, root, csr=make_csr(common_name="www.example.com"))
    issue(pca, root, csr=make_csr(common_name="Jane Doe"))


def test_directory_name_constraints_apply_to_the_subject(pca: Any) -> None:
    root = new_constrained_root(pca, nc([org_dn("pica tests")]), "pica nc root dirname")
    inside = {"Country": "US", "Organization": "pica tests", "CommonName": "leaf"}
    certificate = issue_with_sans(pca, root, [san("DnsName", "a.test")], subject=inside)
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    outside = {"Country": "US", "Organization": "Elsewhere", "CommonName": "leaf"}
    message = refusal(
        pca, lambda: issue_with_sans(pca, root, [san("DnsName", "a.test")], subject=outside)
    )
    assert "subject directoryName" in message and "Elsewhere" in message
    # A subject of the CSR's CN alone is not within C=US, O=pica tests either.
    refusal(pca, lambda: issue(pca, root, csr=make_csr(common_name="leaf")))


# --- subordinates --------------------------------------------------------------------------


def new_subordinate_under(
    pca: Any,
    parent: str,
    *,
    own_constraints: x509.NameConstraints | None = None,
    organization: str = "pica tests",
    common_name: str = "pica nc subordinate",
) -> str:
    """A subordinate signed by `parent` with SubordinateCACertificate_PathLen0_APIPassthrough,
    carrying `own_constraints`, and activated."""
    return new_subordinate(
        pca,
        parent,
        api_passthrough=name_constraints_passthrough(own_constraints)
        if own_constraints is not None
        else {},
        organization=organization,
        common_name=common_name,
    )


def test_constraints_nest_through_a_subordinate(pca: Any) -> None:
    root = new_constrained_root(pca, nc([D("example.com")]), "pica nc root nested")
    sub = new_subordinate_under(pca, root, own_constraints=nc([D("sub.example.com")]))
    issue_with_sans(pca, sub, [san("DnsName", "a.sub.example.com")])
    by_subordinate = refusal(
        pca, lambda: issue_with_sans(pca, sub, [san("DnsName", "a.example.com")])
    )
    assert "pica nc subordinate" in by_subordinate
    by_root = refusal(pca, lambda: issue_with_sans(pca, sub, [san("DnsName", "a.other.com")]))
    assert "'sub.example.com'" in by_root  # the first CA up the chain that refuses it


def test_a_subordinates_own_constraints_are_not_compared_with_its_parents(pca: Any) -> None:
    """RFC 5280 path validation intersects the constraints down the path, it does not compare
    them: a subordinate may carry wider (or other) constraints, which just cannot widen what
    the root allows. AWS documents no such comparison either."""
    root = new_constrained_root(pca, nc([D("example.com")]), "pica nc root widened")
    sub = new_subordinate_under(pca, root, own_constraints=nc([D("other.com")]))
    root_says = refusal(pca, lambda: issue_with_sans(pca, sub, [san("DnsName", "a.other.com")]))
    assert "pica nc root widened" in root_says
    sub_says = refusal(pca, lambda: issue_with_sans(pca, sub, [san("DnsName", "a.example.com")]))
    assert "pica nc subordinate" in sub_says


def test_a_subordinate_ca_certificate_is_checked_by_its_names(pca: Any) -> None:
    root = new_constrained_root(
        pca, nc([org_dn("pica tests"), D("example.com")]), "pica nc root for CAs"
    )
    new_subordinate_under(pca, root)  # subject C=US, O=pica tests: inside
    message = refusal(pca, lambda: new_subordinate_under(pca, root, organization="Elsewhere"))
    assert "subject directoryName" in message
    # A host-like CN is a dNSName for a CA certificate too (OpenSSL checks it on whatever
    # certificate it verifies).
    new_subordinate_under(pca, root, common_name="ca.example.com")
    message = refusal(pca, lambda: new_subordinate_under(pca, root, common_name="ca.evil.com"))
    assert "subject commonName dNSName 'ca.evil.com'" in message


# --- imported parents ------------------------------------------------------------------------

NOW = dt.datetime.now(dt.UTC)


def external_root(
    constraints: x509.NameConstraints,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    return self_signed_ca("External constrained root", constraints)


def sign_subordinate(
    pca: Any,
    arn: str,
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    sans: list[x509.GeneralName] | None = None,
) -> bytes:
    csr = x509.load_pem_x509_csr(
        pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"].encode()
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(root.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_importing_a_ca_certificate_outside_its_parents_constraints_is_refused(
    pca: Any,
) -> None:
    root_key, root = external_root(nc([D("example.com")]))
    root_pem = root.public_bytes(serialization.Encoding.PEM)
    arn = create_ca(pca, "SUBORDINATE", common_name="pica nc imported")
    with pytest.raises(ClientError) as raised:
        pca.import_certificate_authority_certificate(
            CertificateAuthorityArn=arn,
            Certificate=sign_subordinate(pca, arn, root_key, root, [D("ca.evil.com")]),
            CertificateChain=root_pem,
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "CertificateMismatchException"
    assert "'ca.evil.com'" in error["Message"] and "'example.com'" in error["Message"]
    status = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    assert status["CertificateAuthority"]["Status"] == "PENDING_CERTIFICATE"

    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn,
        Certificate=sign_subordinate(pca, arn, root_key, root, [D("ca.example.com")]),
        CertificateChain=root_pem,
    )
    # The imported parent's constraints bind what the subordinate issues.
    issue_with_sans(pca, arn, [san("DnsName", "www.example.com")])
    message = refusal(pca, lambda: issue_with_sans(pca, arn, [san("DnsName", "www.evil.com")]))
    assert "External constrained root" in message


def test_a_leading_period_dns_constraint_means_subdomains(pca: Any, tmp_path: Path) -> None:
    """`.example.com` is outside RFC 5280 for dNSName; OpenSSL and Go read it as the
    subdomains only, and so does pica (cryptography's verifier and pyhanko refuse the form, so
    only OpenSSL judges this chain)."""
    root_key, root = external_root(nc([D(".example.com")]))
    arn = create_ca(pca, "SUBORDINATE", common_name="pica nc dotted")
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn,
        Certificate=sign_subordinate(pca, arn, root_key, root),
        CertificateChain=root.public_bytes(serialization.Encoding.PEM),
    )
    issue_with_sans(pca, arn, [san("DnsName", "www.example.com")])
    refusal(pca, lambda: issue_with_sans(pca, arn, [san("DnsName", "example.com")]))
