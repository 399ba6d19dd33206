"""The call sequences of two tools built on ACM PCA, replayed through boto3 against a live pica.

cert-manager's aws-privateca-issuer (pkg/aws/pca.go) and the Terraform AWS provider
(internal/service/acmpca/*.go) were read from their sources; each step below names the call it
replays and keeps the tool's parameters, its error tolerances and its read-after-write checks,
since those are what break when a server answers differently from AWS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.pki import ca_config, new_root
from tests.support.server import LiveServer, free_port

PEM_END = "-----END CERTIFICATE-----"


def code_of(exc: ClientError) -> str:
    code: str = exc.response["Error"]["Code"]
    return code


def _csr(key: Any, name: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


# --- cert-manager aws-privateca-issuer ---------------------------------------------------------


def issuer_template_arn(ca_arn: str, usages: list[str], is_ca: bool) -> str:
    """pca.go templateArn: the ARN prefix of the CA ("arn:aws:") and a template per usage."""
    prefix = ":".join(ca_arn.split(":", 2)[:2]) + ":"
    if is_ca:
        return prefix + "acm-pca:::template/SubordinateCACertificate_PathLen0/V1"
    single = {
        "code signing": "CodeSigningCertificate/V1",
        "client auth": "EndEntityClientAuthCertificate/V1",
        "server auth": "EndEntityServerAuthCertificate/V1",
        "ocsp signing": "OCSPSigningCertificate/V1",
    }
    if len(usages) == 1 and usages[0] in single:
        return prefix + "acm-pca:::template/" + single[usages[0]]
    if sorted(usages) == ["client auth", "server auth"]:
        return prefix + "acm-pca:::template/EndEntityCertificate/V1"
    return prefix + "acm-pca:::template/BlankEndEntityCertificate_APICSRPassthrough/V1"


def issuer_token(namespace: str, name: str) -> str:
    """pca.go idempotencyToken: sha256 of "<namespace>/<name>", hex, first 36 characters."""
    return hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:36]


def split_root(chain_pem: str) -> tuple[str, str]:
    """pca.go splitRootCACertificate: every block but the last is the chain, the last the root.
    It fails on anything that is not a CERTIFICATE block, as the issuer does."""
    blocks = [b.strip() + "\n" + PEM_END + "\n" for b in chain_pem.split(PEM_END) if b.strip()]
    assert blocks and all(b.startswith("-----BEGIN CERTIFICATE-----") for b in blocks), chain_pem
    return "".join(blocks[:-1]), blocks[-1]


class Issuer:
    """One aws-privateca-issuer provisioner: Sign (IssueCertificate) then Get (GetCertificate)."""

    def __init__(self, pca: Any, ca_arn: str) -> None:
        self.pca = pca
        self.ca_arn = ca_arn
        self.signing_algorithm: str | None = None  # cached after the first Describe

    def sign(
        self,
        namespace: str,
        name: str,
        csr: bytes,
        usages: list[str],
        *,
        is_ca: bool = False,
        duration: dt.timedelta | None = None,
    ) -> str:
        if self.signing_algorithm is None:
            described = self.pca.describe_certificate_authority(
                CertificateAuthorityArn=self.ca_arn
            )["CertificateAuthority"]
            self.signing_algorithm = described["CertificateAuthorityConfiguration"][
                "SigningAlgorithm"
            ]
        seconds = int((duration or dt.timedelta(days=90)).total_seconds())
        arn: str = self.pca.issue_certificate(
            CertificateAuthorityArn=self.ca_arn,
            SigningAlgorithm=self.signing_algorithm,
            TemplateArn=issuer_template_arn(self.ca_arn, usages, is_ca),
            Csr=csr,
            Validity={"Type": "ABSOLUTE", "Value": int(time.time()) + seconds},
            IdempotencyToken=issuer_token(namespace, name),
        )["CertificateArn"]
        return arn

    def get(self, cert_arn: str) -> tuple[str, str]:
        """(certificate + intermediates, root): what the issuer stores in the Secret."""
        self.pca.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=self.ca_arn,
            CertificateArn=cert_arn,
            WaiterConfig={"Delay": 1, "MaxAttempts": 20},
        )
        got = self.pca.get_certificate(CertificateAuthorityArn=self.ca_arn, CertificateArn=cert_arn)
        chain, root = split_root(got["CertificateChain"])
        return got["Certificate"] + "\n" + chain, root


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A pica of its own: the restart test stops and starts it."""
    live = LiveServer(tmp_path_factory.mktemp("pica-tools") / "data", free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _eku(pem: str) -> set[x509.ObjectIdentifier]:
    cert = x509.load_pem_x509_certificate(pem.encode())
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def test_issuer_usages_pick_templates(pca: Any, root_ca: str) -> None:
    issuer = Issuer(pca, root_ca)
    cases = [
        (["server auth"], {ExtendedKeyUsageOID.SERVER_AUTH}),
        (["client auth"], {ExtendedKeyUsageOID.CLIENT_AUTH}),
        (
            ["server auth", "client auth"],
            {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH},
        ),
        (["code signing"], {ExtendedKeyUsageOID.CODE_SIGNING}),
        (["digital signature", "key encipherment"], None),  # passthrough template
    ]
    for index, (usages, expected) in enumerate(cases):
        name = f"web-{index}-{time.time_ns()}"
        arn = issuer.sign(
            "default",
            name,
            _csr(ec.generate_private_key(ec.SECP256R1()), f"{name}.example.com"),
            usages,
            duration=dt.timedelta(hours=24 * 30),
        )
        certificate, root = issuer.get(arn)
        leaf_pem = certificate.split(PEM_END)[0] + PEM_END + "\n"
        if expected is not None:
            assert _eku(leaf_pem) == expected, usages
        root_cert = x509.load_pem_x509_certificate(root.encode())
        assert root_cert.subject == root_cert.issuer  # the last block is the root itself
        # ABSOLUTE validity: the certificate ends at the second the issuer asked for.
        leaf = x509.load_pem_x509_certificate(leaf_pem.encode())
        asked = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        assert abs(leaf.not_valid_after_utc - asked) < dt.timedelta(minutes=2)


def test_issuer_subordinate_ca_and_rsa_key(pca: Any, rsa_root_ca: str) -> None:
    issuer = Issuer(pca, rsa_root_ca)
    arn = issuer.sign(
        "infra",
        "intermediate",
        _csr(rsa.generate_private_key(65537, 2048), "sub.example.com"),
        [],
        is_ca=True,
    )
    certificate, _ = issuer.get(arn)
    cert = x509.load_pem_x509_certificate(certificate.encode())
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0


def test_issuer_retry_returns_the_same_certificate(pca: Any, root_ca: str) -> None:
    """A CertificateRequest re-reconciled (or retried after a timeout) sends the same token."""
    issuer = Issuer(pca, root_ca)
    csr = _csr(ec.generate_private_key(ec.SECP256R1()), "retry.example.com")
    first = issuer.sign("apps", "retry", csr, ["server auth"])
    again = Issuer(pca, root_ca).sign("apps", "retry", csr, ["server auth"])
    assert again == first
    other = issuer.sign("apps", "retry-2", csr, ["server auth"])
    assert other != first


def test_issuer_across_a_restart(own_server: LiveServer) -> None:
    """The issuer annotates the CertificateRequest with the ARN and fetches it on a later
    reconcile, which may come after pica restarted; a repeated Sign still finds its token."""
    pca = own_server.client()
    ca_arn = new_root(pca)
    issuer = Issuer(pca, ca_arn)
    csr = _csr(ec.generate_private_key(ec.SECP256R1()), "restart.example.com")
    arn = issuer.sign("apps", "restart", csr, ["server auth"])
    own_server.stop()
    own_server.start()
    pca = own_server.client()
    after = Issuer(pca, ca_arn)
    certificate, root = after.get(arn)
    assert certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert after.sign("apps", "restart", csr, ["server auth"]) == arn
    assert (
        root.strip()
        == pca.get_certificate_authority_certificate(CertificateAuthorityArn=ca_arn)[
            "Certificate"
        ].strip()
    )


# --- Terraform AWS provider ------------------------------------------------------------------


def terraform_unique_id() -> str:
    """helper/id.UniqueId: "terraform-" + a timestamp to 1/10000 s + a counter (36 chars)."""
    now = dt.datetime.now(dt.UTC)
    return (
        "terraform-"
        + now.strftime("%Y%m%d%H%M%S")
        + f"{now.microsecond // 100:04d}"
        + f"{time.time_ns() % 10**8:08d}"
    )


def tf_wait_ca_created(pca: Any, arn: str) -> dict[str, Any]:
    """waitCertificateAuthorityCreated: Describe until ACTIVE or PENDING_CERTIFICATE."""
    for _ in range(20):
        ca: dict[str, Any] = pca.describe_certificate_authority(CertificateAuthorityArn=arn)[
            "CertificateAuthority"
        ]
        if ca["Status"] in ("ACTIVE", "PENDING_CERTIFICATE"):
            return ca
        time.sleep(0.5)
    raise AssertionError(f"CA {arn} never became ACTIVE or PENDING_CERTIFICATE")


def tf_list_tags(pca: Any, arn: str) -> dict[str, str]:
    return {
        tag["Key"]: tag["Value"]
        for page in pca.get_paginator("list_tags").paginate(CertificateAuthorityArn=arn)
        for tag in page["Tags"]
    }


def tf_read_ca(pca: Any, arn: str) -> dict[str, Any]:
    """resourceCertificateAuthorityRead: Describe, then the certificate and the CSR, each of
    which may answer InvalidStateException (tolerated), then the tags."""
    ca = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    assert ca["Status"] != "DELETED"
    state: dict[str, Any] = {
        "status": ca["Status"],
        "type": ca["Type"],
        "enabled": ca["Status"] != "DISABLED",
        "configuration": ca["CertificateAuthorityConfiguration"],
        "revocation": ca.get("RevocationConfiguration"),
        "serial": ca.get("Serial", ""),
        "not_after": ca.get("NotAfter"),
        "usage_mode": ca.get("UsageMode"),
        "key_storage_security_standard": ca.get("KeyStorageSecurityStandard"),
    }
    state["certificate"] = state["certificate_chain"] = ""
    try:
        got = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
        state["certificate"] = got["Certificate"]
        state["certificate_chain"] = got.get("CertificateChain", "")
    except ClientError as exc:
        assert code_of(exc) == "InvalidStateException", exc
    state["csr"] = ""
    try:
        state["csr"] = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    except ClientError as exc:
        assert code_of(exc) == "InvalidStateException", exc
    state["tags"] = tf_list_tags(pca, arn)
    return state


def tf_delete_ca(pca: Any, arn: str, days: int = 7) -> None:
    """resourceCertificateAuthorityDelete: DISABLED first, tolerating the PENDING CA's refusal
    by its message, then Delete."""
    try:
        pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    except ClientError as exc:
        message = exc.response["Error"]["Message"]
        assert code_of(exc) == "InvalidStateException", exc
        assert (
            "The certificate authority must be in the ACTIVE or DISABLED state to be updated"
            in message
        )
    pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=days)


def test_terraform_certificate_authority_lifecycle(pca: Any) -> None:
    config = {
        **ca_config(common_name="terraform root"),
    }
    revocation = {"CrlConfiguration": {"Enabled": False}}
    # resourceCertificateAuthorityCreate (aws-sdk-go-v2 provider): an id.UniqueId() token.
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=config,
        CertificateAuthorityType="ROOT",
        IdempotencyToken=terraform_unique_id(),
        RevocationConfiguration=revocation,
        Tags=[{"Key": "Name", "Value": "tf-root"}, {"Key": "env", "Value": "test"}],
    )["CertificateAuthorityArn"]
    tf_wait_ca_created(pca, arn)
    created = tf_read_ca(pca, arn)  # read-after-create: nothing may differ from the config
    assert created["status"] == "PENDING_CERTIFICATE"
    assert created["configuration"] == config
    assert created["certificate"] == "" and created["csr"].startswith(
        "-----BEGIN CERTIFICATE REQUEST"
    )
    assert created["tags"] == {"Name": "tf-root", "env": "test"}
    # Computed attributes Terraform stores from the first read: AWS's defaults.
    assert created["usage_mode"] == "GENERAL_PURPOSE"
    assert created["key_storage_security_standard"] == "FIPS_140_2_LEVEL_3_OR_HIGHER"
    assert (created["revocation"] or {}).get("CrlConfiguration", {}).get("Enabled") is False

    # aws_acmpca_certificate: the root's own certificate, from the CA's CSR.
    token = terraform_unique_id()
    assert len(token) <= 36
    issued_arn = tf_issue(
        pca,
        arn,
        created["csr"].encode(),
        token,
        template="arn:aws:acm-pca:::template/RootCACertificate/V1",
        validity={"Type": "YEARS", "Value": 1},
    )
    root_pem = tf_read_certificate(pca, arn, issued_arn)["certificate"]

    # aws_acmpca_certificate_authority_certificate: import, then read back; Terraform keeps the
    # certificate and chain it sent, so what it reads must be the same strings.
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=root_pem.encode()
    )
    read_back = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    assert read_back["Certificate"] == root_pem
    assert read_back.get("CertificateChain", "") == ""
    active = tf_read_ca(pca, arn)
    assert active["status"] == "ACTIVE" and active["certificate"] == root_pem
    assert active["csr"] == created["csr"]  # Read asks for the CSR on an ACTIVE CA too

    # Update: tags by diff (Tag/Untag), then enabled = false.
    pca.untag_certificate_authority(
        CertificateAuthorityArn=arn, Tags=[{"Key": "env", "Value": "test"}]
    )
    pca.tag_certificate_authority(
        CertificateAuthorityArn=arn, Tags=[{"Key": "team", "Value": "pki"}]
    )
    assert tf_read_ca(pca, arn)["tags"] == {"Name": "tf-root", "team": "pki"}
    ocsp = {"CrlConfiguration": {"Enabled": False}, "OcspConfiguration": {"Enabled": True}}
    pca.update_certificate_authority(CertificateAuthorityArn=arn, RevocationConfiguration=ocsp)
    assert tf_read_ca(pca, arn)["revocation"]["OcspConfiguration"]["Enabled"] is True
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    assert tf_read_ca(pca, arn)["enabled"] is False

    tf_delete_ca(pca, arn)
    ca = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    assert ca["Status"] == "DELETED"  # Read then removes it from state


def test_terraform_deletes_a_pending_ca(pca: Any) -> None:
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(), CertificateAuthorityType="ROOT"
    )["CertificateAuthorityArn"]
    tf_wait_ca_created(pca, arn)
    tf_delete_ca(pca, arn)
    # A second destroy (state out of date) must find nothing left to do, not fail.
    ca = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    assert ca["Status"] == "DELETED"


def tf_issue(
    pca: Any,
    ca_arn: str,
    csr: bytes,
    token: str,
    *,
    template: str | None = None,
    validity: dict[str, Any],
) -> str:
    """resourceCertificateCreate: IssueCertificate (retried while the CA is not yet ready),
    the certificate_issued waiter, then Read."""
    params: dict[str, Any] = {
        "CertificateAuthorityArn": ca_arn,
        "Csr": csr,
        "IdempotencyToken": token,
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": validity,
    }
    if template:
        params["TemplateArn"] = template
    arn: str = pca.issue_certificate(**params)["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=ca_arn,
        CertificateArn=arn,
        WaiterConfig={"Delay": 1, "MaxAttempts": 20},
    )
    return arn


def tf_read_certificate(pca: Any, ca_arn: str, arn: str) -> dict[str, str]:
    got = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=arn)
    return {"certificate": got["Certificate"], "certificate_chain": got.get("CertificateChain", "")}


def tf_revoke(pca: Any, ca_arn: str, certificate_pem: str) -> None:
    """resourceCertificateRevoke (destroy): serial as lower-case hex without leading zeros; a
    certificate already revoked, missing, or self-signed is fine."""
    serial = format(x509.load_pem_x509_certificate(certificate_pem.encode()).serial_number, "x")
    try:
        pca.revoke_certificate(
            CertificateAuthorityArn=ca_arn, CertificateSerial=serial, RevocationReason="UNSPECIFIED"
        )
    except ClientError as exc:
        tolerated = code_of(exc) in (
            "ResourceNotFoundException",
            "RequestAlreadyProcessedException",
            "RequestInProgressException",
        ) or (
            code_of(exc) == "InvalidRequestException"
            and "Self-signed certificate can not be revoked" in exc.response["Error"]["Message"]
        )
        assert tolerated, exc


def test_terraform_certificate_issue_read_destroy(pca: Any, root_ca: str) -> None:
    csr = _csr(ec.generate_private_key(ec.SECP256R1()), "tf.example.com")
    end = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    arn = tf_issue(
        pca,
        root_ca,
        csr,
        terraform_unique_id(),
        validity={"Type": "END_DATE", "Value": int(end.strftime("%Y%m%d%H%M%S"))},
    )
    state = tf_read_certificate(pca, root_ca, arn)
    cert = x509.load_pem_x509_certificate(state["certificate"].encode())
    assert abs(cert.not_valid_after_utc - end) < dt.timedelta(seconds=2)
    assert state == tf_read_certificate(pca, root_ca, arn)  # a refresh sees no drift
    tf_revoke(pca, root_ca, state["certificate"])
    tf_revoke(pca, root_ca, state["certificate"])  # destroy after a failed apply: tolerated


def test_terraform_self_signed_root_destroy_is_tolerated(pca: Any, root_ca: str) -> None:
    root_pem = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root_ca)[
        "Certificate"
    ]
    tf_revoke(pca, root_ca, root_pem)


def test_terraform_permission(pca: Any, root_ca: str) -> None:
    actions = ["IssueCertificate", "GetCertificate", "ListPermissions"]
    pca.create_permission(
        CertificateAuthorityArn=root_ca, Principal="acm.amazonaws.com", Actions=actions
    )

    def find() -> list[dict[str, Any]]:
        return [
            p
            for page in pca.get_paginator("list_permissions").paginate(
                CertificateAuthorityArn=root_ca
            )
            for p in page["Permissions"]
            if p["Principal"] == "acm.amazonaws.com"
        ]

    found = find()
    assert len(found) == 1  # AssertSingleValueResult
    permission = found[0]
    assert sorted(permission["Actions"]) == sorted(actions)
    assert permission["CertificateAuthorityArn"] == root_ca
    json.loads(permission["Policy"])
    pca.delete_permission(CertificateAuthorityArn=root_ca, Principal="acm.amazonaws.com")
    assert find() == []
    with pytest.raises(ClientError) as again:  # destroy twice: tolerated by its code
        pca.delete_permission(CertificateAuthorityArn=root_ca, Principal="acm.amazonaws.com")
    assert code_of(again.value) == "ResourceNotFoundException"


def test_terraform_policy(pca: Any, root_ca: str, server: LiveServer) -> None:
    account = root_ca.split(":")[4]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "tf",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate"],
                "Resource": root_ca,
            }
        ],
    }
    pca.put_policy(ResourceArn=root_ca, Policy=json.dumps(policy))
    # Read: GetPolicy; Terraform compares the documents as JSON, not as strings.
    assert json.loads(pca.get_policy(ResourceArn=root_ca)["Policy"]) == policy
    pca.delete_policy(ResourceArn=root_ca)
    with pytest.raises(ClientError) as gone:
        pca.get_policy(ResourceArn=root_ca)
    assert code_of(gone.value) == "ResourceNotFoundException"
