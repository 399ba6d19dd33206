"""What sharing and oversight store about a CA: permissions for the ACM service principal,
audit reports, and the rows an audit report is made of. Frozen values, as in `model`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pica.authority.model import RevocationReason

ACM_PRINCIPAL = "acm.amazonaws.com"


@dataclass(frozen=True)
class Permission:
    """Actions the ACM service principal may take on a CA (CreatePermission)."""

    ca_arn: str
    principal: str
    source_account: str | None
    actions: tuple[str, ...]
    created_at: datetime


class AuditReportStatus(enum.StrEnum):
    CREATING = "CREATING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class AuditReportFormat(enum.StrEnum):
    JSON = "JSON"
    CSV = "CSV"


@dataclass(frozen=True)
class AuditReport:
    """One CreateCertificateAuthorityAuditReport request and how far it got."""

    report_id: str
    ca_arn: str
    bucket: str
    key: str
    format: AuditReportFormat
    status: AuditReportStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One issued certificate as an audit report lists it. `requester_account` is the account
    that asked for it when that was not the CA's owner (a CA shared by a resource policy)."""

    serial: int
    certificate_der: bytes
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    template_arn: str
    revoked_at: datetime | None
    revocation_reason: RevocationReason | None
    requester_account: str | None
