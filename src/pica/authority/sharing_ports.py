"""The store ports of sharing and oversight (permissions, resource policies, who asked for a
certificate, audit reports), which `ports.Transaction` includes. A module of their own because
`Transaction` must name them as bases, and a base has to exist before the class is made."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from pica.authority.sharing import AuditEntry, AuditReport, AuditReportStatus, Permission


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


class SharingRecords(
    PermissionRecords, PolicyRecords, RequesterRecords, AuditReportRecords, Protocol
):
    """Every record family of sharing and oversight."""
