"""A CA's resource policy, parsed and validated the way PutPolicy must refuse bad ones.

The accepted grammar is the IAM policy grammar narrowed to what a CA can use: `Version`
(2012-10-17 or 2008-10-17), optional `Id`, and `Statement` (one or a list), each with an
optional `Sid`, `Effect` Allow/Deny, `Principal`, `Action` or `NotAction`, `Resource` or
`NotResource`, and an optional `Condition`. Principals are accounts (`"123456789012"`,
`"arn:aws:iam::123456789012:root"`), everyone (`"*"`, `{"AWS": "*"}`) or a service
(`{"Service": "acm.amazonaws.com"}`). Actions are `acm-pca:<action>` (wildcards allowed, the
name case-insensitive, as in IAM) and must name at least one action a resource policy can share.
Anything else is InvalidPolicyException naming what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from pica.authority.policy.conditions import OPERATORS, Condition, glob_match
from pica.errors import InvalidPolicy

# What a resource policy can let another account do on a CA (AWS RAM's permission set for
# private CAs, as far as pica builds the operations).
SHAREABLE_ACTIONS = (
    "IssueCertificate",
    "GetCertificate",
    "DescribeCertificateAuthority",
    "GetCertificateAuthorityCertificate",
    "GetCertificateAuthorityCsr",
    "ListPermissions",
    "ListTags",
)
SERVICE_PREFIX = "acm-pca"
VERSIONS = ("2012-10-17", "2008-10-17")
ANY_PRINCIPAL = "*"

_ACCOUNT = re.compile(r"\d{12}")
_ROOT_ARN = re.compile(r"arn:[a-z][a-z0-9-]*:iam::(?P<account>\d{12}):root")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Principals:
    """Who a statement names: accounts, services, or everyone."""

    accounts: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    everyone: bool = False

    def names_account(self, account_id: str) -> bool:
        return self.everyone or account_id in self.accounts


@dataclass(frozen=True)
class Statement:
    effect: Effect
    principals: Principals
    # Action patterns (lower-cased names without the `acm-pca:` prefix); `not_actions` when the
    # statement used NotAction.
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool
    conditions: tuple[Condition, ...]
    sid: str | None = None

    def covers_action(self, action: str) -> bool:
        hit = any(glob_match(pattern, action, ignore_case=True) for pattern in self.actions)
        return hit != self.not_actions

    def covers_resource(self, arn: str) -> bool:
        hit = any(glob_match(pattern, arn) for pattern in self.resources)
        return hit != self.not_resources


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]

    def shared_with(self) -> frozenset[str]:
        """The accounts an Allow statement names (`*` for everyone): whom the CA is shared
        with, for listing it under ResourceOwner=OTHER_ACCOUNTS."""
        names: set[str] = set()
        for statement in self.statements:
            if statement.effect is Effect.ALLOW:
                names |= statement.principals.accounts
                if statement.principals.everyone:
                    names.add(ANY_PRINCIPAL)
        return frozenset(names)


def _invalid(message: str) -> InvalidPolicy:
    return InvalidPolicy(f"The resource policy is invalid: {message}")


def _strings(value: Any, what: str) -> tuple[str, ...]:
    """A string or a non-empty list of strings, as IAM allows for most members."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise _invalid(f"{what} must be a string or a non-empty list of strings.")
    return tuple(items)


def _principal_account(text: str) -> str:
    if _ACCOUNT.fullmatch(text):
        return text
    match = _ROOT_ARN.fullmatch(text)
    if match is None:
        raise _invalid(
            f"the principal {text!r} is not an account id (123456789012), an account root ARN "
            "(arn:aws:iam::123456789012:root) or '*'."
        )
    return match.group("account")


def _principals(value: Any) -> Principals:
    if value == ANY_PRINCIPAL:
        return Principals(everyone=True)
    if not isinstance(value, dict) or not value:
        raise _invalid("Principal must be '*' or an object with AWS or Service members.")
    accounts: set[str] = set()
    services: set[str] = set()
    everyone = False
    for kind, names in value.items():
        if kind == "AWS":
            for name in _strings(names, "Principal AWS"):
                if name == ANY_PRINCIPAL:
                    everyone = True
                else:
                    accounts.add(_principal_account(name))
        elif kind == "Service":
            for name in _strings(names, "Principal Service"):
                if _SERVICE.fullmatch(name) is None:
                    raise _invalid(f"the service principal {name!r} is not a service name.")
                services.add(name)
        else:
            raise _invalid(f"the principal type {kind!r} is not supported (use AWS or Service).")
    return Principals(frozenset(accounts), frozenset(services), everyone)


def _actions(value: Any, member: str) -> tuple[str, ...]:
    patterns = []
    for action in _strings(value, member):
        if action == "*":
            patterns.append("*")
            continue
        service, sep, name = action.partition(":")
        if not sep or service.lower() != SERVICE_PREFIX or not name:
            raise _invalid(f"the action {action!r} is not an {SERVICE_PREFIX} action.")
        if not any(glob_match(name, known, ignore_case=True) for known in SHAREABLE_ACTIONS):
            raise _invalid(
                f"the action {action!r} is not one a resource policy can grant on a "
                f"certificate authority ({', '.join(SHAREABLE_ACTIONS)})."
            )
        patterns.append(name)
    return tuple(patterns)


def _resources(value: Any, member: str) -> tuple[str, ...]:
    resources = _strings(value, member)
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise _invalid(f"the resource {resource!r} is not an ARN or '*'.")
    return resources


def _conditions(value: Any) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise _invalid("Condition must be an object.")
    conditions = []
    for operator, block in value.items():
        if operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:") != operator:
            raise _invalid(f"the condition operator {operator!r} is not supported.")
        if operator not in OPERATORS:
            raise _invalid(f"the condition operator {operator!r} is not supported.")
        if not isinstance(block, dict) or not block:
            raise _invalid(f"the condition {operator} must map condition keys to values.")
        for key, values in block.items():
            if isinstance(values, bool):
                values = "true" if values else "false"
            texts = _strings(values, f"the condition {operator} {key}")
            if operator == "Null" and any(t.lower() not in ("true", "false") for t in texts):
                raise _invalid("the Null condition takes true or false.")
            conditions.append(Condition(operator, key, texts))
    return tuple(conditions)


def _exactly_one(statement: dict[str, Any], names: tuple[str, str]) -> str:
    present = [name for name in names if name in statement]
    if len(present) != 1:
        raise _invalid(f"each statement must have exactly one of {names[0]} and {names[1]}.")
    return present[0]


def _statement(raw: Any) -> Statement:
    if not isinstance(raw, dict):
        raise _invalid("each statement must be an object.")
    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if unknown:
        detail = "NotPrincipal is not supported" if "NotPrincipal" in unknown else "unknown"
        raise _invalid(f"statement member {unknown[0]!r}: {detail}.")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _invalid("Sid must be a string.")
    try:
        effect = Effect(raw.get("Effect"))
    except ValueError:
        raise _invalid("Effect must be Allow or Deny.") from None
    if "Principal" not in raw:
        raise _invalid("each statement of a resource policy must have a Principal.")
    action_member = _exactly_one(raw, ("Action", "NotAction"))
    resource_member = _exactly_one(raw, ("Resource", "NotResource"))
    return Statement(
        effect=effect,
        principals=_principals(raw["Principal"]),
        actions=_actions(raw[action_member], action_member),
        not_actions=action_member == "NotAction",
        resources=_resources(raw[resource_member], resource_member),
        not_resources=resource_member == "NotResource",
        conditions=_conditions(raw.get("Condition", {})),
        sid=sid,
    )


def parse_policy(text: str) -> PolicyDocument:
    """The policy document `text` holds, or InvalidPolicy saying why it is not one."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise _invalid(f"it is not valid JSON ({error}).") from None
    if not isinstance(raw, dict):
        raise _invalid("it must be a JSON object.")
    unknown = sorted(set(raw) - {"Version", "Id", "Statement"})
    if unknown:
        raise _invalid(f"unknown member {unknown[0]!r}.")
    version = raw.get("Version")
    if version is not None and version not in VERSIONS:
        raise _invalid(f"Version must be one of {', '.join(VERSIONS)}.")
    if "Id" in raw and not isinstance(raw["Id"], str):
        raise _invalid("Id must be a string.")
    statements = raw.get("Statement")
    if statements is None:
        raise _invalid("it has no Statement.")
    items: Iterable[Any] = statements if isinstance(statements, list) else [statements]
    parsed = tuple(_statement(item) for item in items)
    if not parsed:
        raise _invalid("it has no Statement.")
    sids = [s.sid for s in parsed if s.sid is not None]
    if len(sids) != len(set(sids)):
        raise _invalid("statement ids (Sid) must be unique.")
    return PolicyDocument(parsed)


@lru_cache(maxsize=1024)
def cached_policy(text: str) -> PolicyDocument:
    """Stored policies were valid when put: parse each distinct one once per process."""
    return parse_policy(text)
