"""Request-rate quotas: AWS's documented defaults per operation, and the `throttling` setting.

AWS throttles each account's calls per operation per second and answers a call over the rate
with `ThrottlingException`. pica does the same when `throttling` is not `"off"`:

- `"aws"`: the default quotas below, exactly as AWS documents them (sources in
  docs/decisions.md): the AWS Private CA "Quotas on API requests" table and its Service Quotas
  entries (the policy operations GetPolicy, PutPolicy, DeletePolicy), and the ACM user guide's
  "API rate quotas" table. An operation AWS lists no rate for is not throttled.
- a table `{operation: rate}` (TOML `[throttling]`, or `IssueCertificate=5,GetCertificate=50`
  in PICA_THROTTLING): AWS's defaults with these rates in their place. A name is an ACM Private
  CA operation, or `acm:<Operation>` for ACM's.

Each (account, service, operation) has a token bucket holding at most one second of requests
(`rate` tokens) and refilled at `rate` per second: a burst of `rate` calls passes at once, as on
AWS, and a steady stream passes at `rate`. The buckets live behind the `RateLimiter` port so
that every worker process and every node sharing a database draws from the same one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

PCA = "acm-pca"
ACM = "acm"

# AWS Private CA: requests per second per account and Region.
PCA_RATES: Mapping[str, float] = {
    "CreateCertificateAuthority": 1,
    "CreateCertificateAuthorityAuditReport": 1,
    "CreatePermission": 1,
    "DeleteCertificateAuthority": 10,
    "DeletePermission": 1,
    "DeletePolicy": 5,
    "DescribeCertificateAuthority": 20,
    "DescribeCertificateAuthorityAuditReport": 20,
    "GetCertificate": 75,
    "GetCertificateAuthorityCertificate": 20,
    "GetCertificateAuthorityCsr": 10,
    "GetPolicy": 5,
    "ImportCertificateAuthorityCertificate": 10,
    "IssueCertificate": 25,
    "ListCertificateAuthorities": 20,
    "ListPermissions": 5,
    "ListTags": 20,
    "PutPolicy": 5,
    "RestoreCertificateAuthority": 20,
    "RevokeCertificate": 20,
    "TagCertificateAuthority": 10,
    "UntagCertificateAuthority": 10,
    "UpdateCertificateAuthority": 10,
}

# ACM: requests per second per account and Region (operations not listed are not throttled).
ACM_RATES: Mapping[str, float] = {
    "AddTagsToCertificate": 5,
    "DeleteCertificate": 10,
    "DescribeCertificate": 10,
    "ExportCertificate": 5,
    "ImportCertificate": 1,
    "ListCertificates": 5,
    "ListTagsForCertificate": 10,
    "RemoveTagsFromCertificate": 5,
    "RequestCertificate": 5,
    "ResendValidationEmail": 1,
}

_OPERATION = re.compile(r"[A-Z][A-Za-z0-9]{1,63}")
OFF = "off"
AWS = "aws"


class RateLimiter(Protocol):
    """Shared token buckets: `take` spends one token of the bucket `key` when it has one."""

    def take(self, key: tuple[str, str, str], rate: float) -> bool:
        """True when the call may go on; False when the bucket (capacity `rate`, refilled at
        `rate` per second) is empty. `key` is (account id, service, operation)."""
        ...


@dataclass(frozen=True)
class RatePolicy:
    """Which operations are throttled, at what rate: `rates[(service, operation)]`."""

    rates: Mapping[tuple[str, str], float]

    def rate_for(self, service: str, operation: str) -> float | None:
        return self.rates.get((service, operation))


class RateSettingError(ValueError):
    """A `throttling` value that names no known operation or no positive rate."""


def parse_policy(
    value: str, served: Mapping[str, Collection[str]] | None = None
) -> RatePolicy | None:
    """The policy the `throttling` setting asks for; None for `"off"`.

    `value` is `"off"`, `"aws"`, a JSON object (how a TOML table reaches the settings) or
    `Operation=rate,...`. `served` (service -> the operations pica serves) refuses a name that
    is no operation; without it only the names' shape is checked. Raises `RateSettingError`
    with one line naming what is wrong.
    """
    text = value.strip()
    if text.lower() == OFF:
        return None
    defaults = {(PCA, op): rate for op, rate in PCA_RATES.items()}
    defaults.update({(ACM, op): rate for op, rate in ACM_RATES.items()})
    if text.lower() == AWS:
        return RatePolicy(defaults)
    overrides = _table(text)
    for name, raw in overrides.items():
        service, operation = (ACM, name[4:]) if name.startswith("acm:") else (PCA, name)
        known = served.get(service, ()) if served is not None else ()
        if not _OPERATION.fullmatch(operation) or (served is not None and operation not in known):
            raise RateSettingError(
                f"throttling: {name!r} is not an operation pica serves "
                f"(ACM Private CA names such as IssueCertificate, or acm:<Operation>)"
            )
        rate = _rate(name, raw)
        defaults[(service, operation)] = rate
    return RatePolicy(defaults)


def _table(text: str) -> dict[str, object]:
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise RateSettingError(f"throttling: not a JSON object: {exc}") from exc
        if not isinstance(loaded, dict):
            raise RateSettingError("throttling: expected a table of operation = rate")
        return {str(k): v for k, v in loaded.items()}
    table: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, rate = item.partition("=")
        if not sep or not name.strip():
            raise RateSettingError(
                f"throttling must be off, aws or Operation=rate,... (such as "
                f"IssueCertificate=5), not {_shown(text)}"
            )
        table[name.strip()] = rate.strip()
    if not table:
        raise RateSettingError("throttling: the table of operation = rate is empty")
    return table


def _rate(name: str, raw: object) -> float:
    try:
        rate = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        rate = math.nan
    if isinstance(raw, bool) or not math.isfinite(rate) or rate <= 0:
        raise RateSettingError(
            f"throttling: the rate of {name} must be a positive number of requests per second, "
            f"not {raw!r}"
        )
    return rate


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
