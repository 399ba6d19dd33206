"""CreateCertificateAuthorityAuditReport and DescribeCertificateAuthorityAuditReport.

Creating a report records it as CREATING and answers at once, as AWS does; a background task
in each server process (woken by the request it handled, polling otherwise) leases reports
still to make through the database, so one node makes each, and a report whose node died is
taken over when the lease runs out. The report is streamed from the store into the object
store (`audit_report_format`), then marked SUCCESS, or FAILED when the object store refused it.

The rules of CRL buckets apply (issue 7): the bucket name must follow S3's rules, and a bucket
another account owns is refused with the permission error AWS gives; the first account to name
a bucket owns it. AWS lets a CA have one report every 30 minutes: an earlier request is
RequestInProgressException.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from pica.authority.audit_report_format import CONTENT_TYPES, report_body
from pica.authority.ca_access import Caller, load_ca
from pica.authority.model import CaStatus
from pica.authority.ports import Clock, ObjectStore, Store
from pica.authority.revocation_settings import bucket_permission_error, check_bucket_name
from pica.authority.sharing import AuditReport, AuditReportFormat, AuditReportStatus
from pica.errors import InvalidState, NotFound, PicaError, RequestInProgress

log = logging.getLogger("pica.audit")

REPORT_INTERVAL = timedelta(minutes=30)
LEASE = timedelta(minutes=10)
_NO_REPORTS = (CaStatus.CREATING, CaStatus.FAILED, CaStatus.DELETED)


def report_key(ca_arn: str, report_id: str, format: AuditReportFormat) -> str:
    return f"audit-report/{ca_arn.rsplit('/', 1)[1]}/{report_id}.{format.value.lower()}"


class AuditReportService:
    def __init__(
        self,
        store: Store,
        objects: ObjectStore,
        clock: Clock,
        wake: Callable[[], None] | None = None,
        interval: timedelta = REPORT_INTERVAL,
    ) -> None:
        self._store = store
        self._objects = objects
        self._clock = clock
        self._wake = wake
        self._interval = interval

    def create(
        self, caller: Caller, ca_arn: str, bucket: str, format: AuditReportFormat
    ) -> AuditReport:
        check_bucket_name(bucket)
        now = self._clock.now()
        report_id = str(uuid.uuid4())
        with self._store.transaction() as tx:
            # The row lock serialises concurrent requests for one CA (the rate limit's check).
            ca = load_ca(
                tx,
                caller,
                ca_arn,
                now,
                action="CreateCertificateAuthorityAuditReport",
                for_update=True,
            )
            status = ca.effective_status(now)
            if status in _NO_REPORTS:
                raise InvalidState(
                    f"The certificate authority {ca_arn} is {status}: it has no audit report."
                )
            last = tx.last_audit_report_at(ca_arn)
            if last is not None and now - last < self._interval:
                minutes = int(self._interval.total_seconds() // 60)
                raise RequestInProgress(
                    f"An audit report for {ca_arn} was created at {last.isoformat()}; a "
                    f"certificate authority can have one report every {minutes} minutes."
                )
            if tx.claim_bucket(bucket, ca.account_id, now) != ca.account_id:
                raise bucket_permission_error(bucket)
            report = AuditReport(
                report_id=report_id,
                ca_arn=ca_arn,
                bucket=bucket,
                key=report_key(ca_arn, report_id, format),
                format=format,
                status=AuditReportStatus.CREATING,
                created_at=now,
            )
            tx.insert_audit_report(report)
        if self._wake is not None:
            self._wake()
        return report

    def describe(self, caller: Caller, ca_arn: str, report_id: str) -> AuditReport:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            load_ca(tx, caller, ca_arn, now, action="DescribeCertificateAuthorityAuditReport")
            report = tx.get_audit_report(ca_arn, report_id)
        if report is None:
            raise NotFound(f"Could not find audit report {report_id} for {ca_arn}.")
        return report

    def make_due(self, limit: int = 4) -> int:
        """Make the reports this node could lease; how many it handled."""
        now = self._clock.now()
        with self._store.transaction() as tx:
            claimed = tx.claim_audit_reports(now, now + LEASE, limit)
        for report in claimed:
            status = self._make(report)
            with self._store.transaction() as tx:
                tx.finish_audit_report(report.report_id, status)
        return len(claimed)

    def _make(self, report: AuditReport) -> AuditReportStatus:
        try:
            with self._store.transaction(read_only=True) as tx:
                ca = tx.get_ca(report.ca_arn)
                if ca is None:
                    return AuditReportStatus.FAILED
                body = report_body(
                    tx.audit_entries(report.ca_arn), ca.arn, ca.account_id, report.format
                )
                self._objects.put_object_chunks(
                    report.bucket, report.key, body, content_type=CONTENT_TYPES[report.format]
                )
        except PicaError as error:
            # The cause may name server paths or the store's endpoint: for the log only.
            log.warning("audit report %s failed: %s", report.report_id, error.message)
            return AuditReportStatus.FAILED
        return AuditReportStatus.SUCCESS
