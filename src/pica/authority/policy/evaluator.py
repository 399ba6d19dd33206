"""The resource-policy evaluator: IAM's decision logic for one request on one CA.

An explicit Deny in any matching statement wins; otherwise a matching Allow allows; otherwise
the request is implicitly denied. A statement matches when its principal names the calling
account (or everyone), its Action/NotAction covers the action, its Resource/NotResource covers
the CA's ARN and every condition holds for the request's context keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from pica.authority.policy.conditions import all_match
from pica.authority.policy.document import Effect, PolicyDocument

TEMPLATE_ARN_KEY = "acm-pca:templatearn"
PRINCIPAL_ACCOUNT_KEY = "aws:principalaccount"


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class AccessRequest:
    """One account asking for one action on one CA, with the request's condition keys
    (lower-case names: IAM compares condition keys case-insensitively)."""

    account_id: str
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


def decide(policy: PolicyDocument, request: AccessRequest) -> Decision:
    context = {PRINCIPAL_ACCOUNT_KEY: request.account_id, **request.context}
    allowed = False
    for statement in policy.statements:
        if not (
            statement.principals.names_account(request.account_id)
            and statement.covers_action(request.action)
            and statement.covers_resource(request.resource)
            and all_match(statement.conditions, context)
        ):
            continue
        if statement.effect is Effect.DENY:
            return Decision.EXPLICIT_DENY
        allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def shares_with(policy: PolicyDocument, account_id: str) -> bool:
    """Whether an Allow statement names the account: the CA is then visible to it (a refused
    action is AccessDenied rather than not found)."""
    return any(
        s.effect is Effect.ALLOW and s.principals.names_account(account_id)
        for s in policy.statements
    )
