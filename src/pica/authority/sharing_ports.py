"""The store ports of sharing and oversight (permissions, resource policies, who asked for a
certificate, audit reports, the audit trail), which `ports.Transaction` includes. A module of
their own because `Transaction` must name them as bases, and a base has to exist before the class
is made."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from pica.authority.sharing import (
    AuditEntry,
    AuditRecord,
    AuditReport,
    AuditReportStatus,
    AuditSeal,
    Permission,
    StoredAuditRecord,
)


class PermissionRecords(Protocol):
    def insert_permission(self, permission: Permission) -> None:
        """Raises Conflict when (CA, principal, source account) already has one."""
        ...

    def get_permission(
        self, ca_arn: str, principal: str, source_account: str | None
    ) -> Permission | None: ...

    def list_permissions(self, ca_arn: str) -> list[Permission]:
        """The CA's permissions ordered by (principal, source account)."""
        ...

    def delete_permission(
        self, ca_arn: str, principal: str, source_account: str | None
    ) -> bool: ...


class PolicyRecords(Protocol):
    def get_policy(self, ca_arn: str) -> str | None: ...
    def put_policy(
        self, ca_arn: str, policy: str, shared_with: frozenset[str], at: datetime
    ) -> None:
        """Attach (or replace) the CA's policy; `shared_with` is the accounts (or `*`) its
        Allow statements name, kept for `list_cas_shared_with`."""
        ...

    def delete_policy(self, ca_arn: str) -> bool: ...
    def list_cas_shared_with(
        self, account_id: str, *, limit: int, after_arn: str | None = None
    ) -> list[str]:
        """ARNs (ordered, > `after_arn`, at most `limit`) of CAs of other accounts whose policy
        names `account_id` or everyone."""
        ...


class RequesterRecords(Protocol):
    def record_requester(self, ca_arn: str, serial: int, account_id: str) -> None:
        """Note that another account than the CA's owner asked for this certificate."""
        ...


class AuditReportRecords(Protocol):
    def insert_audit_report(self, report: AuditReport) -> None: ...
    def get_audit_report(self, ca_arn: str, report_id: str) -> AuditReport | None: ...
    def last_audit_report_at(self, ca_arn: str) -> datetime | None: ...
    def claim_audit_reports(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AuditReport]:
        """Lease CREATING reports no other node holds a live lease on."""
        ...

    def finish_audit_report(self, report_id: str, status: AuditReportStatus) -> None: ...
    def audit_entries(self, ca_arn: str) -> Iterator[AuditEntry]:
        """Every certificate the CA issued, ordered by issue time, streamed in batches (consume
        it inside the transaction)."""
        ...


class AuditTrailRecords(Protocol):
    def append_audit(self, record: AuditRecord) -> None:
        """Add a record, not yet sealed into the chain (one INSERT: cheap inside any write)."""
        ...

    def has_unsealed_audit(self) -> bool: ...
    def lock_audit_head(self) -> tuple[int, str]:
        """The chain's last position and hash (0 and the genesis hash when empty), locked
        until the transaction ends so that one sealer at a time extends the chain."""
        ...

    def unsealed_audit(self, limit: int) -> list[StoredAuditRecord]:
        """Committed records not yet in the chain, in insertion order."""
        ...

    def seal_audit(self, seals: Sequence[AuditSeal]) -> None:
        """Give each record its place in the chain (records sealed already are left alone);
        one call per batch, so a store can write them all in one round trip."""
        ...

    def set_audit_head(self, position: int, hash: str) -> None: ...
    def audit_head(self) -> tuple[int, str] | None:
        """The chain's last position and hash as recorded (None before the first seal)."""
        ...

    def audit_chain(self) -> Iterator[StoredAuditRecord]:
        """Sealed records in chain order, streamed (consume it inside the transaction)."""
        ...

    def list_audit(
        self,
        *,
        resource: str | None = None,
        account_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[StoredAuditRecord]:
        """Records (sealed or not) matching every filter given, in insertion order."""
        ...


class SharingRecords(
    PermissionRecords,
    PolicyRecords,
    RequesterRecords,
    AuditReportRecords,
    AuditTrailRecords,
    Protocol,
):
    """Every record family of sharing and oversight."""
