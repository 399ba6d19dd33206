"""Every AWS template, ApiPassthrough member and passthrough precedence, through boto3."""

from __future__ import annotations

import base64
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from pica.authority.templates import TEMPLATES
from tests.support.pki import (
    create_ca,
    ec_key,
    extension_or_none,
    key_usage,
    make_csr,
    pkilint_findings,
    template,
)

ALL_NAMES = sorted(arn.split("/")[1] for arn in TEMPLATES)
API_KU = {"DigitalSignature": True, "KeyEncipherment": False}
CA_KU = {"DigitalSignature": True, "KeyCertSign": True, "CRLSign": True}


def csr_with(*extensions: x509.ExtensionType, common_name: str | None = "leaf.example") -> bytes:
    key = ec_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    for extension in extensions:
        critical = isinstance(extension, (x509.KeyUsage, x509.BasicConstraints))
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM)


def issue_with(
    pca: Any, ca: str, name: str, csr: bytes, api: dict[str, Any] | None = None
) -> x509.Certificate:
    kwargs: dict[str, Any] = {
        "CertificateAuthorityArn": ca,
        "Csr": csr,
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": {"Value": 30, "Type": "DAYS"},
        "TemplateArn": template(name),
    }
    if api is not None:
        kwargs["ApiPassthrough"] = api
    arn = pca.issue_certificate(**kwargs)["CertificateArn"]
    pem = pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)["Certificate"]
    return x509.load_pem_x509_certificate(pem.encode())


def request_for(name: str) -> tuple[bytes, dict[str, Any] | None]:
    """A CSR and ApiPassthrough that give template `name` what it needs (Blank ones: KU/EKU)."""
    t = TEMPLATES[template(name)]
    if not t.blank:
        return make_csr(dns_names=("leaf.example",)), None
    usage = CA_KU if t.is_ca else API_KU
    if t.api_passthrough:
        api: dict[str, Any] = {"Extensions": {"KeyUsage": usage}}
        if not t.is_ca:
            api["Extensions"]["ExtendedKeyUsage"] = [{"ExtendedKeyUsageType": "CLIENT_AUTH"}]
        return make_csr(dns_names=("leaf.example",)), api
    bits = {"digital_signature": True} | (
        {"key_cert_sign": True, "crl_sign": True} if t.is_ca else {}
    )
    extensions: list[x509.ExtensionType] = [
        key_usage(**bits),
        x509.SubjectAlternativeName([x509.DNSName("leaf.example")]),
    ]
    if not t.is_ca:
        extensions.append(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]))
    return csr_with(*extensions), None


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_template_issues_the_extensions_it_defines(
    pca: Any, root_ca: str, name: str, tmp_path: Path
) -> None:
    t = TEMPLATES[template(name)]
    if t.self_signed:
        ca = create_ca(pca, "ROOT")
        csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=ca)["Csr"].encode()
        api = {"Extensions": {"KeyUsage": CA_KU}} if t.blank else None
        certificate = issue_with(pca, ca, name, csr, api)
        assert certificate.issuer == certificate.subject
    else:
        csr, api = request_for(name)
        certificate = issue_with(pca, root_ca, name, csr, api)
    bc = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.value.ca is t.is_ca
    assert bc.value.path_length == t.path_length
    assert bc.critical is t.basic_constraints_critical
    key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    if t.key_usage is not None:
        assert key_usage.value.digital_signature is t.key_usage.digital_signature
        assert key_usage.value.key_cert_sign is t.key_usage.key_cert_sign
        assert key_usage.value.crl_sign is t.key_usage.crl_sign
        # EC subject key: keyEncipherment is never asserted (RFC 5480).
        assert key_usage.value.key_encipherment is False
    eku = extension_or_none(certificate, x509.ExtendedKeyUsage)
    if t.extended_key_usage:
        assert eku is not None and list(eku.value) == list(t.extended_key_usage)
        assert eku.critical is t.extended_key_usage_critical
    assert pkilint_findings(certificate, tmp_path) == ""


def test_unknown_template_is_invalid_args(pca: Any, root_ca: str) -> None:
    with pytest.raises(pca.exceptions.InvalidArgsException):
        issue_with(pca, root_ca, "EndEntityCertificate_Nope", make_csr())


def test_api_passthrough_is_ignored_by_non_passthrough_templates(pca: Any, root_ca: str) -> None:
    api = {"Subject": {"CommonName": "from-api"}, "Extensions": {"KeyUsage": CA_KU}}
    certificate = issue_with(pca, root_ca, "EndEntityCertificate", make_csr(), api)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "www.example.com"
    )
    assert not certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_template_defined_eku_wins_over_api_and_subject_comes_from_api(
    pca: Any, root_ca: str
) -> None:
    api = {
        "Subject": {"CommonName": "api.example", "Organization": "API Org"},
        "Extensions": {"ExtendedKeyUsage": [{"ExtendedKeyUsageType": "CODE_SIGNING"}]},
    }
    certificate = issue_with(
        pca, root_ca, "EndEntityClientAuthCertificate_APIPassthrough", make_csr(), api
    )
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert certificate.subject.rfc4514_string() == "CN=api.example,O=API Org"


def test_api_san_wins_over_csr_san_in_apicsr_templates(pca: Any, root_ca: str) -> None:
    api = {"Extensions": {"SubjectAlternativeNames": [{"DnsName": "api.example"}]}}
    certificate = issue_with(
        pca,
        root_ca,
        "EndEntityClientAuthCertificate_APICSRPassthrough",
        make_csr(dns_names=("csr.example",)),
        api,
    )
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["api.example"]


def test_csr_passthrough_copies_csr_extensions_only_for_csr_templates(
    pca: Any, root_ca: str
) -> None:
    policies = x509.CertificatePolicies(
        [x509.PolicyInformation(ObjectIdentifier("1.3.6.1.4.1.99999.1"), None)]
    )
    csr = csr_with(policies, x509.SubjectAlternativeName([x509.DNSName("csr.example")]))
    copied = issue_with(pca, root_ca, "EndEntityCertificate_CSRPassthrough", csr)
    assert extension_or_none(copied, x509.CertificatePolicies) is not None
    plain = issue_with(pca, root_ca, "EndEntityCertificate", csr)
    assert extension_or_none(plain, x509.CertificatePolicies) is None
    assert plain.extensions.get_extension_for_class(x509.SubjectAlternativeName) is not None


def test_every_subject_member_and_custom_attributes(pca: Any, root_ca: str) -> None:
    subject = {
        "Country": "US",
        "Organization": "Org",
        "OrganizationalUnit": "Unit",
        "DistinguishedNameQualifier": "dnq",
        "State": "WA",
        "CommonName": "cn.example",
        "SerialNumber": "12345",
        "Locality": "Seattle",
        "Title": "Dr",
        "Surname": "Doe",
        "GivenName": "Jane",
        "Initials": "JD",
        "Pseudonym": "jd",
        "GenerationQualifier": "III",
    }
    certificate = issue_with(
        pca, root_ca, "EndEntityCertificate_APIPassthrough", make_csr(), {"Subject": subject}
    )
    values = {a.oid.dotted_string: a.value for a in certificate.subject}
    assert values["2.5.4.6"] == "US" and values["2.5.4.46"] == "dnq" and values["2.5.4.44"] == "III"
    assert len(values) == len(subject)
    custom = {
        "Subject": {
            "CustomAttributes": [
                {"ObjectIdentifier": "2.5.4.3", "Value": "custom-cn"},
                {"ObjectIdentifier": "1.3.6.1.4.1.99999.7", "Value": "private"},
            ]
        }
    }
    certificate = issue_with(
        pca, root_ca, "EndEntityCertificate_APIPassthrough", make_csr(), custom
    )
    assert [(a.oid.dotted_string, a.value) for a in certificate.subject] == [
        ("2.5.4.3", "custom-cn"),
        ("1.3.6.1.4.1.99999.7", "private"),
    ]
    mixed = {
        "Subject": {"CommonName": "x", "CustomAttributes": custom["Subject"]["CustomAttributes"]}
    }
    with pytest.raises(pca.exceptions.InvalidArgsException):
        issue_with(pca, root_ca, "EndEntityCertificate_APIPassthrough", make_csr(), mixed)


def test_every_general_name_type_in_the_san(pca: Any, root_ca: str) -> None:
    names = [
        {"DnsName": "dns.example"},
        {"Rfc822Name": "someone@example.com"},
        {"UniformResourceIdentifier": "https://example.com/id"},
        {"IpAddress": "192.0.2.7"},
        {"IpAddress": "2001:db8::7"},
        {"RegisteredId": "1.3.6.1.4.1.99999.3"},
        {"DirectoryName": {"CommonName": "dir", "Organization": "Org"}},
        {"OtherName": {"TypeId": "1.3.6.1.4.1.311.20.2.3", "Value": "upn@example.com"}},
        {"EdiPartyName": {"PartyName": "party", "NameAssigner": "assigner"}},
    ]
    certificate = issue_with(
        pca,
        root_ca,
        "BlankEndEntityCertificate_APIPassthrough",
        make_csr(),
        {"Extensions": {"SubjectAlternativeNames": names, "KeyUsage": API_KU}},
    )
    # cryptography cannot parse an EdiPartyName, so read the SAN with asn1crypto.
    tbs = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))["tbs_certificate"]
    (san,) = [e for e in tbs["extensions"] if e["extn_id"].dotted == "2.5.29.17"]
    decoded = asn1_x509.GeneralNames.load(san["extn_value"].contents)
    kinds = [n.name for n in decoded]
    assert kinds == [
        "dns_name",
        "rfc822_name",
        "uniform_resource_identifier",
        "ip_address",
        "ip_address",
        "registered_id",
        "directory_name",
        "other_name",
        "edi_party_name",
    ]
    assert ipaddress.ip_address(decoded[4].native) == ipaddress.ip_address("2001:db8::7")


def test_key_usage_custom_eku_policies_and_custom_extensions(pca: Any, root_ca: str) -> None:
    api = {
        "Extensions": {
            "KeyUsage": {"DigitalSignature": True, "NonRepudiation": True},
            "ExtendedKeyUsage": [
                {"ExtendedKeyUsageType": "EMAIL_PROTECTION"},
                {"ExtendedKeyUsageObjectIdentifier": "1.3.6.1.4.1.99999.5"},
            ],
            "CertificatePolicies": [
                {
                    "CertPolicyId": "2.23.140.1.2.1",
                    "PolicyQualifiers": [
                        {"PolicyQualifierId": "CPS", "Qualifier": {"CpsUri": "https://cps.example"}}
                    ],
                }
            ],
            "CustomExtensions": [
                # A private extension whose value is the DER of UTF8String "pica".
                {"ObjectIdentifier": "1.3.6.1.4.1.99999.9", "Value": "DARwaWNh", "Critical": False}
            ],
        }
    }
    certificate = issue_with(
        pca, root_ca, "BlankEndEntityCertificate_APIPassthrough", make_csr(), api
    )
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [o.dotted_string for o in eku] == ["1.3.6.1.5.5.7.3.4", "1.3.6.1.4.1.99999.5"]
    policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policies[0].policy_identifier.dotted_string == "2.23.140.1.2.1"
    assert policies[0].policy_qualifiers == ["https://cps.example"]
    custom = certificate.extensions.get_extension_for_oid(ObjectIdentifier("1.3.6.1.4.1.99999.9"))
    assert not custom.critical
    assert custom.value.value == base64.b64decode("DARwaWNh")


def test_critical_custom_name_constraints_on_a_subordinate(pca: Any, root_ca: str) -> None:
    constraints = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("permitted.test")], excluded_subtrees=None
    )
    api = {
        "Extensions": {
            "KeyUsage": CA_KU,
            "CustomExtensions": [
                {
                    "ObjectIdentifier": "2.5.29.30",
                    "Value": base64.b64encode(constraints.public_bytes()).decode(),
                    "Critical": True,
                }
            ],
        }
    }
    certificate = issue_with(
        pca, root_ca, "BlankSubordinateCACertificate_PathLen0_APIPassthrough", make_csr(), api
    )
    extension = certificate.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical and extension.value == constraints


def test_the_lint_gate_refuses_name_constraints_on_an_end_entity(pca: Any, root_ca: str) -> None:
    # The AWS docs' own example puts nameConstraints on an end-entity certificate, which
    # RFC 5280 4.2.1.10 reserves for CA certificates: pica's gate refuses to sign it.
    api = {
        "Extensions": {
            "CustomExtensions": [
                {
                    "ObjectIdentifier": "2.5.29.30",
                    "Value": "MBWgEzARgg8ucGVybWl0dGVkLnRlc3Q=",
                    "Critical": True,
                }
            ]
        }
    }
    with pytest.raises(pca.exceptions.InvalidArgsException) as error:
        issue_with(pca, root_ca, "EndEntityCertificate_APIPassthrough", make_csr(), api)
    assert "name_constraints_in_ee_certificate" in str(error.value)


def test_blank_templates_take_key_usage_from_the_csr(pca: Any, root_ca: str) -> None:
    csr = csr_with(
        key_usage(digital_signature=True, key_agreement=True),
        x509.SubjectAlternativeName([x509.DNSName("csr.example")]),
    )
    certificate = issue_with(pca, root_ca, "BlankEndEntityCertificate_CSRPassthrough", csr)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_agreement and usage.digital_signature


def test_lint_gate_refuses_a_non_conforming_certificate(pca: Any, root_ca: str) -> None:
    # keyCertSign on an end-entity certificate (CA:FALSE) is incoherent (RFC 5280 4.2.1.9).
    api = {"Extensions": {"KeyUsage": {"DigitalSignature": True, "KeyCertSign": True}}}
    with pytest.raises(pca.exceptions.InvalidArgsException) as error:
        issue_with(pca, root_ca, "BlankEndEntityCertificate_APIPassthrough", make_csr(), api)
    assert "keyCertSign" in str(error.value) or "key_cert_sign" in str(error.value)


def test_root_api_passthrough_subject_is_self_issued(pca: Any) -> None:
    ca = create_ca(pca, "ROOT")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=ca)["Csr"].encode()
    certificate = issue_with(
        pca,
        ca,
        "RootCACertificate_APIPassthrough",
        csr,
        {"Subject": {"CommonName": "Renamed Root", "Country": "DE"}},
    )
    assert certificate.subject == certificate.issuer
    assert certificate.subject.rfc4514_string() == "CN=Renamed Root,C=DE"
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=ca,
        Certificate=certificate.public_bytes(Encoding.PEM),
    )
    described = pca.describe_certificate_authority(CertificateAuthorityArn=ca)
    assert described["CertificateAuthority"]["Status"] == "ACTIVE"
