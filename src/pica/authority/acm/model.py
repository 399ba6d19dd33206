"""Value types of ACM certificates, named as in botocore's `acm` model (in snake_case)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pica.authority.model import SealedKey


class CertificateStatus(enum.StrEnum):
    PENDING_VALIDATION = "PENDING_VALIDATION"
    ISSUED = "ISSUED"
    INACTIVE = "INACTIVE"
    EXPIRED = "EXPIRED"
    VALIDATION_TIMED_OUT = "VALIDATION_TIMED_OUT"
    REVOKED = "REVOKED"
    FAILED = "FAILED"


class CertificateType(enum.StrEnum):
    IMPORTED = "IMPORTED"
    PRIVATE = "PRIVATE"


class AcmKeyAlgorithm(enum.StrEnum):
    RSA_1024 = "RSA_1024"
    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    EC_prime256v1 = "EC_prime256v1"
    EC_secp384r1 = "EC_secp384r1"
    EC_secp521r1 = "EC_secp521r1"


# What RequestCertificate accepts for private certificates; the others are for imports only.
REQUESTABLE_KEY_ALGORITHMS = (
    AcmKeyAlgorithm.RSA_2048,
    AcmKeyAlgorithm.EC_prime256v1,
    AcmKeyAlgorithm.EC_secp384r1,
)


class RenewalStatus(enum.StrEnum):
    PENDING_AUTO_RENEWAL = "PENDING_AUTO_RENEWAL"
    PENDING_VALIDATION = "PENDING_VALIDATION"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


@dataclass(frozen=True)
class RenewalSummary:
    status: RenewalStatus
    updated_at: datetime
    reason: str | None = None  # a FailureReason value when FAILED


@dataclass(frozen=True)
class AcmCertificate:
    """One ACM certificate as stored. For a PRIVATE one, `ca_arn` issued it and `sealed_key` is
    its private key sealed under the key store (context: the certificate ARN); an IMPORTED one
    keeps the caller's key sealed the same way. `next_renewal_at` and `lease_until` drive
    managed renewal; `version` is the optimistic lock."""

    arn: str
    account_id: str
    type: CertificateType
    status: CertificateStatus
    domain_name: str
    subject_alternative_names: tuple[str, ...]
    key_algorithm: AcmKeyAlgorithm
    created_at: datetime
    ca_arn: str | None = None
    sealed_key: SealedKey | None = None
    certificate_pem: str | None = None
    chain_pem: str | None = None
    serial: int | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    issued_at: datetime | None = None
    imported_at: datetime | None = None
    failure_reason: str | None = None
    exported: bool = False
    renewal: RenewalSummary | None = None
    next_renewal_at: datetime | None = None
    renewal_attempts: int = 0
    lease_until: datetime | None = None
    version: int = 1

    @property
    def certificate_id(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    def effective_status(self, now: datetime) -> CertificateStatus:
        """EXPIRED once an issued certificate's NotAfter has passed, as ACM reports it."""
        if (
            self.status is CertificateStatus.ISSUED
            and self.not_after is not None
            and self.not_after <= now
        ):
            return CertificateStatus.EXPIRED
        return self.status

    @property
    def renewal_eligible(self) -> bool:
        """AWS: a private certificate is eligible once exported or in use; imported ones never
        (pica has no integrated services, so nothing is ever in use)."""
        return self.type is CertificateType.PRIVATE and self.exported
