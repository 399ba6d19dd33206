"""Throttling at the API edge: the `throttling` setting's buckets asked once per call.

The endpoint asks `Throttle.admit` after the signature (the bucket is the caller's account's)
and once the operation is known, before the body is parsed: a refusal costs one bucket
lookup. A refused call is answered as AWS answers it, HTTP 400 with
`{"__type": "ThrottlingException", "message": "Rate exceeded"}`, which botocore's standard
and adaptive retry modes (and the aws CLI's legacy mode) retry with back-off.

With `throttling = "off"` (the default) no `Throttle` exists and the endpoint skips the step.
An operation the policy gives no rate to never reaches the buckets. When the buckets cannot
be reached (the database is down) the call goes on: throttling protects the service, it is
not a reason to refuse a call the rest of pica could answer.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool

from pica.authority.rate_quotas import ACM, PCA, RateLimiter, RatePolicy

log = logging.getLogger("pica.api")

THROTTLING = "ThrottlingException"
RATE_EXCEEDED = "Rate exceeded"
# The served API's target prefix -> the service its quotas are listed under.
_SERVICES = {"ACMPrivateCA.": PCA, "CertificateManager.": ACM}


class Throttle:
    """The policy (which operation at what rate) over the shared buckets."""

    def __init__(self, policy: RatePolicy, limiter: RateLimiter) -> None:
        self._policy = policy
        self._limiter = limiter

    async def admit(self, target_prefix: str, account_id: str, operation: str) -> bool:
        """Whether `account_id` may call `operation` of the API served under `target_prefix`
        now (True also when the operation has no rate)."""
        service = _SERVICES.get(target_prefix, PCA)
        rate = self._policy.rate_for(service, operation)
        if rate is None:
            return True
        key = (account_id, service, operation)
        try:
            if getattr(self._limiter, "inline", False):
                # A local bucket answers in microseconds: cheaper than a thread hop.
                return self._limiter.take(key, rate)
            return await run_in_threadpool(self._limiter.take, key, rate)
        except Exception:
            log.exception("the throttling buckets cannot be reached; letting the call through")
            return True


def served_operations() -> dict[str, frozenset[str]]:
    """The operations each served API dispatches: the names a `throttling` table may use."""
    from pica.wire.awsjson import acm_dispatch, dispatch

    return {
        PCA: frozenset(name for name, _ in dispatch.DISPATCH.values()),
        ACM: frozenset(name for name, _ in acm_dispatch.DISPATCH.values()),
    }
