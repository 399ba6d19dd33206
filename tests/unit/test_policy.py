"""The resource-policy grammar and evaluator, without a server: IAM's decision rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pica.authority.policy.document import ANY_PRINCIPAL, parse_policy
from pica.authority.policy.evaluator import (
    TEMPLATE_ARN_KEY,
    AccessRequest,
    Decision,
    decide,
    shares_with,
)
from pica.authority.resource_policies import check_policy_for
from pica.errors import InvalidPolicy, LockoutPrevented

OWNER = "111122223333"
OTHER = "444455556666"
THIRD = "777788889999"
CA = f"arn:aws:acm-pca:us-east-1:{OWNER}:certificate-authority/11111111-2222-3333-4444-555555555555"
EE = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"
SUB = "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def st(effect: str = "Allow", principal: Any = None, action: Any = "acm-pca:*", **rest: Any) -> Any:
    return {
        "Effect": effect,
        "Principal": principal if principal is not None else {"AWS": OTHER},
        "Action": action,
        "Resource": rest.pop("Resource", CA),
        **rest,
    }


def ask(text: str, action: str, account: str = OTHER, template: str | None = None) -> Decision:
    context = {TEMPLATE_ARN_KEY: template} if template else {}
    return decide(parse_policy(text), AccessRequest(account, action, CA, context))


def test_allow_deny_and_implicit_deny() -> None:
    text = doc(
        st(action=["acm-pca:Get*", "acm-pca:IssueCertificate"]),
        st("Deny", action="acm-pca:GetCertificateAuthorityCsr"),
    )
    assert ask(text, "GetCertificate") is Decision.ALLOW
    assert ask(text, "GetCertificateAuthorityCsr") is Decision.EXPLICIT_DENY
    assert ask(text, "ListTags") is Decision.IMPLICIT_DENY
    assert ask(text, "GetCertificate", account=THIRD) is Decision.IMPLICIT_DENY


def test_action_names_are_case_insensitive_and_take_wildcards() -> None:
    text = doc(st(action="ACM-PCA:getcert?ficate"))
    assert ask(text, "GetCertificate") is Decision.ALLOW


@pytest.mark.parametrize(
    "principal",
    [OTHER, f"arn:aws:iam::{OTHER}:root", [THIRD, OTHER], "*"],
)
def test_principal_forms(principal: Any) -> None:
    text = doc(st(principal={"AWS": principal}))
    assert ask(text, "ListTags") is Decision.ALLOW
    assert shares_with(parse_policy(text), OTHER)


def test_everyone_is_shared_as_a_star() -> None:
    policy = parse_policy(doc(st(principal="*"), st(principal={"AWS": THIRD})))
    assert policy.shared_with() == {ANY_PRINCIPAL, THIRD}
    deny_only = parse_policy(doc(st("Deny", principal={"AWS": THIRD})))
    assert deny_only.shared_with() == frozenset()


@pytest.mark.parametrize(
    ("operator", "value", "template", "expected"),
    [
        ("StringEquals", EE, EE, Decision.ALLOW),
        ("StringEquals", EE, SUB, Decision.IMPLICIT_DENY),
        ("StringNotEquals", SUB, EE, Decision.ALLOW),
        ("StringLike", "*EndEntity*", EE, Decision.ALLOW),
        ("StringLike", "*EndEntity?", EE, Decision.IMPLICIT_DENY),
        ("StringEqualsIgnoreCase", EE.upper(), EE, Decision.ALLOW),
        ("ArnEquals", EE, EE, Decision.ALLOW),
        ("ArnLike", "arn:aws:acm-pca:::template/EndEntity*", EE, Decision.ALLOW),
        ("ArnLike", "arn:aws:acm-pca:::template/EndEntity*", SUB, Decision.IMPLICIT_DENY),
        ("ArnNotLike", "arn:aws:acm-pca:::template/Subordinate*", EE, Decision.ALLOW),
        ("ArnNotLike", "arn:aws:acm-pca:::template/Subordinate*", SUB, Decision.IMPLICIT_DENY),
        # A key the request does not carry: false for positive operators, true for negated.
        ("StringEquals", EE, None, Decision.IMPLICIT_DENY),
        ("StringNotEquals", EE, None, Decision.ALLOW),
        ("StringEqualsIfExists", EE, None, Decision.ALLOW),
        ("StringEqualsIfExists", EE, SUB, Decision.IMPLICIT_DENY),
    ],
)
def test_template_conditions(
    operator: str, value: str, template: str | None, expected: Decision
) -> None:
    text = doc(st(Condition={operator: {"acm-pca:TemplateArn": value}}))
    assert ask(text, "IssueCertificate", template=template) is expected


def test_condition_values_any_of_and_keys_all_of() -> None:
    text = doc(
        st(
            Condition={
                "StringEquals": {"acm-pca:templatearn": [SUB, EE], "aws:PrincipalAccount": OTHER}
            }
        )
    )
    assert ask(text, "IssueCertificate", template=EE) is Decision.ALLOW
    text = doc(
        st(Condition={"StringEquals": {"acm-pca:TemplateArn": EE, "aws:PrincipalAccount": THIRD}})
    )
    assert ask(text, "IssueCertificate", template=EE) is Decision.IMPLICIT_DENY


def test_null_condition() -> None:
    text = doc(st(Condition={"Null": {"acm-pca:TemplateArn": "true"}}))
    assert ask(text, "GetCertificate") is Decision.ALLOW
    assert ask(text, "IssueCertificate", template=EE) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource() -> None:
    text = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "NotAction": "acm-pca:IssueCertificate",
            "Resource": CA,
        }
    )
    assert ask(text, "GetCertificate") is Decision.ALLOW
    assert ask(text, "IssueCertificate") is Decision.IMPLICIT_DENY
    other_ca = CA.replace("11111111", "99999999")
    text = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": "acm-pca:*",
            "NotResource": other_ca,
        }
    )
    assert ask(text, "ListTags") is Decision.ALLOW


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "null",
        json.dumps({"Statement": [st(action="acm-pca:RevokeCertificate")]}),
        json.dumps({"Statement": [st(action="acm:RequestCertificate")]}),
        json.dumps({"Statement": [st(action=[])]}),
        json.dumps({"Statement": [st(principal={"AWS": "arn:aws:iam::1234:root"})]}),
        json.dumps({"Statement": [st(principal={"Federated": "cognito-identity.amazonaws.com"})]}),
        json.dumps({"Statement": [st(principal={"Service": "not a service"})]}),
        json.dumps({"Statement": [st(Resource="certificate-authority/x")]}),
        json.dumps({"Statement": [st(Condition={"ForAnyValue:StringEquals": {"k": "v"}})]}),
        json.dumps({"Statement": [st(Condition={"Null": {"k": "maybe"}})]}),
        json.dumps({"Statement": [st(Sid="a"), st(Sid="a")]}),
        json.dumps({"Statement": [{**st(), "NotAction": "acm-pca:ListTags"}]}),
        json.dumps({"Statement": [st()], "Extra": 1}),
        json.dumps({"Statement": [{**st(), "Surprise": 1}]}),
    ],
)
def test_malformed_policies_are_invalid(text: str) -> None:
    with pytest.raises(InvalidPolicy):
        parse_policy(text)


def test_policy_rules_that_need_the_ca() -> None:
    other_ca = CA.replace("11111111", "99999999")
    with pytest.raises(InvalidPolicy, match="does not name"):
        check_policy_for(parse_policy(doc(st(Resource=other_ca))), CA, OWNER)
    with pytest.raises(LockoutPrevented):
        check_policy_for(parse_policy(doc(st("Deny", principal={"AWS": OWNER}))), CA, OWNER)
    # A wildcard resource and a Deny of everyone else are fine.
    check_policy_for(parse_policy(doc(st(Resource="*"), st("Deny", principal="*"))), CA, OWNER)
