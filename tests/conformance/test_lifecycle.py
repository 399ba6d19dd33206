"""CA lifecycle through boto3: describe/list, update, delete/restore, EXPIRED, tags, not-found."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.pki import create_ca, issue, make_csr, new_root
from tests.support.server import LiveServer

ARN_RE = re.compile(
    r"arn:aws:acm-pca:us-east-1:[0-9]{12}:certificate-authority/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
DISABLED_REVOCATION = {
    "CrlConfiguration": {"Enabled": False},
    "OcspConfiguration": {"Enabled": False},
}
EC = {"key_algorithm": "EC_prime256v1", "signing_algorithm": "SHA256WITHECDSA"}


def code_of(error: pytest.ExceptionInfo[ClientError] | ClientError) -> str:
    exc = error if isinstance(error, ClientError) else error.value
    code: str = exc.response["Error"]["Code"]
    return code


def describe(pca: Any, arn: str) -> dict[str, Any]:
    ca: dict[str, Any] = pca.describe_certificate_authority(CertificateAuthorityArn=arn)[
        "CertificateAuthority"
    ]
    return ca


def status(pca: Any, arn: str) -> str:
    value: str = describe(pca, arn)["Status"]
    return value


def list_all(pca: Any) -> list[dict[str, Any]]:
    return [
        ca
        for page in pca.get_paginator("list_certificate_authorities").paginate()
        for ca in page["CertificateAuthorities"]
    ]


def disabled_root(pca: Any) -> str:
    arn = new_root(pca)
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    return arn


def assert_about(moment: dt.datetime, expected: dt.datetime, slack: float = 60.0) -> None:
    assert abs((moment - expected).total_seconds()) < slack, (moment, expected)


# --- describe / list --------------------------------------------------------------------------


def test_describe_reports_every_field_of_a_new_ca(pca: Any) -> None:
    configuration = {
        "KeyAlgorithm": "EC_prime256v1",
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Subject": {
            "Country": "DE",
            "Organization": "pica lifecycle",
            "OrganizationalUnit": "conformance",
            "State": "Berlin",
            "Locality": "Berlin",
            "CommonName": "describe me",
        },
    }
    started = dt.datetime.now(dt.UTC)
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=configuration, CertificateAuthorityType="SUBORDINATE"
    )["CertificateAuthorityArn"]
    assert ARN_RE.fullmatch(arn), arn
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    ca = describe(pca, arn)
    assert ca["Arn"] == arn
    assert re.fullmatch(r"[0-9]{12}", ca["OwnerAccount"])
    assert ca["OwnerAccount"] == arn.split(":")[4]
    assert isinstance(ca["CreatedAt"], dt.datetime)
    assert isinstance(ca["LastStateChangeAt"], dt.datetime)
    assert_about(ca["CreatedAt"], started)
    assert ca["LastStateChangeAt"] >= ca["CreatedAt"]
    assert ca["Type"] == "SUBORDINATE"
    assert ca["Status"] == "PENDING_CERTIFICATE"
    assert ca["CertificateAuthorityConfiguration"] == configuration
    assert ca["RevocationConfiguration"] == DISABLED_REVOCATION
    for absent in ("Serial", "NotBefore", "NotAfter", "RestorableUntil", "FailureReason"):
        assert absent not in ca, absent


def test_describe_an_active_root(pca: Any, root_ca: str) -> None:
    ca = describe(pca, root_ca)
    assert ca["Status"] == "ACTIVE"
    assert ca["Type"] == "ROOT"
    assert isinstance(ca["NotBefore"], dt.datetime)
    assert isinstance(ca["NotAfter"], dt.datetime)
    assert ca["NotBefore"] < dt.datetime.now(dt.UTC) < ca["NotAfter"]
    assert ca["Serial"]
    assert "RestorableUntil" not in ca
    assert ca["RevocationConfiguration"] == DISABLED_REVOCATION


def test_list_paginates_with_max_results(pca: Any) -> None:
    created = {create_ca(pca, **EC) for _ in range(3)}
    first = pca.list_certificate_authorities(MaxResults=2)
    assert len(first["CertificateAuthorities"]) == 2
    assert first.get("NextToken")
    seen = [ca["Arn"] for ca in first["CertificateAuthorities"]]
    token = first["NextToken"]
    pages = 1
    while token:
        page = pca.list_certificate_authorities(MaxResults=2, NextToken=token)
        assert 1 <= len(page["CertificateAuthorities"]) <= 2
        seen += [ca["Arn"] for ca in page["CertificateAuthorities"]]
        token = page.get("NextToken")
        pages += 1
        assert pages < 500
    assert "NextToken" not in page
    assert len(seen) == len(set(seen))
    assert created <= set(seen)
    # One call returns at most 100 CAs (the model's documented cap), whatever MaxResults says.
    every = [
        ca["Arn"]
        for ca in pca.list_certificate_authorities(MaxResults=1000)["CertificateAuthorities"]
    ]
    assert every == seen[:100]


def test_paginator_returns_every_ca_once(pca: Any, root_ca: str) -> None:
    created = {create_ca(pca, **EC) for _ in range(2)}
    arns = [
        ca["Arn"]
        for page in pca.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig={"PageSize": 2}
        )
        for ca in page["CertificateAuthorities"]
    ]
    assert len(arns) == len(set(arns))
    assert created | {root_ca} <= set(arns)


def test_list_returns_at_most_100_per_page(server: LiveServer) -> None:
    """A separate account, so the 101 CAs do not count against the shared one's quota."""
    account = server.pica("accounts", "create", "--json")
    assert account.returncode == 0, account.stderr
    key = server.pica(
        "keys", "create", "--account", json.loads(account.stdout)["AccountId"], "--json"
    )
    assert key.returncode == 0, key.stderr
    credentials = json.loads(key.stdout)
    pca = server.client(credentials["AccessKeyId"], credentials["SecretAccessKey"])
    created = {
        pca.create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "EC_prime256v1",
                "SigningAlgorithm": "SHA256WITHECDSA",
                "Subject": {"CommonName": f"bulk {i}"},
            },
            CertificateAuthorityType="ROOT",
        )["CertificateAuthorityArn"]
        for i in range(101)
    }
    first = pca.list_certificate_authorities(MaxResults=1000)
    assert len(first["CertificateAuthorities"]) == 100
    assert first.get("NextToken")
    rest = pca.list_certificate_authorities(NextToken=first["NextToken"])
    assert len(rest["CertificateAuthorities"]) == 1
    assert "NextToken" not in rest
    listed = {ca["Arn"] for ca in first["CertificateAuthorities"] + rest["CertificateAuthorities"]}
    assert listed == created


def test_create_with_the_same_idempotency_token_returns_the_same_ca(pca: Any) -> None:
    configuration = {
        "KeyAlgorithm": "EC_prime256v1",
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Subject": {"CommonName": "idempotent"},
    }
    token = f"create-{uuid.uuid4().hex[:16]}"
    arns = {
        pca.create_certificate_authority(
            CertificateAuthorityConfiguration=configuration,
            CertificateAuthorityType="ROOT",
            IdempotencyToken=token,
        )["CertificateAuthorityArn"]
        for _ in range(3)
    }
    assert len(arns) == 1
    other = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=configuration,
        CertificateAuthorityType="ROOT",
        IdempotencyToken=token + "-other",
    )["CertificateAuthorityArn"]
    assert other not in arns


def test_list_items_are_full_descriptions(pca: Any, root_ca: str) -> None:
    listed = next(ca for ca in list_all(pca) if ca["Arn"] == root_ca)
    assert listed == describe(pca, root_ca)


def test_garbled_next_token_is_invalid_next_token(pca: Any) -> None:
    for token in ("garbage-token", "eyJrIjoidGFncyIsInAiOiIxIn0=", "%%%"):
        with pytest.raises(ClientError) as excinfo:
            pca.list_certificate_authorities(NextToken=token)
        assert code_of(excinfo) == "InvalidNextTokenException", token


def test_other_accounts_listing_is_empty_without_shares(pca: Any) -> None:
    shared = pca.list_certificate_authorities(ResourceOwner="OTHER_ACCOUNTS")
    assert shared["CertificateAuthorities"] == []


# --- update -----------------------------------------------------------------------------------


def test_disable_and_enable(pca: Any) -> None:
    arn = new_root(pca)
    before = describe(pca, arn)
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    disabled = describe(pca, arn)
    assert disabled["Status"] == "DISABLED"
    # That it moves with each change is shown in-process with a moved clock (test_authorities).
    assert disabled["LastStateChangeAt"] >= before["LastStateChangeAt"]

    with pytest.raises(ClientError) as excinfo:
        issue(pca, arn)
    assert code_of(excinfo) == "InvalidStateException"

    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="ACTIVE")
    enabled = describe(pca, arn)
    assert enabled["Status"] == "ACTIVE"
    assert enabled["LastStateChangeAt"] >= disabled["LastStateChangeAt"]
    certificate, _ = issue(pca, arn)
    assert certificate.serial_number > 0


def test_update_to_the_same_status_is_accepted(pca: Any) -> None:
    arn = disabled_root(pca)
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    assert status(pca, arn) == "DISABLED"


@pytest.mark.parametrize("target", ["DELETED", "PENDING_CERTIFICATE", "CREATING", "EXPIRED"])
def test_update_to_a_status_other_than_active_or_disabled_is_invalid_args(
    pca: Any, root_ca: str, target: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.update_certificate_authority(CertificateAuthorityArn=root_ca, Status=target)
    assert code_of(excinfo) == "InvalidArgsException"
    assert status(pca, root_ca) == "ACTIVE"


@pytest.mark.parametrize("target", ["ACTIVE", "DISABLED"])
def test_update_of_a_pending_ca_is_invalid_state(pca: Any, target: str) -> None:
    arn = create_ca(pca, **EC)
    with pytest.raises(ClientError) as excinfo:
        pca.update_certificate_authority(CertificateAuthorityArn=arn, Status=target)
    assert code_of(excinfo) == "InvalidStateException"
    assert status(pca, arn) == "PENDING_CERTIFICATE"


# --- delete / restore -------------------------------------------------------------------------


def test_an_active_ca_cannot_be_deleted(pca: Any, root_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.delete_certificate_authority(CertificateAuthorityArn=root_ca)
    assert code_of(excinfo) == "InvalidStateException"
    assert status(pca, root_ca) == "ACTIVE"


def test_delete_and_restore_a_disabled_ca(pca: Any) -> None:
    arn = new_root(pca)
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 1, "Type": "DAYS"},
    )["CertificateArn"]
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    assert pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=cert_arn)
    pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=7)
    deleted = describe(pca, arn)
    assert deleted["Status"] == "DELETED"
    assert_about(deleted["RestorableUntil"], dt.datetime.now(dt.UTC) + dt.timedelta(days=7))
    listed = next(ca for ca in list_all(pca) if ca["Arn"] == arn)
    assert listed["Status"] == "DELETED"
    assert "RestorableUntil" in listed

    with pytest.raises(ClientError) as excinfo:
        issue(pca, arn)
    assert code_of(excinfo) == "InvalidStateException"
    with pytest.raises(ClientError) as excinfo:
        pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="ACTIVE")
    assert code_of(excinfo) == "InvalidStateException"
    with pytest.raises(ClientError) as excinfo:
        pca.delete_certificate_authority(CertificateAuthorityArn=arn)
    assert code_of(excinfo) == "InvalidStateException"
    with pytest.raises(ClientError) as excinfo:
        pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)
    assert code_of(excinfo) == "InvalidStateException"
    with pytest.raises(ClientError) as excinfo:
        pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    assert code_of(excinfo) == "InvalidStateException"
    with pytest.raises(ClientError) as excinfo:
        pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=cert_arn)
    assert code_of(excinfo) == "InvalidStateException"

    pca.restore_certificate_authority(CertificateAuthorityArn=arn)
    assert pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=cert_arn)
    restored = describe(pca, arn)
    assert restored["Status"] == "DISABLED"
    assert "RestorableUntil" not in restored
    assert restored["LastStateChangeAt"] >= deleted["LastStateChangeAt"]
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="ACTIVE")
    assert status(pca, arn) == "ACTIVE"
    issue(pca, arn)


def test_delete_and_restore_a_pending_ca(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=10)
    deleted = describe(pca, arn)
    assert deleted["Status"] == "DELETED"
    assert_about(deleted["RestorableUntil"], dt.datetime.now(dt.UTC) + dt.timedelta(days=10))
    pca.restore_certificate_authority(CertificateAuthorityArn=arn)
    assert status(pca, arn) == "PENDING_CERTIFICATE"
    assert pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"] == csr


def test_default_restoration_period_is_30_days(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    pca.delete_certificate_authority(CertificateAuthorityArn=arn)
    deleted = describe(pca, arn)
    assert_about(deleted["RestorableUntil"], dt.datetime.now(dt.UTC) + dt.timedelta(days=30))


@pytest.mark.parametrize("days", [6, 0, 31, -1])
def test_restoration_period_outside_7_to_30_is_validation_exception(
    server: LiveServer, pca: Any, days: int
) -> None:
    arn = create_ca(pca, **EC)
    with pytest.raises(ClientError) as excinfo:
        server.raw_client(parameter_validation=False).delete_certificate_authority(
            CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=days
        )
    assert code_of(excinfo) == "ValidationException"
    assert "permanentDeletionTimeInDays" in excinfo.value.response["Error"]["Message"]
    assert status(pca, arn) == "PENDING_CERTIFICATE"


def test_restore_of_a_ca_that_is_not_deleted_is_invalid_state(pca: Any, root_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.restore_certificate_authority(CertificateAuthorityArn=root_ca)
    assert code_of(excinfo) == "InvalidStateException"
    pending = create_ca(pca, **EC)
    with pytest.raises(ClientError) as excinfo:
        pca.restore_certificate_authority(CertificateAuthorityArn=pending)
    assert code_of(excinfo) == "InvalidStateException"


def test_tags_survive_delete_and_restore(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    pca.tag_certificate_authority(CertificateAuthorityArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=7)
    pca.restore_certificate_authority(CertificateAuthorityArn=arn)
    assert pca.list_tags(CertificateAuthorityArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]


# --- EXPIRED ----------------------------------------------------------------------------------
# A CA whose certificate has expired is tested in-process with a moved clock
# (tests/unit/test_authorities.py): a live server's clock cannot be moved, only waited for.


# --- tags -------------------------------------------------------------------------------------


def all_tags(pca: Any, arn: str, page_size: int | None = None) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"CertificateAuthorityArn": arn}
    if page_size:
        kwargs["MaxResults"] = page_size
    while True:
        page = pca.list_tags(**kwargs)
        tags += page["Tags"]
        if "NextToken" not in page:
            return tags
        kwargs["NextToken"] = page["NextToken"]


def test_tags_at_creation_and_later(pca: Any) -> None:
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "tagged"},
        },
        CertificateAuthorityType="ROOT",
        Tags=[{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": "pki-team"}],
    )["CertificateAuthorityArn"]
    assert pca.list_tags(CertificateAuthorityArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"},
        {"Key": "owner", "Value": "pki-team"},
    ]
    pca.tag_certificate_authority(
        CertificateAuthorityArn=arn,
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "cost-center", "Value": "42"}],
    )
    tags = {t["Key"]: t["Value"] for t in all_tags(pca, arn)}
    assert tags == {"env": "prod", "owner": "pki-team", "cost-center": "42"}


def test_list_tags_paginates(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    wanted = [{"Key": f"key-{i:02}", "Value": f"value-{i}"} for i in range(7)]
    pca.tag_certificate_authority(CertificateAuthorityArn=arn, Tags=wanted)
    first = pca.list_tags(CertificateAuthorityArn=arn, MaxResults=3)
    assert len(first["Tags"]) == 3
    assert first.get("NextToken")
    paged = all_tags(pca, arn, page_size=3)
    assert sorted(paged, key=lambda t: t["Key"]) == wanted
    assert len(paged) == len({t["Key"] for t in paged})
    assert all_tags(pca, arn) == paged
    via_paginator = [
        tag
        for page in pca.get_paginator("list_tags").paginate(
            CertificateAuthorityArn=arn, PaginationConfig={"PageSize": 2}
        )
        for tag in page["Tags"]
    ]
    assert via_paginator == paged


def test_list_tags_with_a_garbled_token_is_invalid_next_token(pca: Any, root_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.list_tags(CertificateAuthorityArn=root_ca, NextToken="not-a-token")
    assert code_of(excinfo) == "InvalidNextTokenException"


def tampered_tokens(token: str) -> dict[str, str]:
    """Variants of a real NextToken a client could send back by mistake or on purpose."""
    variants = {"truncated": token[: len(token) // 2], "reversed": token[::-1]}
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token))
    except (ValueError, binascii.Error):
        return variants  # an opaque format: only the generic variants apply
    if isinstance(decoded, dict):
        for key, value in decoded.items():
            if isinstance(value, str) and value.isdigit():
                for forged in ("abc", "-2", "1.5"):
                    changed = json.dumps({**decoded, key: forged}).encode()
                    variants[f"{key}={forged}"] = base64.urlsafe_b64encode(changed).decode()
    return variants


def test_list_tags_with_a_tampered_token_is_invalid_next_token(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    pca.tag_certificate_authority(
        CertificateAuthorityArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(3)]
    )
    token = pca.list_tags(CertificateAuthorityArn=arn, MaxResults=1)["NextToken"]
    outcomes: dict[str, str] = {}
    for label, variant in tampered_tokens(token).items():
        try:
            page = pca.list_tags(CertificateAuthorityArn=arn, MaxResults=1, NextToken=variant)
        except ClientError as exc:
            outcomes[label] = f"{code_of(exc)}: {exc.response['Error']['Message']}"
        else:
            outcomes[label] = f"accepted: {page['Tags']}"
    wrong = {k: v for k, v in outcomes.items() if not v.startswith("InvalidNextTokenException")}
    assert wrong == {}


def test_a_tags_token_does_not_work_for_another_listing(pca: Any) -> None:
    first, second = create_ca(pca, **EC), create_ca(pca, **EC)
    pca.tag_certificate_authority(
        CertificateAuthorityArn=first, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(3)]
    )
    token = pca.list_tags(CertificateAuthorityArn=first, MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as excinfo:
        pca.list_tags(CertificateAuthorityArn=second, NextToken=token)
    assert code_of(excinfo) == "InvalidNextTokenException"
    with pytest.raises(ClientError) as excinfo:
        pca.list_certificate_authorities(NextToken=token)
    assert code_of(excinfo) == "InvalidNextTokenException"


def test_untag_by_key_and_by_key_and_value(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    pca.tag_certificate_authority(
        CertificateAuthorityArn=arn,
        Tags=[
            {"Key": "a", "Value": "1"},
            {"Key": "b", "Value": "2"},
            {"Key": "c", "Value": "3"},
        ],
    )
    pca.untag_certificate_authority(CertificateAuthorityArn=arn, Tags=[{"Key": "a"}])
    assert {t["Key"] for t in all_tags(pca, arn)} == {"b", "c"}
    pca.untag_certificate_authority(CertificateAuthorityArn=arn, Tags=[{"Key": "b", "Value": "x"}])
    assert {t["Key"] for t in all_tags(pca, arn)} == {"b", "c"}
    pca.untag_certificate_authority(CertificateAuthorityArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert all_tags(pca, arn) == [{"Key": "c", "Value": "3"}]
    pca.untag_certificate_authority(CertificateAuthorityArn=arn, Tags=[{"Key": "never-set"}])
    assert all_tags(pca, arn) == [{"Key": "c", "Value": "3"}]


@pytest.mark.parametrize("key", ["aws:owner", "AWS:owner", "aws:"])
def test_reserved_prefix_is_invalid_tag(pca: Any, root_ca: str, key: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.tag_certificate_authority(
            CertificateAuthorityArn=root_ca, Tags=[{"Key": key, "Value": "x"}]
        )
    assert code_of(excinfo) == "InvalidTagException"


def test_reserved_prefix_at_creation_is_invalid_tag(pca: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "EC_prime256v1",
                "SigningAlgorithm": "SHA256WITHECDSA",
                "Subject": {"CommonName": "never created"},
            },
            CertificateAuthorityType="ROOT",
            Tags=[{"Key": "aws:createdBy", "Value": "me"}],
        )
    assert code_of(excinfo) == "InvalidTagException"


def test_more_than_50_tags_in_total_is_too_many_tags(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    pca.tag_certificate_authority(
        CertificateAuthorityArn=arn, Tags=[{"Key": f"a{i}", "Value": "v"} for i in range(30)]
    )
    # Overwriting existing keys does not count twice.
    pca.tag_certificate_authority(
        CertificateAuthorityArn=arn,
        Tags=[{"Key": f"a{i}", "Value": "w"} for i in range(30)]
        + [{"Key": f"b{i}", "Value": "v"} for i in range(20)],
    )
    assert len(all_tags(pca, arn)) == 50
    with pytest.raises(ClientError) as excinfo:
        pca.tag_certificate_authority(
            CertificateAuthorityArn=arn, Tags=[{"Key": "one-more", "Value": "v"}]
        )
    assert code_of(excinfo) == "TooManyTagsException"
    assert len(all_tags(pca, arn)) == 50


def test_unicode_tags_are_accepted(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    tags = [
        {"Key": "équipe", "Value": "Zürich Straße"},
        {"Key": "部署", "Value": "東京 ١٢٣"},
        {"Key": "path/to=key+x-y@z:w_1.0", "Value": ""},
    ]
    pca.tag_certificate_authority(CertificateAuthorityArn=arn, Tags=tags)
    got = {t["Key"]: t.get("Value", "") for t in all_tags(pca, arn)}
    assert got == {t["Key"]: t["Value"] for t in tags}


# --- unknown CA / wrong state -------------------------------------------------------------------


def unknown_ca(root_ca: str) -> str:
    return root_ca.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"


@pytest.mark.parametrize(
    ("call", "params"),
    [
        ("describe_certificate_authority", {}),
        ("update_certificate_authority", {"Status": "DISABLED"}),
        ("delete_certificate_authority", {}),
        ("restore_certificate_authority", {}),
        ("tag_certificate_authority", {"Tags": [{"Key": "k", "Value": "v"}]}),
        ("untag_certificate_authority", {"Tags": [{"Key": "k"}]}),
        ("list_tags", {}),
        ("get_certificate_authority_csr", {}),
        ("get_certificate_authority_certificate", {}),
        (
            "issue_certificate",
            {
                "Csr": make_csr(),
                "SigningAlgorithm": "SHA256WITHECDSA",
                "Validity": {"Value": 1, "Type": "DAYS"},
            },
        ),
    ],
)
def test_unknown_ca_is_resource_not_found(
    pca: Any, root_ca: str, call: str, params: dict[str, Any]
) -> None:
    arn = unknown_ca(root_ca)
    with pytest.raises(ClientError) as excinfo:
        getattr(pca, call)(CertificateAuthorityArn=arn, **params)
    assert code_of(excinfo) == "ResourceNotFoundException"


def test_ca_certificate_of_a_pending_ca_is_invalid_state(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    with pytest.raises(ClientError) as excinfo:
        pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    assert code_of(excinfo) == "InvalidStateException"


def test_pending_ca_cannot_issue_end_entity_certificates(pca: Any) -> None:
    arn = create_ca(pca, **EC)
    with pytest.raises(ClientError) as excinfo:
        issue(pca, arn)
    assert code_of(excinfo) == "InvalidStateException"
