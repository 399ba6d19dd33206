"""Sharing a CA through boto3, with two accounts holding their own access keys: permissions for
the ACM service principal, resource policies (validation, the evaluator, AccessDenied versus
not found), ResourceOwner listings, and certificates a second account issues from a shared CA.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.acm import acm_client
from tests.support.pki import issue, make_csr, new_root, template
from tests.support.server import LiveServer

ACM = "acm.amazonaws.com"
END_ENTITY = template("EndEntityCertificate")
CLIENT = template("EndEntityClientAuthCertificate")


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


@pytest.fixture(scope="module")
def owner(server: LiveServer) -> Any:
    """The CA owner: a fresh account, so its listings hold only this module's CAs."""
    return server.new_account_client()


@pytest.fixture(scope="module")
def other(server: LiveServer) -> tuple[str, Any]:
    account, key, secret = server.new_account()
    return account, server.client(key, secret)


@pytest.fixture(scope="module")
def stranger(server: LiveServer) -> Any:
    return server.new_account_client()


@pytest.fixture
def shared_ca(owner: Any) -> Iterator[str]:
    arn = new_root(owner)
    yield arn
    owner.delete_policy(ResourceArn=arn)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(account: str, arn: str, *actions: str, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": account},
        "Action": [f"acm-pca:{a}" for a in actions],
        "Resource": arn,
        **extra,
    }


# --- permissions --------------------------------------------------------------------------


def test_permissions_create_list_delete(owner: Any, root_ca: str) -> None:
    arn = new_root(owner)
    owner.create_permission(
        CertificateAuthorityArn=arn,
        Principal=ACM,
        Actions=["IssueCertificate", "GetCertificate", "ListPermissions", "IssueCertificate"],
    )
    with pytest.raises(ClientError) as excinfo:
        owner.create_permission(
            CertificateAuthorityArn=arn, Principal=ACM, Actions=["GetCertificate"]
        )
    assert code_of(excinfo) == "PermissionAlreadyExistsException"
    account = arn.split(":")[4]
    owner.create_permission(
        CertificateAuthorityArn=arn,
        Principal=ACM,
        SourceAccount=account,
        Actions=["IssueCertificate"],
    )
    listed = owner.list_permissions(CertificateAuthorityArn=arn)["Permissions"]
    assert [(p["Principal"], p.get("SourceAccount")) for p in listed] == [
        (ACM, None),
        (ACM, account),
    ]
    first = listed[0]
    assert first["CertificateAuthorityArn"] == arn
    assert first["Actions"] == ["IssueCertificate", "GetCertificate", "ListPermissions"]
    assert first["CreatedAt"].tzinfo is not None
    statement = json.loads(first["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": ACM}
    assert statement["Resource"] == arn

    pages = list(
        owner.get_paginator("list_permissions").paginate(
            CertificateAuthorityArn=arn, PaginationConfig={"PageSize": 1}
        )
    )
    assert [len(page["Permissions"]) for page in pages] == [1, 1]
    assert "NextToken" in pages[0]

    owner.delete_permission(CertificateAuthorityArn=arn, Principal=ACM)
    with pytest.raises(ClientError) as excinfo:
        owner.delete_permission(CertificateAuthorityArn=arn, Principal=ACM)
    assert code_of(excinfo) == "ResourceNotFoundException"
    remaining = owner.list_permissions(CertificateAuthorityArn=arn)["Permissions"]
    assert [p.get("SourceAccount") for p in remaining] == [account]


def test_permission_errors(owner: Any, pca: Any, root_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.create_permission(
            CertificateAuthorityArn=root_ca,
            Principal="ec2.amazonaws.com",
            Actions=["GetCertificate"],
        )
    assert code_of(excinfo) == "InvalidRequestException"
    # Another account's CA is not found, for every permission operation.
    for call in (
        lambda: owner.create_permission(
            CertificateAuthorityArn=root_ca, Principal=ACM, Actions=["GetCertificate"]
        ),
        lambda: owner.list_permissions(CertificateAuthorityArn=root_ca),
        lambda: owner.delete_permission(CertificateAuthorityArn=root_ca, Principal=ACM),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        pca.list_permissions(CertificateAuthorityArn=root_ca, NextToken="bm90IGEgdG9rZW4=")
    assert code_of(excinfo) == "InvalidNextTokenException"


def test_a_deleted_ca_takes_no_permission(owner: Any) -> None:
    arn = new_root(owner)
    owner.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    owner.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=7)
    with pytest.raises(ClientError) as excinfo:
        owner.create_permission(
            CertificateAuthorityArn=arn, Principal=ACM, Actions=["IssueCertificate"]
        )
    assert code_of(excinfo) == "InvalidStateException"


# --- policy management --------------------------------------------------------------------


def test_put_get_delete_policy(owner: Any, other: tuple[str, Any], shared_ca: str) -> None:
    account, _ = other
    with pytest.raises(ClientError) as excinfo:
        owner.get_policy(ResourceArn=shared_ca)
    assert code_of(excinfo) == "ResourceNotFoundException"
    owner.delete_policy(ResourceArn=shared_ca)  # none attached: still a success
    text = policy(allow(account, shared_ca, "DescribeCertificateAuthority"))
    owner.put_policy(ResourceArn=shared_ca, Policy=text)
    assert owner.get_policy(ResourceArn=shared_ca)["Policy"] == text
    owner.delete_policy(ResourceArn=shared_ca)
    with pytest.raises(ClientError) as excinfo:
        owner.get_policy(ResourceArn=shared_ca)
    assert code_of(excinfo) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "2012-10-17", "Statement": []}),
        json.dumps({"Version": "2001-01-01", "Statement": [{}]}),
        "BAD_EFFECT",
        "UNKNOWN_ACTION",
        "NOT_SHAREABLE_ACTION",
        "OTHER_SERVICE_ACTION",
        "BAD_PRINCIPAL",
        "USER_PRINCIPAL",
        "NO_PRINCIPAL",
        "OTHER_RESOURCE",
        "BAD_OPERATOR",
        "NOT_PRINCIPAL",
    ],
)
def test_invalid_policies_are_refused(
    owner: Any, other: tuple[str, Any], shared_ca: str, document: str
) -> None:
    account, _ = other
    good = allow(account, shared_ca, "IssueCertificate")
    broken = {
        "BAD_EFFECT": {**good, "Effect": "Permit"},
        "UNKNOWN_ACTION": {**good, "Action": "acm-pca:SignEverything"},
        "NOT_SHAREABLE_ACTION": {**good, "Action": "acm-pca:DeleteCertificateAuthority"},
        "OTHER_SERVICE_ACTION": {**good, "Action": "s3:GetObject"},
        "BAD_PRINCIPAL": {**good, "Principal": {"AWS": "12345"}},
        "USER_PRINCIPAL": {**good, "Principal": {"AWS": f"arn:aws:iam::{account}:user/bob"}},
        "NO_PRINCIPAL": {k: v for k, v in good.items() if k != "Principal"},
        "OTHER_RESOURCE": {
            **good,
            "Resource": shared_ca.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000",
        },
        "BAD_OPERATOR": {**good, "Condition": {"StringSortOf": {"acm-pca:TemplateArn": "x"}}},
        "NOT_PRINCIPAL": {k if k != "Principal" else "NotPrincipal": v for k, v in good.items()},
    }
    text = policy(broken[document]) if document in broken else document
    with pytest.raises(ClientError) as excinfo:
        owner.put_policy(ResourceArn=shared_ca, Policy=text)
    assert code_of(excinfo) == "InvalidPolicyException"
    assert "policy" in excinfo.value.response["Error"]["Message"]


def test_a_policy_over_the_size_limit_is_a_validation_error(owner: Any, shared_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        owner.put_policy(ResourceArn=shared_ca, Policy=" " * 81921)
    assert code_of(excinfo) == "ValidationException"


def test_denying_the_owner_is_lockout_prevented(owner: Any, shared_ca: str) -> None:
    own = shared_ca.split(":")[4]
    deny = {**allow(own, shared_ca, "IssueCertificate"), "Effect": "Deny"}
    with pytest.raises(ClientError) as excinfo:
        owner.put_policy(ResourceArn=shared_ca, Policy=policy(deny))
    assert code_of(excinfo) == "LockoutPreventedException"


def test_only_the_owner_manages_the_policy(
    owner: Any, other: tuple[str, Any], shared_ca: str
) -> None:
    account, client = other
    owner.put_policy(ResourceArn=shared_ca, Policy=policy(allow(account, shared_ca, "*")))
    for call in (
        lambda: client.get_policy(ResourceArn=shared_ca),
        lambda: client.delete_policy(ResourceArn=shared_ca),
        lambda: client.put_policy(
            ResourceArn=shared_ca, Policy=policy(allow(account, shared_ca, "IssueCertificate"))
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert code_of(excinfo) == "AccessDeniedException"


# --- enforcement ----------------------------------------------------------------------------


def test_a_shared_ca_allows_exactly_what_its_policy_allows(
    owner: Any, other: tuple[str, Any], stranger: Any, shared_ca: str
) -> None:
    account, client = other
    # Not shared yet: invisible.
    with pytest.raises(ClientError) as excinfo:
        client.describe_certificate_authority(CertificateAuthorityArn=shared_ca)
    assert code_of(excinfo) == "ResourceNotFoundException"

    owner.put_policy(
        ResourceArn=shared_ca,
        Policy=policy(
            allow(
                f"arn:aws:iam::{account}:root",
                shared_ca,
                "DescribeCertificateAuthority",
                "GetCertificate",
                "GetCertificateAuthorityCertificate",
                "ListTags",
            ),
            allow(
                account,
                shared_ca,
                "IssueCertificate",
                Condition={
                    "ArnLike": {"acm-pca:TemplateArn": "arn:aws:acm-pca:::template/EndEntity*"}
                },
            ),
            {
                **allow(account, shared_ca, "IssueCertificate"),
                "Effect": "Deny",
                "Condition": {"StringEquals": {"acm-pca:TemplateArn": CLIENT}},
            },
        ),
    )
    described = client.describe_certificate_authority(CertificateAuthorityArn=shared_ca)
    assert described["CertificateAuthority"]["Arn"] == shared_ca
    client.get_certificate_authority_certificate(CertificateAuthorityArn=shared_ca)
    client.list_tags(CertificateAuthorityArn=shared_ca)

    # Issued by the second account, and retrievable by it.
    certificate, _ = issue(client, shared_ca, make_csr(common_name="shared.example.com"))
    assert certificate.subject.rfc4514_string() == "CN=shared.example.com"
    certificate, _ = issue(client, shared_ca, template_name="EndEntityServerAuthCertificate")

    for call in (
        # Denied explicitly by the Deny statement, though the ArnLike Allow covers it.
        lambda: client.issue_certificate(
            CertificateAuthorityArn=shared_ca,
            Csr=make_csr(),
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 1, "Type": "DAYS"},
            TemplateArn=CLIENT,
        ),
        # Not allowed by any statement: a CA template.
        lambda: client.issue_certificate(
            CertificateAuthorityArn=shared_ca,
            Csr=make_csr(),
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 1, "Type": "DAYS"},
            TemplateArn=template("SubordinateCACertificate_PathLen0"),
        ),
        lambda: client.get_certificate_authority_csr(CertificateAuthorityArn=shared_ca),
        lambda: client.list_permissions(CertificateAuthorityArn=shared_ca),
        lambda: client.update_certificate_authority(
            CertificateAuthorityArn=shared_ca, Status="DISABLED"
        ),
        lambda: client.tag_certificate_authority(
            CertificateAuthorityArn=shared_ca, Tags=[{"Key": "k"}]
        ),
        lambda: client.revoke_certificate(
            CertificateAuthorityArn=shared_ca,
            CertificateSerial=f"{certificate.serial_number:x}",
            RevocationReason="KEY_COMPROMISE",
        ),
        lambda: client.delete_certificate_authority(CertificateAuthorityArn=shared_ca),
        lambda: client.create_permission(
            CertificateAuthorityArn=shared_ca, Principal=ACM, Actions=["IssueCertificate"]
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert code_of(excinfo) == "AccessDeniedException"
        assert account in excinfo.value.response["Error"]["Message"]

    # A third account is named by no statement: the CA stays invisible to it.
    with pytest.raises(ClientError) as excinfo:
        stranger.describe_certificate_authority(CertificateAuthorityArn=shared_ca)
    assert code_of(excinfo) == "ResourceNotFoundException"

    # The owner is never restricted by its own policy.
    owner.get_certificate_authority_csr(CertificateAuthorityArn=shared_ca)
    issue(owner, shared_ca, template_name="EndEntityClientAuthCertificate")


def test_string_equals_on_the_template_and_the_default_template(
    owner: Any, other: tuple[str, Any], shared_ca: str
) -> None:
    account, client = other
    owner.put_policy(
        ResourceArn=shared_ca,
        Policy=policy(
            allow(
                account,
                shared_ca,
                "IssueCertificate",
                "GetCertificate",
                Condition={"StringEquals": {"acm-pca:TemplateArn": END_ENTITY}},
            )
        ),
    )
    # No TemplateArn: the default EndEntityCertificate/V1 is what the condition sees.
    cert_arn = client.issue_certificate(
        CertificateAuthorityArn=shared_ca,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 1, "Type": "DAYS"},
    )["CertificateArn"]
    with pytest.raises(ClientError) as excinfo:
        issue(client, shared_ca, template_name="EndEntityServerAuthCertificate")
    assert code_of(excinfo) == "AccessDeniedException"
    # GetCertificate carries no TemplateArn: a positive condition on it fails, as in IAM.
    with pytest.raises(ClientError) as excinfo:
        client.get_certificate(CertificateAuthorityArn=shared_ca, CertificateArn=cert_arn)
    assert code_of(excinfo) == "AccessDeniedException"


def test_deleting_the_policy_removes_access_at_once(
    owner: Any, other: tuple[str, Any], shared_ca: str
) -> None:
    account, client = other
    owner.put_policy(
        ResourceArn=shared_ca,
        Policy=policy(allow(account, shared_ca, "IssueCertificate", "GetCertificate")),
    )
    cert_arn = client.issue_certificate(
        CertificateAuthorityArn=shared_ca,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 1, "Type": "DAYS"},
    )["CertificateArn"]
    client.get_certificate(CertificateAuthorityArn=shared_ca, CertificateArn=cert_arn)
    owner.delete_policy(ResourceArn=shared_ca)
    with pytest.raises(ClientError) as excinfo:
        client.get_certificate(CertificateAuthorityArn=shared_ca, CertificateArn=cert_arn)
    assert code_of(excinfo) == "ResourceNotFoundException"


def test_resource_owner_listings(
    owner: Any, other: tuple[str, Any], stranger: Any, shared_ca: str
) -> None:
    account, client = other
    owner.put_policy(
        ResourceArn=shared_ca, Policy=policy(allow(account, shared_ca, "GetCertificate"))
    )

    def arns(pca: Any, **kwargs: str) -> list[str]:
        pages = pca.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig={"PageSize": 1}, **kwargs
        )
        return [ca["Arn"] for page in pages for ca in page["CertificateAuthorities"]]

    assert shared_ca in arns(owner)
    assert shared_ca in arns(owner, ResourceOwner="SELF")
    assert shared_ca not in arns(owner, ResourceOwner="OTHER_ACCOUNTS")
    assert shared_ca in arns(client, ResourceOwner="OTHER_ACCOUNTS")
    assert shared_ca not in arns(client)
    assert shared_ca not in arns(stranger, ResourceOwner="OTHER_ACCOUNTS")
    shared = client.list_certificate_authorities(ResourceOwner="OTHER_ACCOUNTS")
    entry = next(ca for ca in shared["CertificateAuthorities"] if ca["Arn"] == shared_ca)
    assert entry["OwnerAccount"] == shared_ca.split(":")[4]
    owner.delete_policy(ResourceArn=shared_ca)
    assert shared_ca not in arns(client, ResourceOwner="OTHER_ACCOUNTS")


def test_everyone_and_not_action(owner: Any, stranger: Any, shared_ca: str) -> None:
    owner.put_policy(
        ResourceArn=shared_ca,
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "NotAction": "acm-pca:IssueCertificate",
                "Resource": "*",
            }
        ),
    )
    stranger.describe_certificate_authority(CertificateAuthorityArn=shared_ca)
    with pytest.raises(ClientError) as excinfo:
        issue(stranger, shared_ca)
    assert code_of(excinfo) == "AccessDeniedException"


def test_acm_requests_a_certificate_from_a_ca_shared_with_the_account(
    server: LiveServer, owner: Any, shared_ca: str
) -> None:
    account, key, secret = server.new_account()
    acm = acm_client(server, key, secret)
    refused = acm.request_certificate(
        DomainName="shared.example.com", CertificateAuthorityArn=shared_ca
    )
    detail = acm.describe_certificate(CertificateArn=refused["CertificateArn"])["Certificate"]
    assert (detail["Status"], detail["FailureReason"]) == ("FAILED", "PCA_ACCESS_DENIED")
    owner.put_policy(
        ResourceArn=shared_ca,
        Policy=policy(allow(account, shared_ca, "IssueCertificate", "GetCertificate")),
    )
    issued = acm.request_certificate(
        DomainName="shared.example.com", CertificateAuthorityArn=shared_ca
    )
    detail = acm.describe_certificate(CertificateArn=issued["CertificateArn"])["Certificate"]
    assert detail["Status"] == "ISSUED"
    assert detail["CertificateAuthorityArn"] == shared_ca
