"""PutPolicy, GetPolicy and DeletePolicy: the resource policy that shares a CA with other
accounts. Only the owner manages it; the evaluator (`policy.evaluator`) and `ca_access` enforce
it on every request of another account.

PutPolicy refuses what it cannot enforce: a malformed document, an action a resource policy
cannot grant on a CA, a principal other than an account, everyone or a service, a statement
whose Resource does not name this CA (InvalidPolicyException); and a Deny naming the owner's
own account (LockoutPreventedException): pica never lets a resource policy restrict the owner,
so such a statement would only suggest a lock that is not there.
"""

from __future__ import annotations

from pica.authority.ca_access import Caller, load_ca
from pica.authority.model import CaStatus
from pica.authority.policy.document import Effect, PolicyDocument, parse_policy
from pica.authority.ports import Clock, Store
from pica.errors import InvalidPolicy, InvalidState, LockoutPrevented, NotFound


def check_policy_for(policy: PolicyDocument, ca_arn: str, owner: str) -> None:
    """Rules that need the CA: every statement must apply to it, none may deny its owner."""
    for index, statement in enumerate(policy.statements):
        name = statement.sid or f"#{index + 1}"
        if not statement.not_resources and not statement.covers_resource(ca_arn):
            raise InvalidPolicy(
                f"The resource policy is invalid: statement {name} does not name the "
                f"certificate authority {ca_arn} as its Resource."
            )
        if statement.effect is Effect.DENY and owner in statement.principals.accounts:
            raise LockoutPrevented(
                f"Statement {name} denies the certificate authority's own account {owner}; "
                "a resource policy cannot restrict the owner."
            )


class ResourcePolicyService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def put(self, caller: Caller, ca_arn: str, text: str) -> None:
        policy = parse_policy(text)
        now = self._clock.now()
        with self._store.transaction() as tx:
            ca = load_ca(tx, caller, ca_arn, now, action="PutPolicy", for_update=True)
            if ca.status is CaStatus.DELETED:
                raise InvalidState(
                    f"The certificate authority {ca_arn} is DELETED: restore it before you "
                    "attach a policy."
                )
            check_policy_for(policy, ca_arn, ca.account_id)
            tx.put_policy(ca_arn, text, policy.shared_with(), now)

    def get(self, caller: Caller, ca_arn: str) -> str:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            load_ca(tx, caller, ca_arn, now, action="GetPolicy")
            text = tx.get_policy(ca_arn)
        if text is None:
            raise NotFound(f"The certificate authority {ca_arn} has no resource policy.")
        return text

    def delete(self, caller: Caller, ca_arn: str) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            load_ca(tx, caller, ca_arn, now, action="DeletePolicy", for_update=True)
            tx.delete_policy(ca_arn)
