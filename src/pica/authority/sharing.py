"""What sharing and oversight store: permissions for the ACM service principal, audit reports
and the rows one is made of, and the audit trail's records. Frozen values, as in `model`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pica.authority.model import RevocationReason

ACM_PRINCIPAL = "acm.amazonaws.com"
# The hash the audit trail's first record links to.
AUDIT_GENESIS_HASH = "0" * 64
# The result of an audited action that succeeded (a refusal records its error code).
AUDIT_SUCCESS = "Success"


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


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit trail: who (account, access key) did what (the operation) on
    which resource, when, under which request id, and how it ended ("Success" or the error
    code of a refusal)."""

    at: datetime
    action: str
    result: str
    account_id: str | None = None
    access_key_id: str | None = None
    request_id: str | None = None
    resource: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class AuditSeal:
    """What sealing gives one audit record: its position in the chain, the hash of the record
    before it and its own."""

    record_id: int
    position: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class StoredAuditRecord:
    """An audit record as stored: its insertion id and, once sealed into the hash chain, its
    position, the previous record's hash and its own."""

    record_id: int
    record: AuditRecord
    position: int | None = None
    prev_hash: str | None = None
    hash: str | None = None
